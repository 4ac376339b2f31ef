"""ResourceQuota admission and the quota controller against a real API server.

The controller runs in the test process (as the controller manager would run it) and
fills each quota's status; admission charges creates against it and refuses what would
exceed it with upstream's messages; deletes give quota back through the controller.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from openeks.kube.client import Client, EventRecorder, InformerFactory, load_kubeconfig
from openeks.kube.controllers.base import ControllerContext
from openeks.kube.controllers.resourcequota import ResourceQuotaController
from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl
from tests.support.rawclient import RawClient, Response

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    with ApiServerProcess(tmp_path_factory.mktemp("quota")) as server:
        yield server


@pytest.fixture(scope="module")
def kubectl(api: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(api.kubeconfig, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def raw(api: ApiServerProcess) -> RawClient:
    return RawClient(api.kubeconfig)


@pytest.fixture
async def controller(api: ApiServerProcess) -> AsyncIterator[ResourceQuotaController]:
    client = Client(load_kubeconfig(api.kubeconfig), connections=0)
    informers = InformerFactory(client)
    ctrl = ResourceQuotaController(ControllerContext(client, informers, EventRecorder(client, "t")))
    ctrl.resync = 1.0
    ctrl.setup()
    informers.start()
    await informers.wait_synced()
    task = asyncio.create_task(ctrl.run())
    try:
        yield ctrl
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await informers.stop()
        await client.close()


class Api:
    """Blocking raw HTTP, run off the event loop the controller lives on."""

    def __init__(self, raw: RawClient, ns: str) -> None:
        self.raw, self.ns = raw, ns

    async def __call__(self, method: str, path: str, body: Any = None) -> Response:
        path = path.replace("NS", self.ns)
        return await asyncio.to_thread(self.raw.request, method, path, body)

    async def until(self, check: Callable[[], Any], timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = await check()
            if value:
                return value
            assert time.monotonic() < deadline, "condition not met"
            await asyncio.sleep(0.1)

    async def quota(self, name: str, hard: Obj, **spec: Any) -> Obj:
        body = {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": name},
            "spec": {"hard": hard, **spec},
        }
        created = await self("POST", "/api/v1/namespaces/NS/resourcequotas", body)
        assert created.status == 201, created.body

        async def ready() -> Obj | None:
            got = (await self("GET", f"/api/v1/namespaces/NS/resourcequotas/{name}")).json()
            status = got.get("status") or {}
            return got if set(status.get("used") or {}) == set(hard) else None

        quota: Obj = await self.until(ready)
        await asyncio.sleep(0.1)  # admission reads quotas from the watch cache
        return quota

    async def used(self, name: str) -> Obj:
        got = (await self("GET", f"/api/v1/namespaces/NS/resourcequotas/{name}")).json()
        return dict((got.get("status") or {}).get("used") or {})


@pytest.fixture
async def ns(namespace: str, raw: RawClient) -> Api:
    api = Api(raw, namespace)

    async def account() -> bool:
        return (await api("GET", "/api/v1/namespaces/NS/serviceaccounts/default")).status == 200

    await api.until(account)
    return api


def pod(name: str, requests: Obj | None = None, limits: Obj | None = None, **spec: Any) -> Obj:
    resources: Obj = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "a", "image": "busybox", "resources": resources}], **spec},
    }


async def test_pod_count_is_enforced_and_deletes_free_quota(
    ns: Api, controller: ResourceQuotaController
) -> None:
    quota = await ns.quota("pods", {"pods": "2", "count/pods": "5"})
    assert quota["status"]["hard"] == {"count/pods": "5", "pods": "2"}
    assert quota["status"]["used"] == {"count/pods": "0", "pods": "0"}
    for name in ("p1", "p2"):
        assert (await ns("POST", "/api/v1/namespaces/NS/pods", pod(name))).status == 201
    assert await ns.used("pods") == {"count/pods": "2", "pods": "2"}
    refused = await ns("POST", "/api/v1/namespaces/NS/pods", pod("p3"))
    assert refused.status == 403
    status = refused.json()
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        'pods "p3" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, '
        "limited: pods=2"
    )
    gone = await ns("DELETE", "/api/v1/namespaces/NS/pods/p1")
    assert gone.status == 200

    async def freed() -> bool:
        return (await ns.used("pods")).get("pods") == "1"

    await ns.until(freed)
    await asyncio.sleep(0.1)
    assert (await ns("POST", "/api/v1/namespaces/NS/pods", pod("p3"))).status == 201


async def test_compute_quota_requires_and_sums_requests(
    ns: Api, controller: ResourceQuotaController
) -> None:
    await ns.quota("compute", {"requests.cpu": "1", "limits.memory": "1Gi"})
    missing = await ns("POST", "/api/v1/namespaces/NS/pods", pod("bare"))
    assert missing.status == 403
    assert missing.json()["message"] == (
        'pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: a; '
        "requests.cpu for: a"
    )
    first = pod("one", {"cpu": "600m"}, {"memory": "256Mi"})
    assert (await ns("POST", "/api/v1/namespaces/NS/pods", first)).status == 201
    second = await ns(
        "POST", "/api/v1/namespaces/NS/pods", pod("two", {"cpu": "600m"}, {"memory": "256Mi"})
    )
    assert second.status == 403
    assert second.json()["message"] == (
        'pods "two" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, '
        "used: requests.cpu=600m, limited: requests.cpu=1"
    )
    assert await ns.used("compute") == {"limits.memory": "256Mi", "requests.cpu": "600m"}


async def test_dry_runs_are_checked_but_not_charged(
    ns: Api, controller: ResourceQuotaController
) -> None:
    await ns.quota("q", {"pods": "1"})
    dry = await ns("POST", "/api/v1/namespaces/NS/pods?dryRun=All", pod("d"))
    assert dry.status == 201
    assert await ns.used("q") == {"pods": "0"}
    assert (await ns("POST", "/api/v1/namespaces/NS/pods", pod("real"))).status == 201
    dry_again = await ns("POST", "/api/v1/namespaces/NS/pods?dryRun=All", pod("d2"))
    assert dry_again.status == 403


async def test_scopes_select_which_pods_a_quota_counts(
    ns: Api, controller: ResourceQuotaController
) -> None:
    await ns.quota("besteffort", {"pods": "1"}, scopes=["BestEffort"])
    assert (await ns("POST", "/api/v1/namespaces/NS/pods", pod("be1"))).status == 201
    refused = await ns("POST", "/api/v1/namespaces/NS/pods", pod("be2"))
    assert refused.status == 403
    assert "exceeded quota: besteffort" in refused.json()["message"]
    burstable = pod("burst", {"memory": "10Mi"})
    assert (await ns("POST", "/api/v1/namespaces/NS/pods", burstable)).status == 201
    assert await ns.used("besteffort") == {"pods": "1"}


async def test_terminal_pods_stop_counting(ns: Api, controller: ResourceQuotaController) -> None:
    await ns.quota("q", {"pods": "1"})
    assert (await ns("POST", "/api/v1/namespaces/NS/pods", pod("job"))).status == 201
    current = (await ns("GET", "/api/v1/namespaces/NS/pods/job")).json()
    current["status"] = {"phase": "Succeeded"}
    assert (await ns("PUT", "/api/v1/namespaces/NS/pods/job/status", current)).status == 200

    async def freed() -> bool:
        return (await ns.used("q")).get("pods") == "0"

    await ns.until(freed)
    await asyncio.sleep(0.1)
    assert (await ns("POST", "/api/v1/namespaces/NS/pods", pod("next"))).status == 201


async def test_object_counts_and_services(ns: Api, controller: ResourceQuotaController) -> None:
    await ns.quota(
        "objects",
        {
            "configmaps": "2",  # kube-root-ca.crt is one
            "count/secrets": "0",
            "services.nodeports": "1",
            "count/deployments.apps": "0",
        },
    )
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1"}}
    assert (await ns("POST", "/api/v1/namespaces/NS/configmaps", cm)).status == 201
    cm2 = await ns("POST", "/api/v1/namespaces/NS/configmaps", {**cm, "metadata": {"name": "c2"}})
    assert cm2.json()["message"] == (
        'configmaps "c2" is forbidden: exceeded quota: objects, requested: configmaps=1, '
        "used: configmaps=2, limited: configmaps=2"
    )
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
    refused = await ns("POST", "/api/v1/namespaces/NS/secrets", secret)
    assert refused.json()["message"] == (
        'secrets "s" is forbidden: exceeded quota: objects, requested: count/secrets=1, '
        "used: count/secrets=0, limited: count/secrets=0"
    )
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "np"},
        "spec": {
            "type": "NodePort",
            "ports": [{"port": 80, "name": "a"}, {"port": 81, "name": "b"}],
        },
    }
    refused = await ns("POST", "/api/v1/namespaces/NS/services", svc)
    assert refused.status == 403
    assert (
        "requested: services.nodeports=2, used: services.nodeports=0" in refused.json()["message"]
    )
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    refused = await ns("POST", "/apis/apps/v1/namespaces/NS/deployments", deploy)
    assert refused.status == 403
    assert refused.json()["message"].startswith(
        'deployments.apps "d" is forbidden: exceeded quota: objects'
    )


def test_kubectl_shows_quota_refusals(kubectl: Kubectl, namespace: str, raw: RawClient) -> None:
    deadline = time.monotonic() + 10
    while raw.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default").status != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    kubectl("create", "quota", "q", "-n", namespace, "--hard=pods=0")
    # without a controller nothing has filled the status: the quota does not apply yet
    kubectl("run", "early", "-n", namespace, "--image=busybox", "--restart=Never")
    quota = raw.get(f"/api/v1/namespaces/{namespace}/resourcequotas/q").json()
    quota["status"] = {"hard": {"pods": "0"}, "used": {"pods": "0"}}
    assert (
        raw.request("PUT", f"/api/v1/namespaces/{namespace}/resourcequotas/q/status", quota).status
        == 200
    )
    time.sleep(0.2)
    failed = kubectl.fails("run", "late", "-n", namespace, "--image=busybox", "--restart=Never")
    assert failed.stderr.strip() == (
        'Error from server (Forbidden): pods "late" is forbidden: exceeded quota: q, '
        "requested: pods=1, used: pods=0, limited: pods=0"
    )
