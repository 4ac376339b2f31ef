"""The Kubernetes versions clusters can run, and the rules for moving between them.

openeks serves exactly the minors its API server has schemas for
(`openeks.kube.api.schema.served_minors()`); the newest is the default for
CreateCluster. DescribeClusterVersions reports them the way EKS does: the four newest
in standard support, older ones in extended support (openeks keeps serving them; none is
unsupported), each with the default platform version and the patch release our API
server reports.

Upgrades go one minor at a time and never backwards, with EKS's message for anything
else ("Unsupported Kubernetes minor version update from 1.35 to 1.37").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openeks.aws.eks import errors
from openeks.aws.eks.documents import PLATFORM_VERSION
from openeks.aws.eks.pagination import page
from openeks.kube.api.schema import served_minors

Doc = dict[str, Any]
STANDARD_SUPPORT_MINORS = 4
CLUSTER_TYPE = "eks"
_LEGACY_STATUS = {"STANDARD_SUPPORT": "standard-support", "EXTENDED_SUPPORT": "extended-support"}


def _minor_key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


@dataclass(frozen=True)
class Versions:
    """The served minors, oldest first ("1.25", ..., "1.37")."""

    minors: tuple[str, ...]

    @classmethod
    def served(cls) -> Versions:
        return cls(tuple(sorted(served_minors(), key=_minor_key)))

    @property
    def default(self) -> str:
        return self.minors[-1]

    def supported(self, version: str) -> bool:
        return version in self.minors

    def check_supported(self, version: str, cluster: str | None = None) -> None:
        if not self.supported(version):
            raise errors.unsupported_version(version, cluster)

    def check_upgrade(self, current: str, target: str, cluster: str) -> None:
        """Raise unless `target` is the minor right after `current`."""
        self.check_supported(target, cluster)
        (cur_major, cur_minor), (new_major, new_minor) = _minor_key(current), _minor_key(target)
        if new_major != cur_major or new_minor != cur_minor + 1:
            raise errors.unsupported_upgrade(current, target, cluster)

    def status(self, version: str) -> str:
        newest = self.minors[-STANDARD_SUPPORT_MINORS:]
        return "STANDARD_SUPPORT" if version in newest else "EXTENDED_SUPPORT"

    def information(self, version: str) -> Doc:
        """One ClusterVersionInformation."""
        status = self.status(version)
        return {
            "clusterVersion": version,
            "clusterType": CLUSTER_TYPE,
            "defaultPlatformVersion": PLATFORM_VERSION,
            "defaultVersion": version == self.default,
            "status": _LEGACY_STATUS[status],
            "versionStatus": status,
            "kubernetesPatchVersion": f"{version}.0",
        }


def _wanted(info: Doc, params: Doc) -> bool:
    if params.get("clusterType") not in (None, CLUSTER_TYPE):
        return False
    if params.get("defaultOnly") and not info["defaultVersion"]:
        return False
    wanted_versions: Sequence[str] = params.get("clusterVersions") or ()
    if wanted_versions and info["clusterVersion"] not in wanted_versions:
        return False
    if params.get("versionStatus") not in (None, info["versionStatus"]):
        return False
    return params.get("status") in (None, info["status"])


def describe_cluster_versions(versions: Versions, params: Doc) -> Doc:
    """DescribeClusterVersions: newest first, filtered and paginated."""
    infos = [versions.information(v) for v in reversed(versions.minors)]
    chosen = [info for info in infos if _wanted(info, params)]
    # Newest first: page keys are positions in this order, so they grow along the list.
    order = {info["clusterVersion"]: f"{i:04d}" for i, info in enumerate(chosen)}
    items, token = page(
        chosen,
        lambda info: order[info["clusterVersion"]],
        "cluster-versions",
        params.get("maxResults"),
        params.get("nextToken"),
    )
    result: Doc = {"clusterVersions": items}
    if token:
        result["nextToken"] = token
    return result
