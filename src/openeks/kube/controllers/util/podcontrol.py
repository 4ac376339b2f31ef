"""Creating and deleting a controller's pods, with the events upstream records.

upstream's `RealPodControl`: a pod is made from the controller's template
(`pods.pod_from_template`), refused locally when it would have no labels, and each
outcome is recorded on the controller: `SuccessfulCreate` "Created pod: web-x7k2p",
`FailedCreate` "Error creating: ...", `SuccessfulDelete` "Deleted pod: ...",
`FailedDelete` "Error deleting: ...". No event is recorded for a creation refused
because the namespace is terminating, nor for deleting a pod that is already gone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, EventRecorder
from openeks.kube.client.resources import PODS
from openeks.kube.controllers.util.pods import pod_from_template

Obj = dict[str, Any]

FAILED_CREATE = "FailedCreate"
SUCCESSFUL_CREATE = "SuccessfulCreate"
FAILED_DELETE = "FailedDelete"
SUCCESSFUL_DELETE = "SuccessfulDelete"
NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating"


def recorder_for(recorder: Any, component: str) -> Any:
    """A recorder reporting as `component` (upstream's controllers each have their own:
    `kubectl describe` shows "deployment-controller" in the From column). Anything that
    is not an EventRecorder (a test double) is returned as it is."""
    if isinstance(recorder, EventRecorder):
        return EventRecorder(recorder.client, component, recorder.host)
    return recorder


def namespace_terminating(error: ApiError) -> bool:
    return any(c.type == NAMESPACE_TERMINATING_CAUSE for c in error.causes)


class PodControl:
    def __init__(self, client: Client, recorder: EventRecorder) -> None:
        self.client = client
        self.recorder = recorder

    async def create(
        self,
        namespace: str,
        template: Obj,
        parent: Obj,
        controller_ref: Obj,
        mutate: Callable[[Obj], None] | None = None,
    ) -> Obj:
        """Create a pod from `template` for `parent` (which must carry kind/apiVersion)."""
        pod = pod_from_template(template, parent, controller_ref)
        pod["metadata"]["namespace"] = namespace
        if mutate is not None:
            mutate(pod)
        if not pod["metadata"].get("labels"):
            raise ApiError("unable to create pods, no labels", 400, "BadRequest")
        try:
            created = await self.client.create(PODS, pod, namespace)
        except ApiError as e:
            if not namespace_terminating(e):
                await self.recorder.event(parent, "Warning", FAILED_CREATE, f"Error creating: {e}")
            raise
        name = created["metadata"]["name"]
        await self.recorder.event(parent, "Normal", SUCCESSFUL_CREATE, f"Created pod: {name}")
        return created

    async def delete(self, namespace: str, name: str, parent: Obj) -> None:
        """Delete a pod; a 404 is raised to the caller but not recorded."""
        try:
            await self.client.delete(PODS, name, namespace)
        except ApiError as e:
            if e.code != 404:
                await self.recorder.event(parent, "Warning", FAILED_DELETE, f"Error deleting: {e}")
            raise
        await self.recorder.event(parent, "Normal", SUCCESSFUL_DELETE, f"Deleted pod: {name}")
