"""Emptying a terminating namespace: upstream's `namespacedResourcesDeleter`.

Every namespaced resource the API serves (found through discovery, CRDs included) is
deleted with one DELETE on the collection where the resource supports
`deletecollection`, otherwise object by object, both with Background propagation. Then
the namespace is listed again (metadata only): what remains, and which finalizers hold
it, becomes the estimate of how long to wait and the namespace's status conditions,
with upstream's condition types, reasons and messages, so `kubectl describe namespace`
explains a namespace stuck in Terminating exactly as it would on a real cluster.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.client import Client, resource_path
from openeks.kube.client.resources import PODS
from openeks.kube.controllers.common.discovery import Discovery, discover
from openeks.kube.controllers.common.metadata import MetadataClient

Obj = dict[str, Any]

FINALIZER_ESTIMATE = 15
"""Seconds to wait for objects held by finalizers (upstream's finalizerEstimateSeconds)."""

CONDITION_TYPES = (
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
)
OK = {
    "NamespaceDeletionDiscoveryFailure": (
        "ResourcesDiscovered",
        "All resources successfully discovered",
    ),
    "NamespaceDeletionGroupVersionParsingFailure": (
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
    ),
    "NamespaceDeletionContentFailure": (
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    ),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": (
        "ContentHasNoFinalizers",
        "All content-preserving finalizers finished",
    ),
}
_BACKGROUND = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}


@dataclass
class Outcome:
    """What one pass over a namespace's content found."""

    estimate: int = 0
    discovery_error: str = ""
    content_errors: list[str] = field(default_factory=list)
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)
    """condition type → (reason, message) for the conditions that are True."""

    @property
    def errors(self) -> list[str]:
        return ([self.discovery_error] if self.discovery_error else []) + self.content_errors


def gvr_text(info: ResourceInfo) -> str:
    """schema.GroupVersionResource.String()."""
    return f"{info.group}/{info.version}, Resource={info.plural}"


