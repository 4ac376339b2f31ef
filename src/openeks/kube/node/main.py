"""Running one node agent: choose its runtime, run until SIGTERM/SIGINT, clean up.

`run_node(config)` is what `openeks kube node` calls. The runc runtime is imported only
when asked for, so simulated nodes work on machines (and in builds) without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

from openeks.kube.node.agent import NodeAgent
from openeks.kube.node.config import RUNTIMES, NodeConfig
from openeks.kube.node.proxy import cleanup_rules
from openeks.kube.node.runtime.base import Runtime
from openeks.kube.node.runtime.simulated import SimulatedRuntime

log = logging.getLogger(__name__)


def make_runtime(config: NodeConfig) -> Runtime:
    if config.runtime == "simulated":
        return SimulatedRuntime(pod_cidr=config.pod_cidr)
    if config.runtime == "runc":
        return _runc_runtime(config)
    raise ValueError(f"unknown runtime {config.runtime!r}; choose one of {', '.join(RUNTIMES)}")


def _runc_runtime(config: NodeConfig) -> Runtime:
    """The runc runtime on a bridge for the node's pod CIDR (imported only when used)."""
    try:
        from openeks.kube.node.network import PodNetwork
        from openeks.kube.node.runtime.runc import RuncRuntime
    except ImportError as e:
        raise RuntimeError(
            f"the runc runtime is not available in this build ({e}); use --runtime simulated"
        ) from e
    if not config.pod_cidr:
        raise ValueError("the runc runtime needs a pod CIDR (--pod-cidr), e.g. 10.244.1.0/24")
    network = PodNetwork(
        config.name, config.pod_cidr, config.data_dir / "network", node_ip=config.address
    )
    return RuncRuntime(config.data_dir / "runtime", network)


async def run_node(config: NodeConfig) -> None:
    """Run a node agent until SIGTERM or SIGINT (or cancellation)."""
    runtime = make_runtime(config)
    agent = NodeAgent(config, runtime)
    task = asyncio.create_task(agent.run(), name=f"node-{config.name}")
    loop = asyncio.get_running_loop()
    stopping = False
    main_pid = os.getpid()

    def on_signal(signum: int, frame: object) -> None:
        # Not loop.add_signal_handler: pyroute2 forks helpers (netns work) that inherit
        # asyncio's signal wake-up socket, so a SIGTERM sent to a helper would reach
        # this loop and stop the agent. A plain handler, checking who it runs in, is safe.
        nonlocal stopping
        if os.getpid() != main_pid:
            os._exit(128 + signum)
        stopping = True
        loop.call_soon_threadsafe(task.cancel)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            await task
        except asyncio.CancelledError:
            if not stopping:
                raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        await runtime.close()


async def reset_node(config: NodeConfig) -> None:
    """Stop every pod a (stopped) runc node still runs and remove its network, and the
    cluster's service proxy rules unless another agent's proxy still owns them.

    Stopping an agent leaves its containers running, as stopping a kubelet does; this is
    for taking a node out for good (and for tests)."""
    if config.proxy_enabled and await cleanup_rules(config.client):
        log.info("removed the service proxy rules of %s", config.client.server)
    if config.runtime != "runc":
        return
    runtime = _runc_runtime(config)
    try:
        for sandbox in await runtime.list_sandboxes():
            with contextlib.suppress(Exception):
                await runtime.stop_sandbox(sandbox)
        cleanup = getattr(runtime, "cleanup", None)
        if cleanup is not None:
            await cleanup()
        network = getattr(runtime, "network", None)
        if network is not None:
            await network.teardown()
    finally:
        await runtime.close()
