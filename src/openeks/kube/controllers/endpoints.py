"""The Endpoints controller: one Endpoints object per Service with a selector.

A port of upstream's endpoints controller. For a Service with a selector, the pods it
selects that have an IP and are not finished become addresses — ready ones in
`addresses`, others in `notReadyAddresses` (all in `addresses` with
`publishNotReadyAddresses`) — with `nodeName`, a `targetRef` to the pod and, for
headless services, the pod's `hostname` when its subdomain names the service. Each
service port is resolved per pod (named target ports through the pod's container
ports) and addresses with the same ports are packed into one subset. Labels copy the
service's (plus `service.kubernetes.io/headless` for headless services); the
`endpoints.kubernetes.io/last-change-trigger-time` annotation carries the time of the
change being published; more than 1,000 addresses are truncated and annotated
`endpoints.kubernetes.io/over-capacity: truncated`.

Services without a selector are left alone: their Endpoints are written by users (and
`default/kubernetes` by the API server). Endpoints whose Service is gone are deleted.
"""

from __future__ import annotations

import math
import time
from typing import Any

from openeks.kube.api import labels, meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import EventRecorder, key_of, split_key
from openeks.kube.client.resources import ENDPOINTS, PODS, SERVICES
from openeks.kube.controllers.base import Controller, ControllerContext
from openeks.kube.controllers.common import endpointutil as eu
from openeks.kube.controllers.common import pods as podutil
from openeks.kube.controllers.common.podcontrol import namespace_terminating
from openeks.runtime import Requeue

Obj = dict[str, Any]
MAX_CAPACITY = 1000
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
NAMESPACE_INDEX = podutil.NAMESPACE_INDEX


