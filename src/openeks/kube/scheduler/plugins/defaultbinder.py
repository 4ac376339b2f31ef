"""DefaultBinder: POST the pod's `binding` subresource, as upstream's binder does."""

from __future__ import annotations

from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import PODS
from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.interface import BindPlugin
from openeks.kube.scheduler.framework.status import Status, error
from openeks.kube.scheduler.framework.types import PodInfo
from openeks.kube.scheduler.plugins import names


def binding(pod: PodInfo, node_name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
        "target": {"kind": "Node", "name": node_name},
    }


class DefaultBinder(BindPlugin):
    NAME = names.DEFAULT_BINDER

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        client = self.handle.client
        if client is None:
            return error("no API client to bind with")
        try:
            await client.create(
                PODS, binding(pod, node_name), pod.namespace, subresource="binding", name=pod.name
            )
        except ApiError as e:
            return error(str(e) or e.reason)
        return None
