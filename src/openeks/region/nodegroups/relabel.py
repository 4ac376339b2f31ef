"""Labels and taints of a node group, applied to its existing nodes after a ConfigUpdate.

New instances get the group's labels and taints through their user data; nodes already
there are patched, as EKS does: group labels and taints added or changed, the ones the
group dropped removed. To know which keys are the group's (and not set by someone
else), the group document remembers what was last applied (`openeks.applied`, written
by the controller at creation and after each ConfigUpdate).
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client
from openeks.kube.client.resources import NODES
from openeks.region.nodegroups.members import TAINT_EFFECTS

Doc = dict[str, Any]


def _taints(group: Doc) -> list[Doc]:
    out = []
    for taint in group.get("taints") or ():
        item = {"key": taint["key"], "effect": TAINT_EFFECTS.get(taint["effect"], taint["effect"])}
        if taint.get("value"):
            item["value"] = taint["value"]
        out.append(item)
    return out


async def relabel(client: Client, group: Doc, nodes: list[str], previous: Doc) -> None:
    """Make `nodes` carry the group's labels and taints; `previous` is what was applied
    before ({"labels": {...}, "taints": [...]})."""
    labels = dict(group.get("labels") or {})
    dropped = {k: None for k in previous.get("labels") or {} if k not in labels}
    old_keys = {(t["key"], t["effect"]) for t in previous.get("taints") or ()}
    wanted = _taints(group)
    for name in nodes:
        try:
            node = await client.get(NODES, name)
        except ApiError as e:
            if e.code == 404:
                continue
            raise
        current = node["spec"].get("taints") or []
        kept = [
            t
            for t in current
            if (t["key"], t["effect"]) not in old_keys
            and not any(w["key"] == t["key"] and w["effect"] == t["effect"] for w in wanted)
        ]
        patch = {"metadata": {"labels": {**dropped, **labels}}, "spec": {"taints": kept + wanted}}
        await client.patch(NODES, name, patch)


def applied(group: Doc) -> Doc:
    """What `relabel` applied for `group`, to be kept as `previous` for the next time."""
    return {"labels": dict(group.get("labels") or {}), "taints": _taints(group)}
