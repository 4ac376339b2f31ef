"""A region for the EKS backend tests: EKS, IAM, STS and EC2 on one endpoint over a
memory store, with the default VPC and the account's root key, served from a thread so
that real boto3 and the real AWS CLI can talk to it.

No cluster controller runs here; `EksRegion.set_status` stands in for it where a test
needs a cluster ACTIVE (or gone).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from openeks.aws.ec2 import Ec2Service
from openeks.aws.eks import EksService
from openeks.aws.iam import IamService
from openeks.aws.identity import Credential
from openeks.aws.server import make_app
from openeks.aws.sts import StsService
from openeks.region.identity import Account, Identities
from openeks.region.network import ensure_default_vpc
from openeks.region.state import RegionState
from openeks.region.zones import Region
from openeks.store import open_store
from tests.aws.conftest import AWS_CLI, ServerThread

T = TypeVar("T")
ACCOUNT = "000000000000"
REGION = "us-east-1"
EKS_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "eks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass
class Keys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


class EksRegion:
    """The endpoint, its state and clients for it. Use as a context manager."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.region = Region.create(REGION)
        self.account = Account(ACCOUNT, REGION)
        self.server: ServerThread | None = None
        self.state: RegionState
        self.identities: Identities
        self.root: Keys

    def __enter__(self) -> EksRegion:
        loop = asyncio.new_event_loop()
        store = loop.run_until_complete(open_store("memory://"))
        loop.close()
        self.state = RegionState(store)
        self.identities = Identities(self.state, self.account)
        services = {
            "eks": EksService(self.state, self.identities, self.region),
            "iam": IamService(self.state, self.identities),
            "sts": StsService(self.state, self.identities),
            "ec2": Ec2Service(self.state, self.region),
        }
        self.server = ServerThread(make_app(services, self._lookup, REGION)).__enter__()
        root = self.run(self.identities.ensure_root_key(self.home / "credentials"))
        self.root = Keys(root["AccessKeyId"], root["SecretAccessKey"])
        self.run(ensure_default_vpc(self.state, self.region, ACCOUNT))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.__exit__(*exc)

    async def _lookup(self, access_key_id: str) -> Credential | None:
        key = await self.identities.key(access_key_id)
        if key is None:
            return None
        return Credential(
            key.access_key_id,
            key.secret_access_key,
            key.account_id,
            key.arn,
            key.user_id,
            session_token=key.session_token,
            expiration=key.expiration,
        )

    # -- plumbing ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the server's loop (where the store lives)."""
        assert self.server is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.server.loop).result(timeout=30)

    def client(self, service: str, keys: Keys | None = None, *, validate: bool = True) -> Any:
        keys = keys or self.root
        session = boto3.session.Session(
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
            region_name=REGION,
        )
        config = Config(
            retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=validate
        )
        return session.client(service, endpoint_url=self.url, config=config)

    def aws(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The real AWS CLI with the root key, JSON output."""
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "credentials"),
        }
        command = [AWS_CLI, "--endpoint-url", self.url, "--region", REGION, "--output", "json"]
        return subprocess.run(
            [*command, *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    # -- region state --------------------------------------------------------------------
    def subnet_ids(self) -> list[str]:
        records = self.run(self.state.list("subnets"))
        by_zone = sorted(records, key=lambda r: r.value["AvailabilityZone"])
        return [r.value["SubnetId"] for r in by_zone]

    def document(self, kind: str, name: str) -> dict[str, Any] | None:
        record = self.run(self.state.get(kind, name))
        return None if record is None else record.value

    def put(self, kind: str, name: str, value: dict[str, Any]) -> None:
        self.run(self.state.put(kind, name, value))

    def delete(self, kind: str, name: str) -> None:
        self.run(self.state.delete(kind, name))

    def set_status(self, cluster: str, status: str, **members: Any) -> None:
        """Do what the cluster controller would: move a cluster to `status`."""

        def change(doc: dict[str, Any]) -> dict[str, Any]:
            doc["status"] = status
            doc.update(members)
            return doc

        self.run(self.state.mutate("clusters", cluster, change))

    def finish_update(self, cluster: str, update_id: str, outcome: str = "Successful") -> None:
        """Complete a version update as the controller does."""
        doc = self.document("updates", f"{cluster}/{update_id}")
        assert doc is not None
        target = next(p["value"] for p in doc["params"] if p["type"] == "Version")

        def close(update: dict[str, Any]) -> dict[str, Any]:
            update["status"] = outcome
            return update

        self.run(self.state.mutate("updates", f"{cluster}/{update_id}", close))
        version = target if outcome == "Successful" else None

        def settle(current: dict[str, Any]) -> dict[str, Any]:
            current["status"] = "ACTIVE"
            if version:
                current["version"] = version
            current["openeks"]["desiredVersion"] = current["version"]
            return current

        self.run(self.state.mutate("clusters", cluster, settle))

    # -- identities ----------------------------------------------------------------------
    def create_role(self, name: str, *, path: str = "/", trust: str = EKS_TRUST) -> str:
        iam = self.client("iam")
        role = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust)
        return str(role["Role"]["Arn"])

    def create_user(self, name: str) -> tuple[str, Keys]:
        iam = self.client("iam")
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return str(arn), Keys(key["AccessKeyId"], key["SecretAccessKey"])

    def assume(self, role_arn: str, session: str) -> Keys:
        credentials = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)[
            "Credentials"
        ]
        return Keys(
            credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
        )