class ContentDeleter:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.metadata = MetadataClient(client)
        self._no_collection: set[tuple[str, str]] = set()

    async def delete_all(self, namespace: Obj, now: datetime.datetime) -> Outcome:
        out = Outcome()
        found = await self._discover(out)
        name = namespace["metadata"]["name"]
        deleted_at = pods_time(namespace["metadata"].get("deletionTimestamp"), now)
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        for info in found.preferred(namespaced=True, verbs=("delete",)):
            try:
                estimate, items = await self._delete_resource(info, name, deleted_at, now)
            except ApiError as e:
                out.content_errors.append(e.message or str(e))
                continue
            out.estimate = max(out.estimate, estimate)
            if not items:
                continue
            remaining[f"{info.plural}.{info.group}"] = len(items)
            held = _count_finalizers(items)
            for f, n in held.items():
                finalizers[f] = finalizers.get(f, 0) + n
            if estimate == 0 and held:
                out.estimate = max(out.estimate, FINALIZER_ESTIMATE)
            elif estimate == 0:
                out.content_errors.append(
                    f"unexpected items still remain in namespace: {name} for gvr: {gvr_text(info)}"
                )
        self._record_totals(out, remaining, finalizers)
        return out

    async def _discover(self, out: Outcome) -> Discovery:
        try:
            found = await discover(self.client)
        except ApiError as e:
            found = Discovery(failed={"": e.message})
            out.discovery_error = e.message
            out.failures["NamespaceDeletionDiscoveryFailure"] = ("DiscoveryFailed", e.message)
            return found
        if found.failed:
            message = found.error_message()
            out.discovery_error = message
            out.failures["NamespaceDeletionDiscoveryFailure"] = (
                "DiscoveryFailed",
                f"Discovery failed for some groups, {len(found.failed)} failing: {message}",
            )
        return found

    async def _delete_resource(
        self,
        info: ResourceInfo,
        namespace: str,
        deleted_at: datetime.datetime,
        now: datetime.datetime,
    ) -> tuple[int, list[Obj]]:
        estimate = 0
        if info.group == "" and info.plural == "pods":
            estimate = await self._pod_estimate(namespace, deleted_at, now)
        if not await self._delete_collection(info, namespace):
            await self._delete_each(info, namespace)
        if "list" not in info.verbs:
            return estimate, []
        listed = await self.metadata.list(info, namespace)
        return estimate, list(listed.get("items") or ())

    async def _pod_estimate(
        self, namespace: str, deleted_at: datetime.datetime, now: datetime.datetime
    ) -> int:
        listed = await self.client.list(PODS, namespace)
        estimate = 0
        for pod in listed.get("items") or ():
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
            if grace is not None:
                estimate = max(estimate, int(grace))
        if (now - deleted_at).total_seconds() >= estimate:
            return 0
        return estimate

    async def _delete_collection(self, info: ResourceInfo, namespace: str) -> bool:
        key = (info.group, info.plural)
        if "deletecollection" not in info.verbs or key in self._no_collection:
            return False
        try:
            await self.client.request("DELETE", resource_path(info, namespace), body=_BACKGROUND)
        except ApiError as e:
            if e.code in (404, 405):
                self._no_collection.add(key)
                return False
            raise
        return True

    async def _delete_each(self, info: ResourceInfo, namespace: str) -> None:
        if "list" not in info.verbs:
            return
        listed = await self.metadata.list(info, namespace)
        for item in listed.get("items") or ():
            try:
                await self.client.delete(
                    info, item["metadata"]["name"], namespace, propagation="Background"
                )
            except ApiError as e:
                if e.code not in (404, 405):
                    raise

    @staticmethod
    def _record_totals(out: Outcome, remaining: dict[str, int], finalizers: dict[str, int]) -> None:
        if remaining:
            text = ", ".join(
                sorted(f"{r} has {n} resource instances" for r, n in remaining.items())
            )
            out.failures["NamespaceContentRemaining"] = (
                "SomeResourcesRemain",
                f"Some resources are remaining: {text}",
            )
        if finalizers:
            text = ", ".join(
                sorted(f"{f} in {n} resource instances" for f, n in finalizers.items())
            )
            out.failures["NamespaceFinalizersRemaining"] = (
                "SomeFinalizersRemain",
                f"Some content in the namespace has finalizers remaining: {text}",
            )
        errors = out.content_errors
        if errors:
            out.failures["NamespaceDeletionContentFailure"] = (
                "ContentDeletionFailed",
                f"Failed to delete all resource types, {len(errors)} remaining: "
                + ", ".join(sorted(errors)),
            )


def pods_time(value: str | None, default: datetime.datetime) -> datetime.datetime:
    return meta.parse_time(value) if value else default


def _count_finalizers(items: list[Obj]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        for f in (item.get("metadata") or {}).get("finalizers") or ():
            counts[f] = counts.get(f, 0) + 1
    return counts


def update_conditions(status: Obj, failures: dict[str, tuple[str, str]], now: str) -> bool:
    """Set all five deletion conditions (the failing ones True, the rest their OK form);
    lastTransitionTime moves only with the status. Returns whether anything changed."""
    conditions: list[Obj] = status.setdefault("conditions", [])
    changed = False
    for type_ in CONDITION_TYPES:
        value = "True" if type_ in failures else "False"
        reason, message = failures.get(type_) or OK[type_]
        old = next((c for c in conditions if c.get("type") == type_), None)
        if old is None:
            conditions.append(
                {
                    "type": type_,
                    "status": value,
                    "lastTransitionTime": now,
                    "reason": reason,
                    "message": message,
                }
            )
            changed = True
        elif (old.get("status"), old.get("reason"), old.get("message")) != (value, reason, message):
            if old.get("status") != value:
                old["lastTransitionTime"] = now
            old.update(status=value, reason=reason, message=message)
            changed = True
    return changed
