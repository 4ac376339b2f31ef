"""What the Endpoints and EndpointSlice controllers agree on: which pods back a Service,
on which port, with which address, and when the change that moved them happened.

Ports of upstream's `podutil.FindPort` (named target ports resolve through the pod's
container ports with the same protocol, restartable init containers included),
`ShouldPodBeInEndpoints`, `ShouldSetHostname`, the per-family pod IP choice,
`endpoints.RepackSubsets` (addresses grouped by identical port sets, sorted), and the
trigger-time tracker behind the `endpoints.kubernetes.io/last-change-trigger-time`
annotation.
"""

from __future__ import annotations

import datetime
from typing import Any

from openeks.kube.api import labels, meta
from openeks.kube.controllers.common import pods

Obj = dict[str, Any]

TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
HEADLESS = "service.kubernetes.io/headless"


def selects(service: Obj, pod: Obj) -> bool:
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return False
    return labels.from_set(selector).matches((pod.get("metadata") or {}).get("labels") or {})


def is_headless(service: Obj) -> bool:
    return (service.get("spec") or {}).get("clusterIP") == "None"


def find_port(pod: Obj, service_port: Obj) -> int | None:
    """The pod port a service port reaches, or None (podutil.FindPort)."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or ()) + [
        c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"
    ]
    for container in containers:
        for port in container.get("ports") or ():
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return int(port["containerPort"])
    return None


def should_be_in_endpoints(pod: Obj, include_terminating: bool) -> bool:
    if pods.is_terminal(pod):
        return False
    st = pod.get("status") or {}
    if not st.get("podIP") and not st.get("podIPs"):
        return False
    return include_terminating or not pods.is_deleting(pod)


def should_set_hostname(pod: Obj, service: Obj) -> bool:
    spec = pod.get("spec") or {}
    return bool(
        spec.get("hostname")
        and spec.get("subdomain") == service["metadata"]["name"]
        and pod["metadata"].get("namespace") == service["metadata"].get("namespace")
    )


def family_of(ip: str) -> str:
    return "IPv6" if ":" in ip else "IPv4"


def pod_ips(pod: Obj) -> list[str]:
    st = pod.get("status") or {}
    ips = [p["ip"] for p in st.get("podIPs") or () if p.get("ip")]
    if not ips and st.get("podIP"):
        ips = [st["podIP"]]
    return ips


def service_families(service: Obj) -> list[str]:
    spec = service.get("spec") or {}
    families = list(spec.get("ipFamilies") or ())
    if not families:
        cluster_ip = spec.get("clusterIP") or ""
        families = [family_of(cluster_ip) if cluster_ip not in ("", "None") else "IPv4"]
    return families


def pod_ip_for(pod: Obj, family: str) -> str | None:
    return next((ip for ip in pod_ips(pod) if family_of(ip) == family), None)


def target_ref(pod: Obj) -> Obj:
    m = pod["metadata"]
    return {"kind": "Pod", "namespace": m.get("namespace", ""), "name": m["name"], "uid": m["uid"]}


def endpoint_address(pod: Obj, service: Obj, ip: str) -> Obj:
    address: Obj = {"ip": ip}
    if should_set_hostname(pod, service):
        address["hostname"] = pod["spec"]["hostname"]
    if (pod.get("spec") or {}).get("nodeName"):
        address["nodeName"] = pod["spec"]["nodeName"]
    address["targetRef"] = target_ref(pod)
    return address


def endpoint_port(service_port: Obj, number: int) -> Obj:
    port: Obj = {"port": number, "protocol": service_port.get("protocol") or "TCP"}
    if service_port.get("name"):
        port["name"] = service_port["name"]
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def _port_key(port: Obj) -> tuple[str, int, str]:
    return (port.get("name", ""), int(port.get("port", -1)), port.get("protocol", ""))


def _address_key(address: Obj) -> tuple[str, str]:
    return (address["ip"], (address.get("targetRef") or {}).get("uid", ""))


def repack_subsets(entries: list[tuple[Obj, bool, Obj | None]]) -> list[Obj]:
    """(address, ready, port or None) entries → subsets grouping addresses that offer the
    same ports (not-ready wins over ready for one address and port); addresses, ports
    and subsets sorted so that equal inputs give equal output."""
    addresses: dict[tuple[str, str], Obj] = {}
    by_port: dict[tuple[str, int, str], dict[tuple[str, str], bool]] = {}
    ports: dict[tuple[str, int, str], Obj | None] = {}
    for address, ready, port in entries:
        port_key = _port_key(port) if port else ("", -1, "")
        addr_key = _address_key(address)
        addresses.setdefault(addr_key, address)
        ports[port_key] = port
        readiness = by_port.setdefault(port_key, {})
        readiness[addr_key] = ready and readiness.get(addr_key, True)
    groups: dict[tuple[tuple[tuple[str, str], bool], ...], list[Obj]] = {}
    for port_key, readiness in by_port.items():
        group = groups.setdefault(tuple(sorted(readiness.items())), [])
        if ports[port_key] is not None:
            group.append(ports[port_key])  # type: ignore[arg-type]
    subsets = []
    for signature, group_ports in groups.items():
        subset: Obj = {}
        ready_addresses = [addresses[k] for k, r in signature if r]
        unready_addresses = [addresses[k] for k, r in signature if not r]
        if ready_addresses:
            subset["addresses"] = ready_addresses
        if unready_addresses:
            subset["notReadyAddresses"] = unready_addresses
        if group_ports:
            subset["ports"] = sorted(group_ports, key=_port_key)
        subsets.append(subset)
    return sorted(subsets, key=_subset_key)


def _subset_key(subset: Obj) -> tuple[Any, ...]:
    first = (subset.get("addresses") or subset.get("notReadyAddresses") or [{"ip": ""}])[0]
    return (first["ip"], [_port_key(p) for p in subset.get("ports") or ()])


class TriggerTimeTracker:
    """The earliest not-yet-published change behind a service's endpoints.

    A pod's trigger time is its Ready condition's last transition, a service's its
    creation; a sync reports the oldest of those that moved since the
    previous sync of that service (upstream's TriggerTimeTracker).
    """

    def __init__(self) -> None:
        self._pods: dict[str, dict[str, datetime.datetime]] = {}
        self._services: dict[str, datetime.datetime] = {}

    def compute(self, key: str, service: Obj, selected: list[Obj]) -> datetime.datetime | None:
        seen = self._pods.get(key, {})
        current: dict[str, datetime.datetime] = {}
        earliest: datetime.datetime | None = None
        for pod in selected:
            t = _pod_trigger_time(pod)
            if t is None:
                continue
            current[pod["metadata"]["name"]] = t
            before = seen.get(pod["metadata"]["name"])
            if before is None or t > before:
                earliest = t if earliest is None else min(earliest, t)
        created = pods.time_of(service["metadata"].get("creationTimestamp"))
        before_svc = self._services.get(key)
        if before_svc is None or created > before_svc:
            earliest = created if earliest is None else min(earliest, created)
        self._pods[key] = current
        self._services[key] = created
        return earliest

    def forget(self, key: str) -> None:
        self._pods.pop(key, None)
        self._services.pop(key, None)


def _pod_trigger_time(pod: Obj) -> datetime.datetime | None:
    ready = pods.condition(pod, "Ready")
    if ready and ready.get("lastTransitionTime"):
        return meta.parse_time(ready["lastTransitionTime"])
    return None


def format_trigger_time(t: datetime.datetime) -> str:
    """RFC3339Nano, as upstream writes the annotation."""
    text = t.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def services_for(services: list[Obj], pod: Obj) -> list[str]:
    """Keys of the services (of the pod's namespace) whose selector picks the pod."""
    return [
        f"{s['metadata']['namespace']}/{s['metadata']['name']}" for s in services if selects(s, pod)
    ]


def relevant(pod: Obj) -> tuple[Any, ...]:
    """What about a pod the endpoint controllers publish; other changes are ignored."""
    m, spec, st = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    return (
        m.get("labels"),
        bool(m.get("deletionTimestamp")),
        st.get("phase"),
        st.get("podIP"),
        st.get("podIPs"),
        pods.is_ready(pod),
        spec.get("hostname"),
        spec.get("subdomain"),
        spec.get("nodeName"),
        [c.get("ports") for c in spec.get("containers") or ()],
    )
