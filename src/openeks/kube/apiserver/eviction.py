"""`pods/eviction`: delete a pod only if its PodDisruptionBudgets allow it.

As upstream: a pod that is not running (pending, finished) or already terminating is
deleted without looking at budgets; otherwise every budget selecting the pod must allow
a disruption (`status.disruptionsAllowed > 0`), and each is charged one disruption
(the pod goes into `status.disruptedPods`, written with compare-and-swap) before the pod
is deleted. More than one budget per pod is refused, as upstream does. Refusals are 429
TooManyRequests with the `DisruptionBudget` cause kubectl drain prints and retries on.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from openeks.kube.api import errors, labels, meta
from openeks.kube.api.errors import ApiError, Cause
from openeks.kube.apiserver import codec
from openeks.kube.apiserver.handlers import respond
from openeks.kube.apiserver.registry import DeleteOptions, ListOptions, Registry, WriteOptions

Obj = dict[str, Any]


def _too_many(message: str, cause: str = "") -> ApiError:
    return ApiError(
        message,
        429,
        "TooManyRequests",
        causes=[Cause("DisruptionBudget", cause)] if cause else [],
        retry_after=10 if cause else 0,
    )


async def evict(
    request: web.Request, registry: Registry, namespace: str, name: str
) -> web.StreamResponse:
    body = codec.decode_body(await request.read(), request.headers.get("Content-Type"))
    if not isinstance(body, dict) or body.get("kind", "Eviction") != "Eviction":
        raise errors.bad_request("the object provided is unrecognized (must be of type Eviction)")
    if (body.get("metadata") or {}).get("name", name) != name:
        raise errors.bad_request("name in URL does not match name in Eviction object")
    options = body.get("deleteOptions") or {}
    delete = DeleteOptions(
        grace_period=options.get("gracePeriodSeconds"),
        propagation=options.get("propagationPolicy") or "",
        precondition_uid=(options.get("preconditions") or {}).get("uid") or "",
        dry_run="All" in (options.get("dryRun") or ()),
    )
    pods = registry.for_storage("core/pods")
    pod = await pods.get(namespace, name)
    if _disruptable(pod):
        await _charge_budgets(registry, pod, delete.dry_run)
    await pods.delete(namespace, name, delete)
    return respond(
        request,
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
        201,
    )


def _disruptable(pod: Obj) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    return (pod.get("status") or {}).get("phase") == "Running"


async def _charge_budgets(registry: Registry, pod: Obj, dry_run: bool) -> None:
    budgets = registry.for_storage("policy/poddisruptionbudgets")
    namespace = pod["metadata"]["namespace"]
    listed = await budgets.list(namespace, ListOptions())
    pod_labels = meta.labels_of(pod)
    matching = [
        b
        for b in listed.items
        if b.get("spec", {}).get("selector") is not None
        and labels.from_label_selector(b["spec"]["selector"]).matches(pod_labels)
    ]
    if not matching:
        return
    if len(matching) > 1:
        raise ApiError(
            "This pod has more than one PodDisruptionBudget, which the eviction subresource "
            "does not support.",
            500,
            "InternalError",
        )
    budget = matching[0]
    name = budget["metadata"]["name"]

    async def charge(pdb: Obj) -> Obj:
        status = pdb.setdefault("status", {})
        if status.get("observedGeneration", 0) < pdb["metadata"].get("generation", 1):
            raise _too_many(
                "Cannot evict pod as it would violate the pod's disruption budget.",
                "The disruption budget " + name + " is still being processed by the server.",
            )
        allowed = int(status.get("disruptionsAllowed") or 0)
        if allowed <= 0:
            raise _too_many(
                "Cannot evict pod as it would violate the pod's disruption budget.",
                f"The disruption budget {name} needs {status.get('desiredHealthy', 0)} healthy "
                f"pods and has {status.get('currentHealthy', 0)} currently",
            )
        status["disruptionsAllowed"] = allowed - 1
        disrupted = status.setdefault("disruptedPods", {})
        disrupted[pod["metadata"]["name"]] = meta.rfc3339(meta.now())
        return pdb

    await budgets.update(namespace, name, charge, WriteOptions(dry_run=dry_run), "status")
