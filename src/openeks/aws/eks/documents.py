"""Where EKS keeps its state in the region store, and the small helpers every operation
shares: document names, ARNs, timestamps, loading a cluster.

The region documents are the contract between this API backend and the region's
cluster controller (which acts on them); their members are the botocore output shapes'
in boto3 form, timestamps as ISO-8601 strings, plus private members the API never shows
(`openeks` on each, and `policies` on access entries):

    clusters/<name>                     the Cluster shape + "openeks": {desiredVersion, mode,
                                        creator, requestToken, requestHash,
                                        bootstrapSelfManagedAddons}
    updates/<cluster>/<update id>       the Update shape + "openeks": {requestToken,
                                        requestHash, sequence (creation time, ns)}
    accessentries/<cluster>/<entry>     the AccessEntry shape + "policies": [{policyArn,
                                        accessScope, associatedAt, modifiedAt}] +
                                        "openeks": {requestToken}
    nodegroups/<cluster>/<name>         the Nodegroup shape + "openeks": {requestToken,
                                        requestHash, runtime, desiredVersion,
                                        desiredReleaseVersion, ...} (see `nodegroups`)

`<entry>` is the unpadded URL-safe base64 of the principal ARN (`identity.entry_name`),
because ARNs hold `/` and `:`.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import secrets
from typing import Any

from openeks.aws.eks import errors
from openeks.aws.eks.identity import entry_name
from openeks.region.state import Missing, Record, RegionState

Doc = dict[str, Any]

CLUSTERS = "clusters"
UPDATES = "updates"
ACCESS_ENTRIES = "accessentries"
NODEGROUPS = "nodegroups"
ADDONS = "addons"
FARGATE_PROFILES = "fargateprofiles"

PLATFORM_VERSION = "eks.1"


def now() -> datetime.datetime:
    """The current time at millisecond precision, as AWS reports it."""
    moment = datetime.datetime.now(datetime.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def now_iso() -> str:
    return now().isoformat(timespec="milliseconds")


def cluster_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:eks:{region}:{account}:cluster/{name}"


def random_hex(length: int) -> str:
    return secrets.token_hex((length + 1) // 2)[:length]


def request_hash(params: Doc) -> str:
    """A fingerprint of a request without its idempotency token, to tell a retry of the
    same request from a different request reusing the token."""
    significant = {k: v for k, v in params.items() if k != "clientRequestToken"}
    encoded = json.dumps(significant, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def scoped(cluster: str, name: str) -> str:
    """The document name of something that belongs to a cluster."""
    return f"{cluster}/{name}"


def entry_doc_name(cluster: str, principal_arn: str) -> str:
    return scoped(cluster, entry_name(principal_arn))


async def load_cluster(state: RegionState, name: str) -> Record:
    record = await state.get(CLUSTERS, name)
    if record is None:
        raise errors.cluster_not_found(name)
    return record


async def children(state: RegionState, kind: str, cluster: str) -> list[Record]:
    """Every `kind` document that belongs to `cluster`."""
    return await state.list(kind, f"{cluster}/")


async def forget_children(state: RegionState, cluster: str) -> None:
    """Remove updates and access entries left by an earlier cluster of the same name
    (the cluster controller normally removes them with the cluster)."""
    for kind in (UPDATES, ACCESS_ENTRIES):
        for record in await children(state, kind, cluster):
            with contextlib.suppress(Missing):
                await state.delete(kind, record.name)
