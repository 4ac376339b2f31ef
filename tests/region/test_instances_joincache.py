"""Join decisions of one role are asked once and shared, refusals never kept."""

from __future__ import annotations

import asyncio

from openeks.region.instances.joincache import JoinCache

ROLE = "arn:aws:sts::000000000000:assumed-role/eks-node"


class Mapping:
    """A cluster that maps the node role (or refuses, once `refuse` is set)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.refuse = False

    async def __call__(self, cluster: str, caller: str, node: str) -> tuple[str, list[str]] | None:
        self.calls.append(node)
        await asyncio.sleep(0.01)
        if self.refuse:
            return None
        return f"system:node:{node}", ["system:bootstrappers", "system:nodes"]


async def test_concurrent_instances_of_a_role_share_one_answer_with_their_own_names() -> None:
    mapping = Mapping()
    cache = JoinCache(mapping)
    nodes = [f"ip-172-31-0-{i}.ec2.internal" for i in range(5, 55)]
    answers = await asyncio.gather(*(cache("c", f"{ROLE}/i-{i}", n) for i, n in enumerate(nodes)))
    assert len(mapping.calls) == 1
    assert [a[0] for a in answers if a] == [f"system:node:{n}" for n in nodes]
    assert all(a and "system:nodes" in a[1] for a in answers)
    assert await cache("c", f"{ROLE}/i-later", "ip-later") == (
        "system:node:ip-later",
        ["system:bootstrappers", "system:nodes"],
    )
    assert len(mapping.calls) == 1
    await cache("other-cluster", f"{ROLE}/i-1", "n")
    assert len(mapping.calls) == 2


async def test_refusals_are_asked_again_and_answers_expire() -> None:
    mapping = Mapping()
    mapping.refuse = True
    cache = JoinCache(mapping, ttl=0.05)
    assert await cache("c", f"{ROLE}/i-1", "a") is None
    assert await cache("c", f"{ROLE}/i-2", "b") is None
    assert mapping.calls == ["a", "b"]
    mapping.refuse = False
    assert await cache("c", f"{ROLE}/i-3", "c") is not None
    await asyncio.sleep(0.06)
    mapping.refuse = True
    assert await cache("c", f"{ROLE}/i-4", "d") is None
    assert mapping.calls == ["a", "b", "c", "d"]
