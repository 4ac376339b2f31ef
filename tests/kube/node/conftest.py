"""Fixtures for node agent tests: a real API server per module, simulated agents per test."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, ClientConfig, load_kubeconfig
from openeks.kube.client.resources import NAMESPACES
from openeks.kube.node.agent import NodeAgent
from openeks.kube.node.config import NodeConfig
from openeks.kube.node.runtime.simulated import SimulatedRuntime
from tests.support.apiserver import ApiServerProcess

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    with ApiServerProcess(tmp_path_factory.mktemp("node-api")) as server:
        yield server


@pytest.fixture(scope="module")
def kube(api: ApiServerProcess) -> ClientConfig:
    return load_kubeconfig(api.kubeconfig)


@pytest.fixture
async def client(kube: ClientConfig) -> AsyncIterator[Client]:
    async with Client(kube) as c:
        yield c


@pytest.fixture
async def ns(client: Client) -> str:
    name = "t-" + secrets.token_hex(4)
    await client.create(
        NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    return name


AgentFactory = Callable[..., Awaitable[NodeAgent]]


@pytest.fixture
async def start_agent(kube: ClientConfig, tmp_path: Path) -> AsyncIterator[AgentFactory]:
    """Start simulated agents (`await start_agent(name=..., **config)`); all are stopped."""
    agents: list[NodeAgent] = []

    async def start(**overrides: Any) -> NodeAgent:
        name = overrides.pop("name", None) or "node-" + secrets.token_hex(4)
        runtime = overrides.pop("runtime", None)
        pod_cidr = overrides.pop("pod_cidr", "10.244.1.0/24")
        config = NodeConfig(
            client=kube,
            name=name,
            zone=overrides.pop("zone", "us-east-1a"),
            runtime="simulated",
            data_dir=overrides.pop("data_dir", tmp_path / name),
            pod_cidr=pod_cidr,
            **overrides,
        )
        agent = NodeAgent(config, runtime or SimulatedRuntime(pod_cidr, exit_delay=0.1))
        agents.append(agent)
        await agent.start()
        return agent

    yield start
    for agent in agents:
        await agent.stop()


async def eventually(
    check: Callable[[], Awaitable[Any]], timeout: float = 10.0, interval: float = 0.05
) -> Any:
    """Await `check()` until it returns something truthy (ApiErrors count as not yet)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while True:
        try:
            last = await check()
        except (ApiError, AssertionError, KeyError, IndexError, TypeError):
            last = None
        if last:
            return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
        await asyncio.sleep(interval)


def pod(name: str, node: str, **spec: Any) -> Obj:
    """A pod bound to `node`, one container `main` unless `containers` is given."""
    containers = spec.pop("containers", None) or [
        {"name": "main", "image": spec.pop("image", "busybox:1.36"), **spec.pop("container", {})}
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"nodeName": node, "containers": containers, **spec},
    }


def container_status(p: Obj, name: str = "main") -> Obj:
    for s in (p.get("status") or {}).get("containerStatuses") or ():
        if s["name"] == name:
            return dict(s)
    return {}


def condition(obj: Obj, kind: str) -> Obj:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c["type"] == kind:
            return dict(c)
    return {}
