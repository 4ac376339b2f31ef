"""Running one node agent: choose its runtime, run until SIGTERM/SIGINT, clean up.

`run_node(config)` is what `openeks kube node` calls. The runc runtime is imported only
when asked for, so simulated nodes work on machines (and in builds) without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from openeks.kube.node.agent import NodeAgent
from openeks.kube.node.config import RUNTIMES, NodeConfig
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
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await runtime.close()
