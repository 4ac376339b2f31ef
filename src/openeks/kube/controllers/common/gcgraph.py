"""The garbage collector's dependency graph: who owns whom, by uid, over all resources.

A port of upstream's GraphBuilder bookkeeping (`processGraphChanges`): every object seen
by the metadata informers is a node; its ownerReferences are edges to owner nodes,
created "virtual" when the owner has not been seen (yet), to be verified against the
API. Observing and forgetting objects returns `Work`: the nodes the collector must look
at (`attempt_to_delete`) and the owners whose dependents must be orphaned. The graph is
changed only from informer callbacks and the collector's workers, all on one event
loop, so it needs no locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


@dataclass(eq=False)
class Node:
    uid: str
    api_version: str
    kind: str
    namespace: str
    name: str
    owners: list[Obj] = field(default_factory=list)
    """The object's ownerReferences, as last observed."""
    dependents: set[Node] = field(default_factory=set)
    virtual: bool = False
    """Referenced as an owner but not (yet) observed through an informer."""
    being_deleted: bool = False
    deleting_dependents: bool = False
    """Foreground deletion in progress: dependents go first."""

    def blocking_dependents(self) -> list[Node]:
        """Dependents whose reference to this node has blockOwnerDeletion: true."""
        return [
            d
            for d in self.dependents
            if any(r.get("uid") == self.uid and r.get("blockOwnerDeletion") for r in d.owners)
        ]

    def describe(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name} ({self.uid})"


@dataclass
class Work:
    delete: list[Node] = field(default_factory=list)
    orphan: list[Node] = field(default_factory=list)

    def extend(self, other: Work) -> None:
        self.delete += other.delete
        self.orphan += other.orphan


def _deleting_with(m: Obj | None, finalizer: str) -> bool:
    return bool(m and m.get("deletionTimestamp") and finalizer in (m.get("finalizers") or ()))


class Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def __len__(self) -> int:
        return len(self.nodes)

    def observe(self, api_version: str, kind: str, new: Obj, old: Obj | None = None) -> Work:
        """An add or update event for an object of `kind` (metadata in `new`)."""
        work = Work()
        m = new["metadata"]
        refs = list(m.get("ownerReferences") or ())
        node = self.nodes.get(m["uid"])
        if node is None:
            node = Node(m["uid"], api_version, kind, m.get("namespace", ""), m["name"], refs)
            self.nodes[node.uid] = node
            self._link(node, refs, work)
        else:
            if node.virtual:
                node.virtual = False
                node.api_version, node.kind = api_version, kind
                node.namespace, node.name = m.get("namespace", ""), m["name"]
            self._update_owners(node, refs, work)
        node.being_deleted = node.being_deleted or bool(m.get("deletionTimestamp"))
        self._transitions((old or {}).get("metadata"), m, node, work)
        return work

    def forget(self, uid: str) -> Work:
        """The object is gone (delete event, or the API said it does not exist)."""
        work = Work()
        node = self.nodes.pop(uid, None)
        if node is None:
            return work
        for ref in node.owners:
            owner = self.nodes.get(ref.get("uid", ""))
            if owner is None:
                continue
            owner.dependents.discard(node)
            if owner.deleting_dependents:
                work.delete.append(owner)
        work.delete += list(node.dependents)
        return work

    def _link(self, node: Node, refs: list[Obj], work: Work) -> None:
        for ref in refs:
            owner = self.nodes.get(ref.get("uid", ""))
            if owner is None:
                owner = Node(
                    ref.get("uid", ""),
                    ref.get("apiVersion", ""),
                    ref.get("kind", ""),
                    node.namespace,
                    ref.get("name", ""),
                    virtual=True,
                )
                self.nodes[owner.uid] = owner
                work.delete.append(owner)
            owner.dependents.add(node)

    def _unlink(self, node: Node, refs: list[Obj]) -> None:
        for ref in refs:
            owner = self.nodes.get(ref.get("uid", ""))
            if owner is not None:
                owner.dependents.discard(node)

    def _update_owners(self, node: Node, refs: list[Obj], work: Work) -> None:
        old = {r.get("uid"): r for r in node.owners}
        new = {r.get("uid"): r for r in refs}
        if old == new:
            return
        removed = [r for uid, r in old.items() if uid not in new]
        added = [r for uid, r in new.items() if uid not in old]
        unblocked = [
            r
            for uid, r in old.items()
            if r.get("blockOwnerDeletion")
            and (uid not in new or not new[uid].get("blockOwnerDeletion"))
        ]
        for ref in unblocked:
            owner = self.nodes.get(ref.get("uid", ""))
            if owner is not None and owner.deleting_dependents:
                work.delete.append(owner)
        node.owners = refs
        self._link(node, added, work)
        self._unlink(node, removed)

    def _transitions(self, old: Obj | None, new: Obj, node: Node, work: Work) -> None:
        if _deleting_with(new, ORPHAN) and not _deleting_with(old, ORPHAN):
            work.orphan.append(node)
            return
        if _deleting_with(new, FOREGROUND) and not _deleting_with(old, FOREGROUND):
            node.deleting_dependents = True
            node.being_deleted = True
            work.delete += list(node.dependents)
            work.delete.append(node)
