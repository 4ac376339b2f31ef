"""What the proxy proxies: service ports and their endpoints, read from API objects.

Pure functions over Service, EndpointSlice and Endpoints dicts, following upstream's
`pkg/proxy` service and endpoint caches:

- `service_ports(svc)`: one `ServicePort` per port of a Service that has an IPv4 cluster
  IP (headless and ExternalName Services are not proxied). Its `name` is upstream's
  ServicePortName string, `ns/svc:port` (just `ns/svc` for an unnamed port).
- `slice_endpoints(slices)`: endpoints per service port name from the EndpointSlices of
  a Service (label `kubernetes.io/service-name`), IPv4 only, deduplicated by `ip:port`;
  a condition that is absent defaults as upstream does (ready → true, serving → ready,
  terminating → false).
- `endpoints_object_endpoints(obj)`: the same from a core/v1 Endpoints object; used for
  `default/kubernetes`, whose Endpoints the API server writes itself (with the
  skip-mirror label, so no EndpointSlice exists for it).
- `usable(endpoints)`: ready endpoints, or when there are none the serving-but-terminating
  ones (upstream's CategorizeEndpoints for cluster traffic).
- `build(services, slices, endpoints)`: everything above joined into `ProxiedPort`s,
  sorted so the rules come out in a stable order.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
DEFAULT_AFFINITY_SECONDS = 10800
PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int
    ready: bool = True
    serving: bool = True
    terminating: bool = False

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class ServicePort:
    namespace: str
    service: str
    port_name: str
    protocol: str
    cluster_ip: str
    port: int
    node_port: int = 0
    external_ips: tuple[str, ...] = ()
    affinity_seconds: int = 0
    """ClientIP session affinity timeout; 0 means no affinity."""

    @property
    def name(self) -> str:
        """Upstream's ServicePortName.String()."""
        base = f"{self.namespace}/{self.service}"
        return f"{base}:{self.port_name}" if self.port_name else base

    @property
    def proto(self) -> str:
        """The protocol as iptables spells it (and as upstream hashes it)."""
        return self.protocol.lower()

    @property
    def external(self) -> bool:
        """Reachable from outside the cluster IP: a NodePort or external IPs."""
        return bool(self.node_port or self.external_ips)


@dataclass(frozen=True)
class ProxiedPort:
    port: ServicePort
    endpoints: tuple[Endpoint, ...] = field(default_factory=tuple)
    """The endpoints traffic goes to (already filtered by `usable`)."""


def _ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def cluster_ipv4(svc: Obj) -> str:
    """The Service's IPv4 cluster IP, or "" (headless, ExternalName, IPv6 only)."""
    spec = svc.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return ""
    candidates = list(spec.get("clusterIPs") or []) or [spec.get("clusterIP") or ""]
    return next((ip for ip in candidates if ip != "None" and _ipv4(ip)), "")


def _affinity(spec: Obj) -> int:
    if spec.get("sessionAffinity") != "ClientIP":
        return 0
    config = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
    return int(config.get("timeoutSeconds") or DEFAULT_AFFINITY_SECONDS)


def service_ports(svc: Obj) -> list[ServicePort]:
    """The proxied ports of a Service (none for headless or ExternalName Services)."""
    ip = cluster_ipv4(svc)
    if not ip:
        return []
    meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
    external_ips = tuple(sorted({a for a in spec.get("externalIPs") or () if _ipv4(a)}))
    with_node_ports = spec.get("type") in ("NodePort", "LoadBalancer")
    out = []
    for port in spec.get("ports") or ():
        protocol = port.get("protocol") or "TCP"
        if protocol not in PROTOCOLS or not port.get("port"):
            continue
        out.append(
            ServicePort(
                namespace=meta.get("namespace", ""),
                service=meta.get("name", ""),
                port_name=port.get("name") or "",
                protocol=protocol,
                cluster_ip=ip,
                port=int(port["port"]),
                node_port=int(port.get("nodePort") or 0) if with_node_ports else 0,
                external_ips=external_ips,
                affinity_seconds=_affinity(spec),
            )
        )
    return out


