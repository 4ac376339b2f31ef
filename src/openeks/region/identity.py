"""The region's identities: the account, IAM users and their access keys, roles, and
temporary credentials from AssumeRole.

This is what SigV4 verification looks keys up in (`credential`), what IAM and STS serve,
and what EKS access entries name. The account's own key pair (the "root" user's) is made
on first start and written to `<data-dir>/credentials` in the AWS shared-credentials
format, mode 0600, so the AWS CLI and boto3 work against the region unchanged.
"""

from __future__ import annotations

import configparser
import contextlib
import datetime
import io
import secrets
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openeks.region.state import Exists, RegionState

Doc = dict[str, Any]

_UPPER = string.ascii_uppercase + string.digits
_SECRET = string.ascii_letters + string.digits + "+/"
SESSION_SECONDS = 3600


def new_id(prefix: str, length: int = 17) -> str:
    return prefix + "".join(secrets.choice(_UPPER) for _ in range(length))


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET) for _ in range(40))


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Key:
    """An access key and whose it is (the AWS edge turns it into a SigV4 credential)."""

    access_key_id: str
    secret_access_key: str
    account_id: str
    arn: str
    user_id: str
    session_token: str | None = None
    expiration: datetime.datetime | None = None


@dataclass
class Account:
    id: str
    region: str

    @property
    def root_arn(self) -> str:
        return f"arn:aws:iam::{self.id}:root"

    def user_arn(self, name: str, path: str = "/") -> str:
        return f"arn:aws:iam::{self.id}:user{path}{name}"

    def role_arn(self, name: str, path: str = "/") -> str:
        return f"arn:aws:iam::{self.id}:role{path}{name}"


DEFAULT_ACCOUNT_ID = "000000000000"


async def load_account(
    state: RegionState, region: str, account_id: str = DEFAULT_ACCOUNT_ID
) -> Account:
    """The region's account: `account_id` on first start, kept in the state after."""
    if not (len(account_id) == 12 and account_id.isdigit()):
        raise ValueError(f"an AWS account id is 12 digits, not {account_id!r}")
    record = await state.get("account", "default")
    if record is None:
        with contextlib.suppress(Exists):
            await state.create("account", "default", {"Id": account_id})
        record = await state.get("account", "default")
    assert record is not None
    return Account(record.value["Id"], region)


class Identities:
    """Users, keys and roles, stored in the region state."""

    def __init__(self, state: RegionState, account: Account) -> None:
        self.state = state
        self.account = account

    # -- the account's own key ------------------------------------------------------
    async def ensure_root_key(self, credentials_file: Path) -> Doc:
        existing = await self.state.get("rootkeys", "default")
        if existing is None:
            key = {
                "AccessKeyId": new_id("AKIA", 16),
                "SecretAccessKey": new_secret(),
                "CreateDate": now().isoformat(),
            }
            with contextlib.suppress(Exists):
                await self.state.create("rootkeys", "default", key)
            existing = await self.state.get("rootkeys", "default")
        assert existing is not None
        write_credentials(credentials_file, existing.value, self.account.region)
        return existing.value

    # -- lookups for SigV4 --------------------------------------------------------------
    async def assume_role(self, role: Doc, session_name: str, seconds: int) -> Doc:
        """Temporary credentials for `role` (what STS AssumeRole returns)."""
        expiration = now() + datetime.timedelta(seconds=seconds)
        key_id = new_id("ASIA", 16)
        arn = f"arn:aws:sts::{self.account.id}:assumed-role/{role['RoleName']}/{session_name}"
        session = {
            "AccessKeyId": key_id,
            "SecretAccessKey": new_secret(),
            "SessionToken": secrets.token_urlsafe(96),
            "Expiration": expiration.isoformat(),
            "Arn": arn,
            "AssumedRoleId": f"{role['RoleId']}:{session_name}",
            "RoleArn": role["Arn"],
        }
        await self.state.create("sessions", key_id, session)
        return session

    async def key(self, access_key_id: str) -> Key | None:
        account = self.account
        root = await self.state.get("rootkeys", "default")
        if root is not None and root.value["AccessKeyId"] == access_key_id:
            return Key(
                access_key_id,
                root.value["SecretAccessKey"],
                account.id,
                account.root_arn,
                account.id,
            )
        key = await self.state.get("accesskeys", access_key_id)
        if key is not None and key.value.get("Status", "Active") == "Active":
            user = await self.state.get("users", key.value["UserName"])
            if user is None:
                return None
            return Key(
                access_key_id,
                key.value["SecretAccessKey"],
                account.id,
                user.value["Arn"],
                user.value["UserId"],
            )
        session = await self.state.get("sessions", access_key_id)
        if session is not None:
            expires = datetime.datetime.fromisoformat(session.value["Expiration"])
            if expires < now():
                return None
            return Key(
                access_key_id,
                session.value["SecretAccessKey"],
                account.id,
                session.value["Arn"],
                session.value["AssumedRoleId"],
                session_token=session.value["SessionToken"],
                expiration=expires,
            )
        return None


def write_credentials(path: Path, key: Doc, region: str) -> None:
    """The AWS shared-credentials file (profile `default`), mode 0600."""
    import os

    config = configparser.ConfigParser()
    config["default"] = {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
        "region": region,
    }
    buffer = io.StringIO()
    config.write(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(buffer.getvalue())
    os.chmod(path, 0o600)
