"""The controller manager: every controller, on shared informers, behind one Lease.

Controllers are listed by import path so each lives in its own module and the manager
needs no edit when one is added. All controllers start only once this replica holds the
`kube-controller-manager` Lease, and the shared informers have synced.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
import uuid
from dataclasses import dataclass, field, replace

from openeks.kube.client import Client, ClientConfig, EventRecorder, InformerFactory, LeaderElector
from openeks.kube.controllers.base import Controller, ControllerContext

log = logging.getLogger(__name__)

CONTROLLERS: dict[str, str] = {
    "namespace": "openeks.kube.controllers.namespace:NamespaceController",
    "serviceaccount": "openeks.kube.controllers.serviceaccount:ServiceAccountController",
    "garbagecollector": "openeks.kube.controllers.garbagecollector:GarbageCollector",
    "deployment": "openeks.kube.controllers.deployment:DeploymentController",
    "replicaset": "openeks.kube.controllers.replicaset:ReplicaSetController",
    "statefulset": "openeks.kube.controllers.statefulset:StatefulSetController",
    "daemonset": "openeks.kube.controllers.daemonset:DaemonSetController",
    "job": "openeks.kube.controllers.job:JobController",
    "cronjob": "openeks.kube.controllers.cronjob:CronJobController",
    "nodelifecycle": "openeks.kube.controllers.nodelifecycle:NodeLifecycleController",
    "endpoints": "openeks.kube.controllers.endpoints:EndpointsController",
    "endpointslice": "openeks.kube.controllers.endpointslice:EndpointSliceController",
    "disruption": "openeks.kube.controllers.disruption:DisruptionController",
    "root-ca-cert-publisher": "openeks.kube.controllers.rootcacert:RootCACertPublisher",
    "resourcequota": "openeks.kube.controllers.resourcequota:ResourceQuotaController",
}


@dataclass
class ManagerConfig:
    """Settings of the controller manager."""

    client: ClientConfig
    controllers: list[str] = field(default_factory=lambda: list(CONTROLLERS))
    """Names from CONTROLLERS to run."""
    leader_elect: bool = True
    identity: str = ""
    """This replica's name in the Lease; default hostname + random suffix."""


def load(name: str) -> type[Controller] | None:
    module_name, _, class_name = CONTROLLERS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            log.warning("controller %s is not available", name)
            return None
        raise
    cls: type[Controller] = getattr(module, class_name)
    return cls


class ControllerManager:
    def __init__(self, config: ManagerConfig) -> None:
        self.config = config
        # Every informer holds a watch connection: no pool limit, or they starve each other.
        self.client = Client(
            replace(config.client, user_agent="kube-controller-manager/openeks"), connections=0
        )
        self.identity = config.identity or f"{socket.gethostname()}_{uuid.uuid4()}"
        self.controllers: list[Controller] = []

    async def run(self) -> None:
        try:
            if self.config.leader_elect:
                elector = LeaderElector(self.client, "kube-controller-manager", self.identity)
                await elector.run(self._lead)
            else:
                await self._lead()
        finally:
            await self.client.close()

    async def _lead(self) -> None:
        informers = InformerFactory(self.client)
        ctx = ControllerContext(
            self.client, informers, EventRecorder(self.client, "controller-manager")
        )
        controllers = []
        for name in self.config.controllers:
            cls = load(name)
            if cls is not None:
                controller = cls(ctx)
                controller.setup()
                controllers.append(controller)
        self.controllers = controllers
        informers.start()
        try:
            await informers.wait_synced(timeout=None)
            await asyncio.gather(*(self._run(c) for c in controllers))
        finally:
            await informers.stop()

    @staticmethod
    async def _run(controller: Controller) -> None:
        try:
            await controller.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("controller %s crashed", controller.name)
            raise
