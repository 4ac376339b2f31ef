"""The Deployment controller's wiring: informers, handlers, and the sync dispatch.

Handlers enqueue Deployment keys: a Deployment changed, one of its ReplicaSets changed
(or an orphan ReplicaSet its selector matches), or — for Recreate — its last old pod
went away. `reconcile` re-reads the Deployment, claims its ReplicaSets
(`ControllerRefManager`), and then, as upstream's `syncDeployment`:

- a Deployment being deleted only gets its status refreshed;
- a paused one, or one whose size changed, is scaled (`sync.py`), never rolled;
- otherwise its strategy takes a step (`rolling.py`, `recreate.py`).

`kubectl rollout undo` needs nothing special: it copies an old ReplicaSet's template
into the Deployment, and the template lookup finds that ReplicaSet again and scales it
up under a new revision number.
"""

from __future__ import annotations

import logging
from typing import Any

from openeks.kube.api import labels, meta
from openeks.kube.client import key_of
from openeks.kube.client.resources import DEPLOYMENTS, PODS, REPLICASETS
from openeks.kube.controllers.base import Controller
from openeks.kube.controllers.deployment import util
from openeks.kube.controllers.deployment.recreate import RecreateMixin
from openeks.kube.controllers.deployment.rolling import RollingMixin
from openeks.kube.controllers.deployment.sync import API_VERSION, KIND, as_event_object
from openeks.kube.controllers.util import pods as podutil
from openeks.kube.controllers.util.ownership import (
    NAMESPACE_INDEX,
    ControllerRefManager,
    controller_of,
    controller_ref,
    namespace_index,
    uid_of,
)
from openeks.kube.controllers.util.podcontrol import recorder_for

log = logging.getLogger(__name__)

Obj = dict[str, Any]


def selector_of(obj: Obj) -> labels.Selector:
    return labels.from_label_selector(util.spec(obj).get("selector"))


def selects_everything(d: Obj) -> bool:
    selector = util.spec(d).get("selector")
    return (
        selector is not None
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    )


