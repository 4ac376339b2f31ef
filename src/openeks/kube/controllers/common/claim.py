"""Which pods a controller owns: upstream's `PodControllerRefManager.ClaimPods`.

A pod controlled by the owner stays if the selector still matches and is released
(its reference removed) if not, unless the owner is being deleted; an orphan that
matches is adopted — after an uncached read confirms the owner still exists and is not
being deleted — by a strategic merge patch adding the controller reference (and any
finalizers the owner's pods must carry), guarded by the pod's uid.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from openeks.kube.api import labels
from openeks.kube.api.errors import ApiError
from openeks.kube.controllers.common import pods as podutil
from openeks.kube.controllers.common.podcontrol import PodControl

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class PodClaimer:
    def __init__(
        self,
        pod_control: PodControl,
        kind: str,
        api_version: str,
        fresh: Callable[[Obj], Awaitable[Obj | None]],
        finalizers: tuple[str, ...] = (),
    ) -> None:
        self.pod_control = pod_control
        self.kind = kind
        self.api_version = api_version
        self.fresh = fresh
        """Reads the owner from the API (not the cache) before an adoption."""
        self.finalizers = finalizers

    async def claim(self, owner: Obj, candidates: list[Obj]) -> list[Obj]:
        m = owner["metadata"]
        selector = labels.from_label_selector((owner.get("spec") or {}).get("selector"))
        claimed: list[Obj] = []
        for pod in candidates:
            ref = podutil.controller_of(pod)
            matches = selector.matches(pod["metadata"].get("labels") or {})
            if ref is not None:
                if ref.get("uid") != m["uid"]:
                    continue
                if matches:
                    claimed.append(pod)
                elif not m.get("deletionTimestamp"):
                    await self._release(owner, pod)
                continue
            if not matches or m.get("deletionTimestamp") or podutil.is_deleting(pod):
                continue
            if await self._adopt(owner, pod):
                adopted = {**pod, "metadata": dict(pod["metadata"])}
                adopted["metadata"]["finalizers"] = [
                    *(pod["metadata"].get("finalizers") or ()),
                    *(
                        f
                        for f in self.finalizers
                        if f not in (pod["metadata"].get("finalizers") or ())
                    ),
                ]
                claimed.append(adopted)
        return claimed

    async def _adopt(self, owner: Obj, pod: Obj) -> bool:
        try:
            fresh = await self.fresh(owner)
        except ApiError:
            return False
        if (
            fresh is None
            or fresh["metadata"]["uid"] != owner["metadata"]["uid"]
            or fresh["metadata"].get("deletionTimestamp")
        ):
            return False
        patch: Obj = {
            "metadata": {
                "ownerReferences": [podutil.controller_ref(owner, self.kind, self.api_version)],
                "uid": pod["metadata"]["uid"],
            }
        }
        if self.finalizers:
            patch["metadata"]["finalizers"] = list(self.finalizers)
        try:
            return await self.pod_control.patch(pod, patch)
        except ApiError:
            return False

    async def _release(self, owner: Obj, pod: Obj) -> None:
        patch = {
            "metadata": {
                "ownerReferences": [{"$patch": "delete", "uid": owner["metadata"]["uid"]}],
                "uid": pod["metadata"]["uid"],
            }
        }
        try:
            await self.pod_control.patch(pod, patch)
        except ApiError as e:
            log.info("could not release pod %s: %s", pod["metadata"]["name"], e)