# -- endpoints ---------------------------------------------------------------------------

PortKey = tuple[str, str]
"""(port name, protocol)."""


def _conditions(endpoint: Obj) -> tuple[bool, bool, bool]:
    cond = endpoint.get("conditions") or {}
    ready = cond.get("ready") is not False
    serving = cond["serving"] if cond.get("serving") is not None else ready
    return ready, bool(serving), bool(cond.get("terminating"))


def slice_endpoints(slices: Iterable[Obj]) -> dict[PortKey, list[Endpoint]]:
    """Endpoints per (port name, protocol) of one Service's EndpointSlices."""
    out: dict[PortKey, dict[str, Endpoint]] = {}
    for eps in slices:
        if eps.get("addressType", "IPv4") != "IPv4":
            continue
        for port in eps.get("ports") or ():
            number = port.get("port")
            if not number:
                continue
            key = (port.get("name") or "", port.get("protocol") or "TCP")
            found = out.setdefault(key, {})
            for endpoint in eps.get("endpoints") or ():
                ready, serving, terminating = _conditions(endpoint)
                for ip in (endpoint.get("addresses") or ())[:1]:
                    ep = Endpoint(ip, int(number), ready, serving, terminating)
                    found.setdefault(ep.address, ep)
    return {key: list(eps.values()) for key, eps in out.items()}


def endpoints_object_endpoints(obj: Obj) -> dict[PortKey, list[Endpoint]]:
    """Endpoints per (port name, protocol) of a core/v1 Endpoints object."""
    out: dict[PortKey, dict[str, Endpoint]] = {}
    for subset in obj.get("subsets") or ():
        for port in subset.get("ports") or ():
            key = (port.get("name") or "", port.get("protocol") or "TCP")
            found = out.setdefault(key, {})
            for addresses, ready in (
                (subset.get("addresses"), True),
                (subset.get("notReadyAddresses"), False),
            ):
                for address in addresses or ():
                    ep = Endpoint(address.get("ip", ""), int(port.get("port") or 0), ready, ready)
                    if ep.ip and ep.port:
                        found.setdefault(ep.address, ep)
    return {key: list(eps.values()) for key, eps in out.items()}


def usable(endpoints: Iterable[Endpoint]) -> tuple[Endpoint, ...]:
    """Ready endpoints; when none is ready, those still serving while terminating."""
    endpoints = list(endpoints)
    ready = [ep for ep in endpoints if ep.ready]
    if not ready:
        ready = [ep for ep in endpoints if ep.serving and ep.terminating]
    return tuple(sorted(ready, key=lambda ep: (ipaddress.ip_address(ep.ip), ep.port)))


def _service_of(eps: Obj) -> str:
    meta = eps.get("metadata") or {}
    name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL, "")
    return f"{meta.get('namespace', '')}/{name}" if name else ""


def build(
    services: Iterable[Obj], slices: Iterable[Obj], endpoints: Iterable[Obj] = ()
) -> list[ProxiedPort]:
    """Every proxied service port with its usable endpoints, in a stable order.

    `endpoints` are core/v1 Endpoints objects; one counts for a Service only when that
    Service has no EndpointSlice at all."""
    by_service: dict[str, list[Obj]] = {}
    for eps in slices:
        key = _service_of(eps)
        if key:
            by_service.setdefault(key, []).append(eps)
    legacy = {
        f"{(e.get('metadata') or {}).get('namespace', '')}/{e['metadata']['name']}": e
        for e in endpoints
    }
    out = []
    for svc in services:
        ports = service_ports(svc)
        if not ports:
            continue
        key = f"{ports[0].namespace}/{ports[0].service}"
        if key in by_service:
            found = slice_endpoints(by_service[key])
        elif key in legacy:
            found = endpoints_object_endpoints(legacy[key])
        else:
            found = {}
        for port in ports:
            out.append(ProxiedPort(port, usable(found.get((port.port_name, port.protocol), ()))))
    out.sort(key=lambda p: (p.port.namespace, p.port.service, p.port.port_name, p.port.proto))
    return out
