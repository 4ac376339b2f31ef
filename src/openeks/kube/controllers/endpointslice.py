"""The EndpointSlice controller: a Service's pods as EndpointSlices of at most 100.

A port of upstream's endpointslice controller. For a Service with a selector, every
selected pod that has an IP of the slice's address type (one set of slices per IP
family the service has) and has not finished is an endpoint, terminating ones
included, with conditions `ready` (ready and not terminating, or always with
`publishNotReadyAddresses`), `serving` (ready) and `terminating`, the pod's `nodeName`,
the zone label of its node, a `targetRef`, and `hostname` where the pod's subdomain
names the service. Slices are labelled `kubernetes.io/service-name` and
`endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`, carry the
service's labels and are owned by the service, so the garbage collector removes them
with it. The plan of writes comes from `common.slices`; slices managed by others are
never touched.
"""

from __future__ import annotations

import time
from typing import Any

from openeks.kube.api import labels
from openeks.kube.api.errors import ApiError
from openeks.kube.client import EventRecorder, key_of
from openeks.kube.client.resources import ENDPOINTSLICES, NODES, PODS, SERVICES
from openeks.kube.controllers.base import Controller, ControllerContext
from openeks.kube.controllers.common import endpointutil as eu
from openeks.kube.controllers.common import pods as podutil
from openeks.kube.controllers.common import slices as sl
from openeks.kube.controllers.common.podcontrol import namespace_terminating
from openeks.runtime import Requeue

Obj = dict[str, Any]
SLICE_INDEX = "endpointslice:service"
NAMESPACE_INDEX = podutil.NAMESPACE_INDEX
ZONE_LABEL = "topology.kubernetes.io/zone"
STALE_AFTER = 5.0
"""Seconds after which a write not yet seen in the cache no longer holds syncs back."""


def slice_service(s: Obj) -> list[str]:
    m = s["metadata"]
    lbls = m.get("labels") or {}
    if lbls.get(sl.MANAGED_BY) != sl.CONTROLLER or sl.SERVICE_NAME not in lbls:
        return []
    return [f"{m.get('namespace', '')}/{lbls[sl.SERVICE_NAME]}"]


