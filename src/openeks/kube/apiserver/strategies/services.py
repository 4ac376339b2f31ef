"""Services: cluster IPs from the service CIDR and node ports from 30000-32767.

Each allocated address or port is a key of its own in the store
(`/registry/ranges/serviceips/<ip>`, `/registry/ranges/servicenodeports/<port>`) created
with compare-and-swap, so two API servers on one store never hand out the same one —
the shape of upstream's newer IPAddress allocator. A create that fails after allocating
releases what it took; a delete releases what the service held.
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
from dataclasses import dataclass
from typing import Any

from openeks.kube.api import errors
from openeks.kube.api.errors import ApiError, Cause
from openeks.kube.apiserver.strategy import Strategy
from openeks.store import KeyExistsError, NotFoundError

Obj = dict[str, Any]

_IP_PREFIX = "/registry/ranges/serviceips/"
_PORT_PREFIX = "/registry/ranges/servicenodeports/"


@dataclass(frozen=True)
class ServiceNetwork:
    cidr: str = "10.100.0.0/16"
    node_ports: tuple[int, int] = (30000, 32767)

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr)

    def first_ip(self) -> str:
        return str(self.network.network_address + 1)


def _wants_cluster_ip(svc: Obj) -> bool:
    spec = svc.get("spec") or {}
    return spec.get("type", "ClusterIP") != "ExternalName" and spec.get("clusterIP") != "None"


def _wants_node_ports(svc: Obj) -> bool:
    return (svc.get("spec") or {}).get("type") in ("NodePort", "LoadBalancer")


class ServiceStrategy(Strategy):
    extra_fields = ("spec.clusterIP", "spec.type")

    def __init__(self, info: Any, network: ServiceNetwork) -> None:
        super().__init__(info)
        self.network = network

    def fields(self, obj: Obj) -> dict[str, str]:
        out = super().fields(obj)
        spec = obj.get("spec") or {}
        out["spec.clusterIP"] = spec.get("clusterIP", "")
        out["spec.type"] = spec.get("type", "")
        return out

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
        if not spec.get("clusterIP") and old_spec.get("clusterIP") and _wants_cluster_ip(new):
            spec["clusterIP"] = old_spec["clusterIP"]
            spec["clusterIPs"] = old_spec.get("clusterIPs", [old_spec["clusterIP"]])
        if _wants_node_ports(new) and _wants_node_ports(old):
            previous = {
                (p.get("port"), p.get("protocol")): p.get("nodePort")
                for p in old_spec.get("ports") or ()
            }
            for port in spec.get("ports") or ():
                if not port.get("nodePort"):
                    kept = previous.get((port.get("port"), port.get("protocol", "TCP")))
                    if kept:
                        port["nodePort"] = kept

    # -- allocation ----------------------------------------------------------------
    async def before_create(self, obj: Obj, dry_run: bool) -> None:
        await self._allocate(obj, None, dry_run)

    async def after_create_failed(self, obj: Obj) -> None:
        await self._release(obj, None)

    async def before_update(self, new: Obj, old: Obj, dry_run: bool) -> None:
        await self._allocate(new, old, dry_run)

    async def after_update(self, new: Obj, old: Obj, ok: bool) -> None:
        if ok:
            await self._release(old, new)
        else:
            await self._release(new, old)

    async def after_delete(self, obj: Obj) -> None:
        await self._release(obj, None)

    async def _allocate(self, svc: Obj, old: Obj | None, dry_run: bool) -> None:
        spec = svc.setdefault("spec", {})
        taken: list[str] = []
        try:
            if _wants_cluster_ip(svc):
                ip = spec.get("clusterIP") or ""
                held = (old or {}).get("spec", {}).get("clusterIP")
                if ip and ip == held:
                    pass
                elif ip:
                    await self._claim_ip(ip, svc, dry_run)
                    taken.append(_IP_PREFIX + ip)
                else:
                    ip = await self._any_ip(svc, dry_run)
                    taken.append(_IP_PREFIX + ip)
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
            elif spec.get("clusterIP") == "None":
                spec["clusterIPs"] = ["None"]
            if _wants_node_ports(svc):
                held_ports = {
                    p.get("nodePort") for p in ((old or {}).get("spec", {}).get("ports") or ())
                }
                for i, port in enumerate(spec.get("ports") or ()):
                    wanted = port.get("nodePort")
                    if wanted and wanted in held_ports:
                        continue
                    if wanted:
                        await self._claim_port(int(wanted), i, svc, dry_run)
                    else:
                        port["nodePort"] = await self._any_port(svc, dry_run)
                    taken.append(f"{_PORT_PREFIX}{port['nodePort']}")
        except BaseException:
            if not dry_run:
                await self._delete_keys(taken)
            raise

    def _owner(self, svc: Obj) -> bytes:
        m = svc["metadata"]
        return f"{m.get('namespace', '')}/{m.get('name', '')}".encode()

    async def _claim_ip(self, ip: str, svc: Obj, dry_run: bool) -> None:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            raise self._invalid(
                svc, "spec.clusterIPs", f'[]string{{"{ip}"}}', "must be a valid IP address"
            ) from None
        if addr not in self.network.network:
            raise self._invalid(
                svc,
                "spec.clusterIPs",
                f'[]string{{"{ip}"}}',
                f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. "
                f"The range of valid IPs is {self.network.cidr}",
            )
        if not await self._claim(_IP_PREFIX + ip, svc, dry_run):
            raise self._invalid(
                svc,
                "spec.clusterIPs",
                f'[]string{{"{ip}"}}',
                f"failed to allocate IP {ip}: provided IP is already allocated",
            )

    async def _any_ip(self, svc: Obj, dry_run: bool) -> str:
        net = self.network.network
        size = net.num_addresses - 2
        start = random.randrange(size)
        first = int(net.network_address) + 2  # .1 is the kubernetes service's
        for i in range(size - 1):
            ip = str(ipaddress.ip_address(first + (start + i) % (size - 1)))
            if await self._claim(_IP_PREFIX + ip, svc, dry_run):
                return ip
        raise ApiError(
            "Internal error occurred: failed to allocate a serviceIP: range is full",
            500,
            "InternalError",
        )

    async def _claim_port(self, port: int, index: int, svc: Obj, dry_run: bool) -> None:
        low, high = self.network.node_ports
        if not low <= port <= high:
            raise self._invalid(
                svc,
                f"spec.ports[{index}].nodePort",
                str(port),
                "provided port is not in the valid range. "
                f"The range of valid ports is {low}-{high}",
            )
        if not await self._claim(f"{_PORT_PREFIX}{port}", svc, dry_run):
            raise self._invalid(
                svc,
                f"spec.ports[{index}].nodePort",
                str(port),
                "provided port is already allocated",
            )

    async def _any_port(self, svc: Obj, dry_run: bool) -> int:
        low, high = self.network.node_ports
        span = high - low + 1
        start = random.randrange(span)
        for i in range(span):
            port = low + (start + i) % span
            if await self._claim(f"{_PORT_PREFIX}{port}", svc, dry_run):
                return port
        raise ApiError(
            "Internal error occurred: failed to allocate a nodePort: range is full",
            500,
            "InternalError",
        )

    async def _claim(self, key: str, svc: Obj, dry_run: bool) -> bool:
        assert self.registry is not None
        store = self.registry.store
        if dry_run:
            return await store.get(key) is None
        try:
            await store.create(key, self._owner(svc))
        except KeyExistsError:
            return False
        return True

    async def _release(self, svc: Obj, keep: Obj | None) -> None:
        """Free what `svc` holds and `keep` (its successor) does not."""
        keys = set(self._held(svc)) - set(self._held(keep) if keep else ())
        await self._delete_keys(sorted(keys))

    def _held(self, svc: Obj) -> list[str]:
        spec = svc.get("spec") or {}
        out = []
        if _wants_cluster_ip(svc) and spec.get("clusterIP"):
            out.append(_IP_PREFIX + spec["clusterIP"])
        if _wants_node_ports(svc):
            out += [
                f"{_PORT_PREFIX}{p['nodePort']}"
                for p in spec.get("ports") or ()
                if p.get("nodePort")
            ]
        return out

    async def _delete_keys(self, keys: list[str]) -> None:
        assert self.registry is not None
        for key in keys:
            with contextlib.suppress(NotFoundError):
                await self.registry.store.delete(key)

    def _invalid(self, svc: Obj, field: str, value: str, detail: str) -> ApiError:
        return errors.invalid(
            "Service",
            "",
            svc["metadata"].get("name", ""),
            [Cause("FieldValueInvalid", f"Invalid value: {value}: {detail}", field)],
        )
