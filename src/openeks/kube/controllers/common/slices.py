"""Planning a Service's EndpointSlices: which to create, update and delete.

The endpointslice reconciler's rules, as pure functions: endpoints are grouped by the
ports they resolve to (a pod whose named port differs lands in a slice of its own);
existing slices of a port set keep the endpoints still wanted (refreshed in place) and
drop the rest; new endpoints fill existing slices with room before new slices are
made, at most `max_per_slice` (100) each; slices left empty are deleted, except that a
Service with no endpoints at all keeps one empty placeholder slice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api import meta

Obj = dict[str, Any]

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
CONTROLLER = "endpointslice-controller.k8s.io"


@dataclass
class Plan:
    create: list[Obj] = field(default_factory=list)
    update: list[Obj] = field(default_factory=list)
    delete: list[Obj] = field(default_factory=list)


def ports_key(ports: list[Obj] | None) -> tuple[tuple[str, int, str, str], ...]:
    return tuple(
        sorted(
            (
                p.get("name") or "",
                int(p.get("port") or 0),
                p.get("protocol") or "",
                p.get("appProtocol") or "",
            )
            for p in ports or ()
        )
    )


def endpoint_key(endpoint: Obj) -> tuple[str, ...]:
    ref = endpoint.get("targetRef") or {}
    return (ref.get("uid", ""), *(endpoint.get("addresses") or ()))


def plan(
    existing: list[Obj],
    desired: dict[tuple[Any, ...], tuple[list[Obj], list[Obj]]],
    template: Obj,
    max_per_slice: int = 100,
) -> Plan:
    """`desired`: ports key → (ports, endpoints). `template`: metadata and addressType
    every slice must carry (labels, annotations, owner). Returns the writes to make."""
    result = Plan()
    placed: set[tuple[str, ...]] = set()
    kept: dict[tuple[Any, ...], list[Obj]] = {}
    for old in existing:
        key = ports_key(old.get("ports"))
        if key not in desired:
            result.delete.append(old)
            continue
        wanted = {endpoint_key(e): e for e in desired[key][1]}
        endpoints = [
            wanted[k]
            for k in (endpoint_key(e) for e in old.get("endpoints") or ())
            if k in wanted and k not in placed
        ]
        placed.update(endpoint_key(e) for e in endpoints)
        new = _with(old, template, endpoints)
        kept.setdefault(key, []).append(new)
    for key, (ports, endpoints) in desired.items():
        slices = kept.setdefault(key, [])
        pending = [e for e in endpoints if endpoint_key(e) not in placed]
        for s in slices:
            room = max_per_slice - len(s["endpoints"])
            if room > 0 and pending:
                s["endpoints"] += pending[:room]
                pending = pending[room:]
        while pending:
            chunk, pending = pending[:max_per_slice], pending[max_per_slice:]
            result.create.append(_new(template, ports, chunk))
    _sort_out(existing, kept, result)
    if not desired and not result.create and not any(kept.values()):
        _keep_placeholder(existing, template, result)
    return result


def _sort_out(existing: list[Obj], kept: dict[tuple[Any, ...], list[Obj]], result: Plan) -> None:
    by_name = {s["metadata"]["name"]: s for s in existing}
    for slices in kept.values():
        for s in slices:
            if not s["endpoints"]:
                result.delete.append(by_name[s["metadata"]["name"]])
            elif _differs(by_name[s["metadata"]["name"]], s):
                result.update.append(s)


def _keep_placeholder(existing: list[Obj], template: Obj, result: Plan) -> None:
    """No endpoints at all: one empty slice stays (or is made) as upstream's placeholder."""
    placeholder = next((s for s in existing if not s.get("ports") and not s.get("endpoints")), None)
    if placeholder is not None:
        result.delete = [s for s in result.delete if s is not placeholder]
        new = _with(placeholder, template, [])
        if _differs(placeholder, new):
            result.update.append(new)
        return
    result.create.append(_new(template, [], []))


def _new(template: Obj, ports: list[Obj], endpoints: list[Obj]) -> Obj:
    s = meta.deep_copy(template)
    s["endpoints"] = list(endpoints)
    if ports:
        s["ports"] = meta.deep_copy(ports)
    return s


def _with(old: Obj, template: Obj, endpoints: list[Obj]) -> Obj:
    new = meta.deep_copy(old)
    m = new["metadata"]
    t = template["metadata"]
    m["labels"] = dict(t.get("labels") or {})
    m["ownerReferences"] = t.get("ownerReferences")
    annotations = dict(m.get("annotations") or {})
    annotations.update(t.get("annotations") or {})
    m["annotations"] = annotations
    new["endpoints"] = list(endpoints)
    return new


def _differs(old: Obj, new: Obj) -> bool:
    def view(s: Obj) -> tuple[Any, ...]:
        m = s["metadata"]
        eps = sorted((e for e in s.get("endpoints") or ()), key=endpoint_key)
        return (m.get("labels") or {}, eps, ports_key(s.get("ports")))

    return view(old) != view(new)