class EndpointSliceController(Controller):
    name = "endpointslice"
    workers = 5
    max_endpoints_per_slice = 100

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.recorder = EventRecorder(
            self.client, "endpoint-slice-controller"
        )  # upstream's event source
        self.tracker = eu.TriggerTimeTracker()
        self.written: dict[str, dict[str, tuple[bool, float]]] = {}
        """service key → slice name → (exists after our write, when), until the cache shows it."""

    def setup(self) -> None:
        self.services = self.informers.get(SERVICES)
        self.pods = self.informers.get(PODS)
        self.nodes = self.informers.get(NODES)
        self.slices = self.informers.get(ENDPOINTSLICES)
        self.services.add_index(NAMESPACE_INDEX, podutil.namespace_index)
        self.pods.add_index(NAMESPACE_INDEX, podutil.namespace_index)
        self.pods.add_index(podutil.NODE_INDEX, podutil.node_index)
        self.slices.add_index(SLICE_INDEX, slice_service)
        self.services.on(
            add=lambda s: self.enqueue(key_of(s)),
            update=lambda old, new: self.enqueue(key_of(new)),
            delete=lambda s: self.enqueue(key_of(s)),
        )
        self.pods.on(add=self._pod, update=self._pod_updated, delete=self._pod)
        self.slices.on(
            add=self._slice, update=lambda old, new: self._slice(new), delete=self._slice
        )
        self.nodes.on(update=self._node_updated)

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

    def _slice(self, s: Obj) -> None:
        for key in slice_service(s):
            self.enqueue(key)

    def _node_updated(self, old: Obj, new: Obj) -> None:
        if (old["metadata"].get("labels") or {}).get(ZONE_LABEL) == (
            new["metadata"].get("labels") or {}
        ).get(ZONE_LABEL):
            return
        for pod in self.pods.by_index(podutil.NODE_INDEX, new["metadata"]["name"]):
            self._pod(pod)

    async def reconcile(self, key: str) -> None:
        service = self.services.get(key)
        if service is None:
            self.tracker.forget(key)
            return  # the slices are owned by the service: the garbage collector takes them
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName" or not spec.get("selector"):
            return
        if self._cache_behind(key):
            raise Requeue(0.05, "endpoint slice cache behind our writes")
        ns = service["metadata"]["namespace"]
        selector = labels.from_set(spec["selector"])
        selected = [
            p
            for p in self.pods.by_index(NAMESPACE_INDEX, ns)
            if selector.matches(p["metadata"].get("labels") or {})
        ]
        trigger = self.tracker.compute(key, service, selected)
        existing = self.slices.by_index(SLICE_INDEX, key)
        for family in eu.service_families(service):
            template = self._template(service, family, trigger)
            mine = [s for s in existing if s.get("addressType") == family]
            desired = self._desired(service, selected, family)
            await self._apply(key, sl.plan(mine, desired, template, self.max_endpoints_per_slice))
        for stale in (
            s for s in existing if s.get("addressType") not in eu.service_families(service)
        ):
            await self._delete(key, stale)

    def _cache_behind(self, key: str) -> bool:
        """Whether slices we created or deleted are not yet (or still) in the informer."""
        written = self.written.get(key)
        if not written:
            return False
        ns = key.partition("/")[0]
        now = time.monotonic()
        for name, (exists, when) in list(written.items()):
            if now - when > STALE_AFTER or (self.slices.get(f"{ns}/{name}") is not None) == exists:
                del written[name]
        return bool(written)

    def _desired(
        self, service: Obj, selected: list[Obj], family: str
    ) -> dict[Any, tuple[list[Obj], list[Obj]]]:
        desired: dict[Any, tuple[list[Obj], list[Obj]]] = {}
        for pod in selected:
            if not eu.should_be_in_endpoints(pod, True):
                continue
            ip = eu.pod_ip_for(pod, family)
            if ip is None:
                continue
            ports = self._ports(service, pod)
            group = desired.setdefault(sl.ports_key(ports), (ports, []))
            group[1].append(self._endpoint(service, pod, ip))
        return desired

    @staticmethod
    def _ports(service: Obj, pod: Obj) -> list[Obj]:
        ports = []
        for sp in (service.get("spec") or {}).get("ports") or ():
            number = eu.find_port(pod, sp)
            if number is None:
                continue
            port: Obj = {
                "name": sp.get("name") or "",
                "port": number,
                "protocol": sp.get("protocol") or "TCP",
            }
            if sp.get("appProtocol"):
                port["appProtocol"] = sp["appProtocol"]
            ports.append(port)
        return ports

    def _endpoint(self, service: Obj, pod: Obj, ip: str) -> Obj:
        serving = podutil.is_ready(pod)
        terminating = podutil.is_deleting(pod)
        publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
        endpoint: Obj = {
            "addresses": [ip],
            "conditions": {
                "ready": publish or (serving and not terminating),
                "serving": serving,
                "terminating": terminating,
            },
        }
        if eu.should_set_hostname(pod, service):
            endpoint["hostname"] = pod["spec"]["hostname"]
        endpoint["targetRef"] = eu.target_ref(pod)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name:
            endpoint["nodeName"] = node_name
            node = self.nodes.get(node_name)
            zone = ((node or {}).get("metadata", {}).get("labels") or {}).get(ZONE_LABEL)
            if zone:
                endpoint["zone"] = zone
        return endpoint

    @staticmethod
    def _template(service: Obj, family: str, trigger: Any) -> Obj:
        m = service["metadata"]
        lbls = {**(m.get("labels") or {}), sl.SERVICE_NAME: m["name"], sl.MANAGED_BY: sl.CONTROLLER}
        if eu.is_headless(service):
            lbls[eu.HEADLESS] = ""
        meta_: Obj = {
            "generateName": f"{m['name']}-",
            "namespace": m["namespace"],
            "labels": lbls,
            "ownerReferences": [podutil.controller_ref(service, "Service", "v1")],
        }
        if trigger is not None:
            meta_["annotations"] = {eu.TRIGGER_TIME: eu.format_trigger_time(trigger)}
        return {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": meta_,
            "addressType": family,
        }

    async def _apply(self, key: str, plan: sl.Plan) -> None:
        for s in plan.update:
            await self.client.update(ENDPOINTSLICES, s)
        for s in plan.create:
            try:
                made = await self.client.create(ENDPOINTSLICES, s, s["metadata"]["namespace"])
            except ApiError as e:
                if namespace_terminating(e):
                    return
                raise
            self.written.setdefault(key, {})[made["metadata"]["name"]] = (True, time.monotonic())
        for s in plan.delete:
            await self._delete(key, s)

    async def _delete(self, key: str, s: Obj) -> None:
        try:
            await self.client.delete(
                ENDPOINTSLICES, s["metadata"]["name"], s["metadata"]["namespace"]
            )
        except ApiError as e:
            if e.code != 404:
                raise
        self.written.setdefault(key, {})[s["metadata"]["name"]] = (False, time.monotonic())
