"""EKS authentication: `k8s-aws-v1.` tokens checked for a cluster's API servers.

`aws eks get-token` (and `openeks eks get-token`) make a token out of a presigned STS
GetCallerIdentity URL signed with the header `x-k8s-aws-id: <cluster>`. The cluster's
API servers send unknown tokens here as TokenReviews (their token webhook); the region
verifies the signature against the keys it knows — no call to STS, as aws-iam-
authenticator does it — and maps the principal to a Kubernetes identity through the
cluster's access entries (API modes) or its `aws-auth` ConfigMap (CONFIG_MAP modes).
Unknown principals are not authenticated (the API server answers 401).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from openeks.aws.eks.identity import (
    creator_identity,
    entry_name,
    expand_username,
    kubernetes_identity,
    matches,
    split_caller,
)
from openeks.aws.identity import Credential
from openeks.aws.sigv4 import SigV4Error, parse_auth, verify_presigned
from openeks.aws.wire import Request
from openeks.region.identity import Identities, Key
from openeks.region.state import RegionState

log = logging.getLogger(__name__)

Doc = dict[str, Any]
PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"


def credential_of(key: Key) -> Credential:
    """A region key as the SigV4 checker wants it."""
    return Credential(
        key.access_key_id,
        key.secret_access_key,
        key.account_id,
        key.arn,
        key.user_id,
        session_token=key.session_token,
        expiration=key.expiration,
    )


def _decode(token: str) -> str | None:
    if not token.startswith(PREFIX):
        return None
    data = token[len(PREFIX) :]
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


class TokenReviewer:
    def __init__(
        self, state: RegionState, identities: Identities, region: str, aws_auth: Any = None
    ) -> None:
        self.state = state
        self.identities = identities
        self.region = region
        self.aws_auth = aws_auth
        """async (cluster) -> the aws-auth ConfigMap's data, or None."""

    async def review(self, cluster: str, token: str) -> Doc:
        user = await self.authenticate(cluster, token)
        if user is None:
            return {"authenticated": False, "error": "invalid token"}
        return {"authenticated": True, "user": user}

    async def authenticate(self, cluster: str, token: str) -> Doc | None:
        url = _decode(token)
        if url is None:
            return None
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        if query.get("Action") != ["GetCallerIdentity"]:
            return None
        request = Request.from_url("GET", url, {CLUSTER_HEADER: cluster}, b"")
        auth = parse_auth(request)
        if auth is None or CLUSTER_HEADER not in auth.signed_headers:
            return None
        key = await self.identities.key(auth.access_key_id)
        credential = None if key is None else credential_of(key)
        try:
            verified = verify_presigned(
                url,
                {CLUSTER_HEADER: cluster},
                lambda _key: credential,
                datetime.datetime.now(datetime.UTC),
                regions=(self.region, "us-east-1"),
            )
        except SigV4Error as e:
            log.info("rejected a token for cluster %s: %s", cluster, e.problem.name)
            return None
        principal = verified.principal
        return await self._identity(
            cluster, principal.arn, principal.account_id, principal.user_id, auth.access_key_id
        )

    async def kubernetes_user(
        self, cluster: str, arn: str, private_dns_name: str | None = None
    ) -> tuple[str, list[str]] | None:
        """(username, groups) the cluster gives the AWS principal `arn` (as STS reports
        it): the creator, its access entry (API modes) or its aws-auth mapping
        (CONFIG_MAP modes); None when the cluster does not know it. `private_dns_name`
        fills `{{EC2PrivateDNSName}}` for nodes."""
        record = await self.state.get("clusters", cluster)
        if record is None:
            return None
        doc = record.value
        mode = (doc.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP")
        lookup_arn, session = split_caller(arn)
        found = creator_identity(doc, arn)
        if found is None and "API" in mode:
            entry = await self._entry(cluster, arn)
            if entry is not None:
                found = kubernetes_identity(entry, arn, session, private_dns_name=private_dns_name)
        if found is None and "CONFIG_MAP" in mode and self.aws_auth is not None:
            data = await self.aws_auth(cluster)
            found = _from_aws_auth(data, lookup_arn, session, private_dns_name)
        return found

    async def _identity(
        self, cluster: str, arn: str, account: str, user_id: str, key_id: str
    ) -> Doc | None:
        found = await self.kubernetes_user(cluster, arn)
        if found is None:
            return None
        _, session = split_caller(arn)
        username, groups = found
        extra = {"arn": [arn], "accessKeyId": [key_id], "principalId": [user_id]}
        if session:
            extra["sessionName"] = [session]
        return {
            "username": username,
            "uid": f"aws-iam-authenticator:{account}:{user_id}",
            "groups": list(groups),
            "extra": extra,
        }

    async def _entry(self, cluster: str, arn: str) -> Doc | None:
        """The access entry applying to `arn`: its own, else one for the same principal
        under another path (role entries may carry a path assumed-role ARNs lack)."""
        exact = await self.state.get(
            "accessentries", f"{cluster}/{entry_name(split_caller(arn)[0])}"
        )
        if exact is not None:
            return exact.value
        for record in await self.state.list("accessentries", f"{cluster}/"):
            if matches(str(record.value.get("principalArn", "")), arn):
                return record.value
        return None


def _from_aws_auth(
    data: Doc | None,
    arn: str,
    session: str | None,
    private_dns_name: str | None = None,
) -> tuple[str, list[str]] | None:
    """mapUsers / mapRoles of the aws-auth ConfigMap, as aws-iam-authenticator reads them."""
    if not data:
        return None
    for key, arn_field in (("mapUsers", "userarn"), ("mapRoles", "rolearn")):
        try:
            entries = yaml.safe_load(data.get(key) or "[]") or []
        except yaml.YAMLError:
            continue
        for entry in entries:
            if isinstance(entry, dict) and entry.get(arn_field) == arn:
                username = str(entry.get("username") or arn)
                username = expand_username(username, arn, session, private_dns_name)
                return username, [str(g) for g in entry.get("groups") or ()]
    return None