class EndpointsController(Controller):
    name = "endpoints"
    workers = 5

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.recorder = EventRecorder(self.client, "endpoint-controller")  # upstream's event source
        self.tracker = eu.TriggerTimeTracker()
        self.written: dict[str, tuple[int, float]] = {}
        """key → (resourceVersion we wrote, when): a cache older than that is stale."""

    def setup(self) -> None:
        self.services = self.informers.get(SERVICES)
        self.pods = self.informers.get(PODS)
        self.endpoints = self.informers.get(ENDPOINTS)
        self.services.add_index(NAMESPACE_INDEX, podutil.namespace_index)
        self.pods.add_index(NAMESPACE_INDEX, podutil.namespace_index)
        self.services.on(
            add=lambda s: self.enqueue(key_of(s)),
            update=lambda old, new: self.enqueue(key_of(new)),
            delete=lambda s: self.enqueue(key_of(s)),
        )
        self.pods.on(add=self._pod, update=self._pod_updated, delete=self._pod)
        self.endpoints.on(add=self._leftover, delete=lambda ep: self._leftover(ep))

    def _pod(self, pod: Obj) -> None:
        ns = pod["metadata"].get("namespace", "")
        for key in eu.services_for(self.services.by_index(NAMESPACE_INDEX, ns), pod):
            self.enqueue(key)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if eu.relevant(old) == eu.relevant(new):
            return
        self._pod(new)
        if old["metadata"].get("labels") != new["metadata"].get("labels"):
            self._pod(old)

    def _leftover(self, endpoints: Obj) -> None:
        if LEADER_ANNOTATION not in (endpoints["metadata"].get("annotations") or {}):
            self.enqueue(key_of(endpoints))

    async def reconcile(self, key: str) -> None:
        service = self.services.get(key)
        if service is None:
            self.tracker.forget(key)
            await self._delete(key)
            return
        spec = service.get("spec") or {}
        if not spec.get("selector") or spec.get("type") == "ExternalName":
            return
        current = self.endpoints.get(key)
        if self._stale(key, current):
            raise Requeue(0.05, "endpoints cache behind our last write")
        ns = service["metadata"]["namespace"]
        selector = labels.from_set(spec["selector"])
        selected = [
            p
            for p in self.pods.by_index(NAMESPACE_INDEX, ns)
            if selector.matches(p["metadata"].get("labels") or {})
        ]
        trigger = self.tracker.compute(key, service, selected)
        subsets = eu.repack_subsets(self._entries(service, selected))
        if current is not None and not self._differs(current, service, subsets):
            return
        await self._write(service, current, subsets, trigger)

    def _stale(self, key: str, current: Obj | None) -> bool:
        """Upstream's staleEndpointsTracker: never act on a copy older than our write."""
        written = self.written.get(key)
        if written is None:
            return False
        version, when = written
        seen = int((current or {}).get("metadata", {}).get("resourceVersion") or 0)
        if seen >= version or time.monotonic() - when > 5.0:
            del self.written[key]
            return False
        return True

    def _entries(self, service: Obj, selected: list[Obj]) -> list[tuple[Obj, bool, Obj | None]]:
        spec = service["spec"]
        publish = bool(spec.get("publishNotReadyAddresses"))
        family = eu.service_families(service)[0]
        entries: list[tuple[Obj, bool, Obj | None]] = []
        for pod in selected:
            if not eu.should_be_in_endpoints(pod, publish):
                continue
            ip = eu.pod_ip_for(pod, family)
            if ip is None:
                continue
            address = eu.endpoint_address(pod, service, ip)
            ready = publish or podutil.is_ready(pod)
            ports = spec.get("ports") or []
            if not ports and eu.is_headless(service):
                entries.append((address, ready, None))
            for service_port in ports:
                number = eu.find_port(pod, service_port)
                if number is not None:
                    entries.append((address, ready, eu.endpoint_port(service_port, number)))
        return entries

    def _differs(self, current: Obj, service: Obj, subsets: list[Obj]) -> bool:
        have = dict(current["metadata"].get("labels") or {})
        have.pop(eu.HEADLESS, None)
        count = sum(
            len(s.get("addresses") or ()) + len(s.get("notReadyAddresses") or ()) for s in subsets
        )
        capacity_ok = count <= MAX_CAPACITY and OVER_CAPACITY not in (
            current["metadata"].get("annotations") or {}
        )
        return not (
            _strip_rv(current.get("subsets") or []) == subsets
            and have == (service["metadata"].get("labels") or {})
            and capacity_ok
        )

    async def _write(
        self, service: Obj, current: Obj | None, subsets: list[Obj], trigger: Any
    ) -> None:
        m = service["metadata"]
        new: Obj = (
            meta.deep_copy(current)
            if current
            else {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": m["name"], "namespace": m["namespace"]},
            }
        )
        nm = new["metadata"]
        annotations = dict(nm.get("annotations") or {})
        if trigger is not None:
            annotations[eu.TRIGGER_TIME] = eu.format_trigger_time(trigger)
        else:
            annotations.pop(eu.TRIGGER_TIME, None)
        if truncate(subsets):
            annotations[OVER_CAPACITY] = "truncated"
        else:
            annotations.pop(OVER_CAPACITY, None)
        nm["annotations"] = annotations
        nm["labels"] = dict(m.get("labels") or {})
        if eu.is_headless(service) or not (service.get("spec") or {}).get("clusterIP"):
            nm["labels"][eu.HEADLESS] = ""
        new["subsets"] = subsets
        if not subsets:
            new.pop("subsets")
        try:
            if current is None:
                written = await self.client.create(ENDPOINTS, new, m["namespace"])
            else:
                written = await self.client.update(ENDPOINTS, new)
        except ApiError as e:
            if current is None and namespace_terminating(e):
                return
            verb = "FailedToCreateEndpoint" if current is None else "FailedToUpdateEndpoint"
            what = (
                f"Failed to create endpoint for service {m['namespace']}/{m['name']}"
                if current is None
                else (f"Failed to update endpoint {m['namespace']}/{m['name']}")
            )
            await self.recorder.event(new, "Warning", verb, f"{what}: {e.message}")
            raise
        key = f"{m['namespace']}/{m['name']}"
        self.written[key] = (int(written["metadata"]["resourceVersion"]), time.monotonic())

    async def _delete(self, key: str) -> None:
        ns, name = split_key(key)
        existing = self.endpoints.get(key)
        if existing is None or LEADER_ANNOTATION in (existing["metadata"].get("annotations") or {}):
            return
        try:
            await self.client.delete(ENDPOINTS, name, ns)
        except ApiError as e:
            if e.code != 404:
                raise


def _strip_rv(subsets: list[Obj]) -> list[Obj]:
    """Compare subsets ignoring targetRef.resourceVersion, as upstream does."""
    out = meta.deep_copy(subsets)
    for subset in out:
        for field in ("addresses", "notReadyAddresses"):
            for address in subset.get(field) or ():
                (address.get("targetRef") or {}).pop("resourceVersion", None)
    return list(out)


def truncate(subsets: list[Obj]) -> bool:
    """truncateEndpoints: keep at most 1,000 addresses, ready ones first, spread over the
    subsets in proportion. Returns whether anything was cut."""
    ready = sum(len(s.get("addresses") or ()) for s in subsets)
    unready = sum(len(s.get("notReadyAddresses") or ()) for s in subsets)
    if ready + unready <= MAX_CAPACITY:
        return False
    cut_ready = ready > MAX_CAPACITY
    room = MAX_CAPACITY if cut_ready else MAX_CAPACITY - ready
    total = ready if cut_ready else unready
    left = room
    for subset in subsets:
        field = "addresses" if cut_ready else "notReadyAddresses"
        share = min(math.ceil(len(subset.get(field) or ()) / total * room), left)
        subset[field] = (subset.get(field) or [])[:share]
        if cut_ready:
            subset["notReadyAddresses"] = []
        left -= len(subset[field])
    return True