class DeploymentController(RollingMixin, RecreateMixin, Controller):
    name = "deployment"
    workers = 5

    def setup(self) -> None:
        self.recorder = recorder_for(self.recorder, "deployment-controller")
        self.d_informer = self.informers.get(DEPLOYMENTS)
        self.rs_informer = self.informers.get(REPLICASETS)
        self.pod_informer = self.informers.get(PODS)
        for informer in (self.d_informer, self.rs_informer, self.pod_informer):
            informer.add_index(NAMESPACE_INDEX, namespace_index)
        self.d_informer.on(
            add=self._enqueue_obj,
            update=lambda _, cur: self._enqueue_obj(cur),
            delete=self._enqueue_obj,
        )
        self.rs_informer.on(add=self._rs_added, update=self._rs_updated, delete=self._rs_deleted)
        self.pod_informer.on(delete=self._pod_deleted)

    # -- handlers ----------------------------------------------------------------------------
    def _enqueue_obj(self, d: Obj) -> None:
        self.enqueue(key_of(d))

    def _resolve(self, namespace: str, ref: Obj) -> Obj | None:
        if ref.get("kind") != KIND:
            return None
        d = self.d_informer.get(f"{namespace}/{ref.get('name')}")
        if d is None or uid_of(d) != ref.get("uid"):
            return None
        return d

    def _deployments_selecting(self, rs: Obj) -> list[Obj]:
        found = []
        for d in self.d_informer.by_index(NAMESPACE_INDEX, meta.namespace_of(rs)):
            try:
                selector = selector_of(d)
            except labels.SelectorError:
                continue
            if not selector.empty and selector.matches(meta.labels_of(rs)):
                found.append(d)
        return found

    def _rs_added(self, rs: Obj) -> None:
        if podutil.is_terminating(rs):
            self._rs_deleted(rs)
            return
        ref = controller_of(rs)
        if ref is not None:
            d = self._resolve(meta.namespace_of(rs), ref)
            if d is not None:
                self.enqueue(key_of(d))
            return
        for d in self._deployments_selecting(rs):
            self.enqueue(key_of(d))

    def _rs_updated(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        cur_ref, old_ref = controller_of(cur), controller_of(old)
        if cur_ref != old_ref and old_ref is not None:
            d = self._resolve(meta.namespace_of(old), old_ref)
            if d is not None:
                self.enqueue(key_of(d))
        if cur_ref is not None:
            d = self._resolve(meta.namespace_of(cur), cur_ref)
            if d is not None:
                self.enqueue(key_of(d))
            return
        if meta.labels_of(old) != meta.labels_of(cur) or cur_ref != old_ref:
            for d in self._deployments_selecting(cur):
                self.enqueue(key_of(d))

    def _rs_deleted(self, rs: Obj) -> None:
        ref = controller_of(rs)
        if ref is None:
            return
        d = self._resolve(meta.namespace_of(rs), ref)
        if d is not None:
            self.enqueue(key_of(d))

    def _pod_deleted(self, pod: Obj) -> None:
        """Recreate waits for the last old pod to go; wake it then."""
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.rs_informer.get(f"{meta.namespace_of(pod)}/{ref.get('name')}")
        rs_ref = controller_of(rs) if rs is not None and uid_of(rs) == ref.get("uid") else None
        d = self._resolve(meta.namespace_of(pod), rs_ref) if rs_ref else None
        if d is None or not util.is_recreate(d):
            return
        rs_list = [
            r
            for r in self.rs_informer.by_index(NAMESPACE_INDEX, meta.namespace_of(d))
            if (controller_of(r) or {}).get("uid") == uid_of(d)
        ]
        if not any(self._pod_map(d, rs_list).values()):
            self.enqueue(key_of(d))

    # -- sync --------------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        cached = self.d_informer.get(key)
        if cached is None:
            return
        d = meta.deep_copy(cached)
        if selects_everything(d):
            await self._refuse_selecting_all(d)
            return
        rs_list = await self._claim_replica_sets(d)
        pod_map = self._pod_map(d, rs_list)
        if podutil.is_terminating(d):
            new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(d, rs_list, False)
            await self.sync_deployment_status([*old_rss, new_rs], new_rs, d)
            return
        await self.check_paused_conditions(d)
        if util.spec(d).get("paused"):
            await self.sync(d, rs_list)
            return
        if await self.is_scaling_event(d, rs_list):
            await self.sync(d, rs_list)
            return
        if util.is_recreate(d):
            await self.rollout_recreate(d, rs_list, pod_map)
        else:
            await self.rollout_rolling(d, rs_list)

    async def _refuse_selecting_all(self, d: Obj) -> None:
        await self.recorder.event(
            as_event_object(d),
            "Warning",
            "SelectingAll",
            "This deployment is selecting all pods. A non-empty selector is required.",
        )
        status = d.setdefault("status", {})
        generation = int(d["metadata"].get("generation") or 0)
        if int(status.get("observedGeneration") or 0) < generation:
            status["observedGeneration"] = generation
            await self.update_deployment_status(d)

    async def _claim_replica_sets(self, d: Obj) -> list[Obj]:
        try:
            selector = selector_of(d)
        except labels.SelectorError as e:
            log.warning("deployment %s has an invalid selector: %s", key_of(d), e)
            return []
        manager = ControllerRefManager(
            self.client,
            REPLICASETS,
            d,
            DEPLOYMENTS,
            controller_ref(d, API_VERSION, KIND),
            selector,
        )
        return await manager.claim(self.rs_informer.by_index(NAMESPACE_INDEX, meta.namespace_of(d)))

    def _pod_map(self, d: Obj, rs_list: list[Obj]) -> dict[str, list[Obj]]:
        """Pods the Deployment selects, by the UID of the ReplicaSet controlling them."""
        pod_map: dict[str, list[Obj]] = {uid_of(rs): [] for rs in rs_list}
        try:
            selector = selector_of(d)
        except labels.SelectorError:
            return pod_map
        for pod in self.pod_informer.by_index(NAMESPACE_INDEX, meta.namespace_of(d)):
            if not selector.matches(meta.labels_of(pod)):
                continue
            ref = controller_of(pod)
            if ref is not None and ref.get("uid") in pod_map:
                pod_map[str(ref["uid"])].append(pod)
        return pod_map
