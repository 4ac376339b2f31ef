"""One Kubernetes control plane in one process: API server, scheduler, controller manager.

`openeks kube up` runs this. The scheduler and controller manager talk to the API
server through the client library like separate processes would, each with its own
client certificate identity (`system:kube-scheduler`, `system:kube-controller-manager`),
and each behind its own Lease, so the same parts can also run as separate processes or
several replicas (`openeks kube scheduler`, `openeks kube controller-manager`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, replace

from openeks.kube.apiserver.server import ApiServer, ServerConfig
from openeks.kube.client import load_kubeconfig

log = logging.getLogger(__name__)


@dataclass
class ControlPlaneConfig:
    server: ServerConfig
    scheduler: bool = True
    controllers: bool = True


async def _scheduler(kubeconfig: str) -> None:
    from openeks.kube.scheduler.server import Scheduler, SchedulerConfig

    await Scheduler(SchedulerConfig(client=load_kubeconfig(kubeconfig))).run()


async def _controllers(kubeconfig: str) -> None:
    from openeks.kube.controllers.manager import ControllerManager, ManagerConfig

    await ControllerManager(ManagerConfig(client=load_kubeconfig(kubeconfig))).run()


async def run(config: ControlPlaneConfig, ready_line: bool = True) -> None:
    """Run until SIGTERM/SIGINT, then stop the parts in reverse order."""
    server_config = replace(config.server, namespace_finalizer=not config.controllers)
    server = ApiServer(server_config)
    await server.start()
    tasks: list[asyncio.Task[None]] = []
    if config.scheduler:
        path = server.write_kubeconfig(
            "scheduler.kubeconfig", "system:kube-scheduler", [], local=True
        )
        tasks.append(asyncio.create_task(_scheduler(str(path)), name="scheduler"))
    if config.controllers:
        path = server.write_kubeconfig(
            "controller-manager.kubeconfig", "system:kube-controller-manager", [], local=True
        )
        tasks.append(asyncio.create_task(_controllers(str(path)), name="controller-manager"))
    if ready_line:
        assert server.ctx is not None
        print(
            f"openeks control plane ready on {server.url} (Kubernetes v{server.ctx.version.minor}, "
            f"store {server_config.resolved_store_url()}); "
            f"kubeconfig: {server_config.data_dir / 'admin.kubeconfig'}",
            flush=True,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                log.error("%s stopped: %r", task.get_name(), task.exception())
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in [*tasks, waiter]:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await server.stop()
