"""The node agent end to end: a real API server, an in-process agent on the simulated
runtime, and pods bound to it directly (spec.nodeName, no scheduler)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, ClientConfig
from openeks.kube.client.resources import CONFIGMAPS, EVENTS, LEASES, NODES, PODS
from openeks.kube.node import admission, envvars, status
from openeks.kube.node.backoff import Backoff, go_duration
from openeks.kube.node.fleet import Fleet, fleet_configs
from openeks.kube.node.runtime.simulated import SimulatedRuntime
from tests.kube.node.conftest import (
    AgentFactory,
    condition,
    container_status,
    eventually,
    pod,
)

Obj = dict[str, Any]


async def _get(client: Client, ns: str, name: str) -> Obj:
    return await client.get(PODS, name, ns)


async def test_node_registers_with_labels_capacity_addresses_and_ready(
    client: Client, start_agent: AgentFactory
) -> None:
    agent = await start_agent(
        instance_type="c5.xlarge",
        labels={"team": "blue"},
        taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
        port=0,
    )
    node = await client.get(NODES, agent.config.name)
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == agent.config.name
    assert labels["topology.kubernetes.io/zone"] == "us-east-1a"
    assert labels["topology.kubernetes.io/region"] == "us-east-1"
    assert labels["node.kubernetes.io/instance-type"] == "c5.xlarge"
    assert labels["beta.kubernetes.io/instance-type"] == "c5.xlarge"
    assert labels["kubernetes.io/os"] == labels["beta.kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] == "amd64"
    assert labels["openeks.io/simulated"] == "true"
    assert labels["team"] == "blue"
    assert node["spec"]["taints"] == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    assert node["spec"]["podCIDR"] == "10.244.1.0/24"
    status = node["status"]
    assert status["capacity"]["cpu"] == "4"
    assert status["capacity"]["pods"] == "58"
    assert status["allocatable"]["cpu"] == "3920m"
    assert status["allocatable"]["memory"] == f"{8 * 1024 * 1024 - (255 + 11 * 58 + 100) * 1024}Ki"
    assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]
    assert {"type": "Hostname", "address": agent.config.name} in status["addresses"]
    assert status["nodeInfo"]["containerRuntimeVersion"] == "simulated://"
    assert status["nodeInfo"]["kubeletVersion"].startswith("v1.")
    assert status["nodeInfo"]["operatingSystem"] == "linux"
    assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == agent.server.port > 0  # type: ignore[union-attr]
    ready = condition(node, "Ready")
    assert ready["status"] == "True"
    assert ready["reason"] == "KubeletReady"
    assert ready["message"] == "kubelet is posting ready status"
    kinds = [c["type"] for c in status["conditions"]]
    assert kinds == ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]


async def test_a_restarted_agent_updates_its_existing_node(
    client: Client, start_agent: AgentFactory, tmp_path: Path
) -> None:
    first = await start_agent(name="node-again", serve=False, data_dir=tmp_path / "again")
    await first.stop()
    await client.patch(NODES, "node-again", {"metadata": {"labels": {"kept": "yes"}}})
    await start_agent(
        name="node-again", serve=False, data_dir=tmp_path / "again", labels={"extra": "1"}
    )
    node = await client.get(NODES, "node-again")
    assert node["metadata"]["labels"]["kept"] == "yes"
    assert node["metadata"]["labels"]["extra"] == "1"
    assert condition(node, "Ready")["status"] == "True"


async def test_the_node_lease_is_renewed(client: Client, start_agent: AgentFactory) -> None:
    agent = await start_agent(lease_seconds=2, serve=False)
    name = agent.config.name
    lease = await eventually(lambda: client.get(LEASES, name, "kube-node-lease"))
    assert lease["spec"]["holderIdentity"] == name
    assert lease["spec"]["leaseDurationSeconds"] == 2
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    first = lease["spec"]["renewTime"]

    async def renewed() -> bool:
        again = await client.get(LEASES, name, "kube-node-lease")
        return bool(again["spec"]["renewTime"] != first)

    await eventually(renewed, timeout=5)


async def test_node_status_overridden_by_someone_else_is_restored(
    client: Client, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False, status_interval=0.5)
    name = agent.config.name
    node = await client.get(NODES, name)
    conditions = node["status"]["conditions"]
    for c in conditions:
        if c["type"] == "Ready":
            c.update(status="Unknown", reason="NodeStatusUnknown")
    await client.patch(NODES, name, {"status": {"conditions": conditions}}, subresource="status")

    async def ready_again() -> bool:
        return condition(await client.get(NODES, name), "Ready").get("status") == "True"

    await eventually(ready_again, timeout=5)
    again = condition(await client.get(NODES, name), "Ready")
    assert again["reason"] == "KubeletReady"
    assert agent.status is not None and agent.status.posts >= 1


async def test_a_pod_goes_running_with_container_statuses_and_pod_ip(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False)
    await client.create(PODS, pod("web", agent.config.name), ns)

    async def running() -> Obj | None:
        p = await _get(client, ns, "web")
        return p if p["status"].get("phase") == "Running" and condition(p, "Ready") else None

    p = await eventually(running)
    status = p["status"]
    assert status["podIP"].startswith("10.244.1.")
    assert status["podIPs"] == [{"ip": status["podIP"]}]
    assert status["hostIP"] == "127.0.0.1"
    assert status["startTime"]
    assert status["qosClass"] == "BestEffort"
    cs = container_status(p)
    assert cs["ready"] is True and cs["started"] is True
    assert "startedAt" in cs["state"]["running"]
    assert cs["restartCount"] == 0
    assert cs["image"] == "docker.io/library/busybox:1.36"
    assert cs["imageID"].startswith("docker.io/library/busybox@sha256:")
    assert cs["containerID"].startswith("simulated://")
    kinds = [c["type"] for c in status["conditions"]]
    assert kinds == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert all(c["status"] == "True" for c in status["conditions"])
    events = await client.list(EVENTS, ns)
    reasons = {e["reason"] for e in events["items"]}
    assert {"Pulling", "Pulled", "Created", "Started"} <= reasons


async def test_a_failing_container_goes_into_crash_loop_back_off(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False)
    agent.ctx.crash_backoff = Backoff(initial=0.3, maximum=1.0)
    await client.create(PODS, pod("crash", agent.config.name, container={"command": ["false"]}), ns)

    async def looping() -> Obj | None:
        p = await _get(client, ns, "crash")
        cs = container_status(p)
        waiting = cs.get("state", {}).get("waiting", {})
        if cs.get("restartCount", 0) >= 3 and waiting.get("reason") == "CrashLoopBackOff":
            return p
        return None

    p = await eventually(looping, timeout=15)
    cs = container_status(p)
    assert "restarting failed container=main pod=crash_" in cs["state"]["waiting"]["message"]
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    assert p["status"]["phase"] == "Running"
    assert condition(p, "Ready")["reason"] == "ContainersNotReady"


async def test_a_missing_image_is_err_image_pull_then_image_pull_back_off(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False)
    image = "registry.example.com/team/doesnotexist:1.0"
    await client.create(PODS, pod("noimage", agent.config.name, image=image), ns)

    async def waiting(reason: str) -> Obj | None:
        p = await _get(client, ns, "noimage")
        state = container_status(p).get("state", {}).get("waiting", {})
        return state if state.get("reason") == reason else None

    err = await eventually(lambda: waiting("ErrImagePull"))
    assert f'"{image}"' in err["message"] and "not found" in err["message"]
    backoff = await eventually(lambda: waiting("ImagePullBackOff"))
    assert backoff["message"].startswith(f'Back-off pulling image "{image}": ErrImagePull: ')
    assert "not found" in backoff["message"]
    p = await _get(client, ns, "noimage")
    assert p["status"]["phase"] == "Pending"


async def test_graceful_deletion_stops_the_pod_and_removes_the_object(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False)
    await client.create(PODS, pod("doomed", agent.config.name), ns)
    p = await eventually(lambda: _running_pod(client, ns, "doomed"))
    cid = container_status(p)["containerID"].removeprefix("simulated://")
    await client.delete(PODS, "doomed", ns)

    async def gone() -> bool:
        try:
            await _get(client, ns, "doomed")
        except ApiError as e:
            return e.code == 404
        return False

    await eventually(gone)
    assert not await agent.runtime.list_sandboxes()
    status = await agent.runtime.container_status(cid)
    assert status.state.value == "unknown"  # removed from the runtime
    events = await client.list(EVENTS, ns)
    assert any(e["reason"] == "Killing" for e in events["items"])


async def _running_pod(client: Client, ns: str, name: str) -> Obj | None:
    p = await _get(client, ns, name)
    return p if p["status"].get("phase") == "Running" else None


async def test_a_job_like_pod_succeeds(client: Client, ns: str, start_agent: AgentFactory) -> None:
    agent = await start_agent(serve=False)
    job = pod(
        "once",
        agent.config.name,
        restartPolicy="Never",
        container={"command": ["sh", "-c", "exit 0"]},
    )
    await client.create(PODS, job, ns)

    async def done() -> Obj | None:
        p = await _get(client, ns, "once")
        return p if p["status"].get("phase") == "Succeeded" else None

    p = await eventually(done)
    terminated = container_status(p)["state"]["terminated"]
    assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"
    assert condition(p, "Ready")["reason"] == "PodCompleted"

    async def sandbox_gone() -> bool:
        p = await _get(client, ns, "once")
        return condition(p, "PodReadyToStartContainers")["status"] == "False"

    await eventually(sandbox_gone)
    assert not await agent.runtime.list_sandboxes()


async def test_a_failing_pod_with_restart_policy_never_fails(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False)
    failing = pod(
        "fails",
        agent.config.name,
        restartPolicy="Never",
        container={"command": ["sh", "-c", "exit 3"]},
    )
    await client.create(PODS, failing, ns)

    async def failed() -> Obj | None:
        p = await _get(client, ns, "fails")
        return p if p["status"].get("phase") == "Failed" else None

    p = await eventually(failed)
    assert container_status(p)["state"]["terminated"]["exitCode"] == 3
    assert container_status(p)["restartCount"] == 0


async def test_init_containers_run_in_order_before_the_app(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False)
    spec = pod(
        "inits",
        agent.config.name,
        initContainers=[
            {"name": "one", "image": "busybox", "command": ["sh", "-c", "exit 0"]},
            {"name": "two", "image": "busybox", "command": ["true"]},
        ],
    )
    await client.create(PODS, spec, ns)
    p = await eventually(lambda: _running_pod(client, ns, "inits"))
    inits = p["status"]["initContainerStatuses"]
    assert [s["name"] for s in inits] == ["one", "two"]
    for s in inits:
        assert s["state"]["terminated"]["reason"] == "Completed"
        assert s["ready"] is True
    assert condition(p, "Initialized")["status"] == "True"


async def test_a_sidecar_runs_beside_the_app_and_stops_when_it_completes(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False)
    spec = pod(
        "with-sidecar",
        agent.config.name,
        restartPolicy="Never",
        initContainers=[{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}],
        container={"command": ["sh", "-c", "exit 0"]},
    )
    await client.create(PODS, spec, ns)

    async def succeeded() -> Obj | None:
        p = await _get(client, ns, "with-sidecar")
        return p if p["status"].get("phase") == "Succeeded" else None

    p = await eventually(succeeded)
    sidecar = p["status"]["initContainerStatuses"][0]
    assert sidecar["name"] == "proxy"
    assert "terminated" in sidecar["state"]
    assert container_status(p)["state"]["terminated"]["exitCode"] == 0


async def test_a_pod_removed_from_the_api_is_stopped(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False)
    await client.create(PODS, pod("forced", agent.config.name), ns)
    await eventually(lambda: _running_pod(client, ns, "forced"))
    assert len(await agent.runtime.list_sandboxes()) == 1
    await client.delete(PODS, "forced", ns, grace_period=0)

    async def stopped() -> bool:
        return not await agent.runtime.list_sandboxes()

    await eventually(stopped)


async def test_a_missing_config_map_is_a_create_container_config_error(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False)
    env = [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "a"}}}]
    await client.create(PODS, pod("cfg", agent.config.name, container={"env": env}), ns)

    async def config_error() -> Obj | None:
        p = await _get(client, ns, "cfg")
        w = container_status(p).get("state", {}).get("waiting", {})
        return w if w.get("reason") == "CreateContainerConfigError" else None

    waiting = await eventually(config_error)
    assert waiting["message"] == 'configmap "settings" not found'
    body = {"metadata": {"name": "settings"}, "data": {"a": "1"}}
    await client.create(CONFIGMAPS, body, ns)
    await eventually(lambda: _running_pod(client, ns, "cfg"), timeout=15)


async def test_pods_beyond_allocatable_are_rejected(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False, max_pods=2)
    name = agent.config.name
    for pod_name in ("fits-0", "fits-1"):
        await client.create(PODS, pod(pod_name, name), ns)
        await eventually(lambda: _running_pod(client, ns, pod_name))  # noqa: B023
    await client.create(PODS, pod("one-too-many", name), ns)
    big = pod("too-big", name, container={"resources": {"requests": {"cpu": "64"}}})

    async def rejected(pod_name: str) -> Obj | None:
        p = await _get(client, ns, pod_name)
        return p["status"] if p["status"].get("phase") == "Failed" else None

    status = await eventually(lambda: rejected("one-too-many"))
    assert status["reason"] == "OutOfpods"
    assert status["message"] == (
        "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 2, "
        "capacity: 2"
    )
    await client.delete(PODS, "fits-0", ns)
    await client.delete(PODS, "one-too-many", ns)
    await eventually(lambda: _absent(client, ns, "fits-0"))
    await client.create(PODS, big, ns)
    status = await eventually(lambda: rejected("too-big"))
    assert status["reason"] == "OutOfcpu"
    assert "cpu, requested: 64000, used: 0, capacity: 1930" in status["message"]


async def _absent(client: Client, ns: str, name: str) -> bool:
    try:
        await _get(client, ns, name)
    except ApiError as e:
        return e.code == 404
    return False


async def test_a_restarted_agent_adopts_running_containers_and_cleans_up_gone_pods(
    client: Client, ns: str, start_agent: AgentFactory, tmp_path: Path
) -> None:
    runtime = SimulatedRuntime("10.244.7.0/24")
    data = tmp_path / "adopt"
    first = await start_agent(
        name="node-adopt", runtime=runtime, data_dir=data, pod_cidr="10.244.7.0/24", serve=False
    )
    await client.create(PODS, pod("stays", "node-adopt"), ns)
    await client.create(PODS, pod("goes", "node-adopt"), ns)
    stays = await eventually(lambda: _running_pod(client, ns, "stays"))
    goes = await eventually(lambda: _running_pod(client, ns, "goes"))
    await first.stop()
    await client.delete(PODS, "goes", ns, grace_period=0)
    second = await start_agent(
        name="node-adopt", runtime=runtime, data_dir=data, pod_cidr="10.244.7.0/24", serve=False
    )
    assert second.ready.is_set()
    sandboxes = await runtime.list_sandboxes()
    assert [s.ip for s in sandboxes] == [stays["status"]["podIP"]]
    await asyncio.sleep(0.5)
    again = await _get(client, ns, "stays")
    assert container_status(again)["containerID"] == container_status(stays)["containerID"]
    assert container_status(again)["restartCount"] == 0
    assert (data / "pods" / stays["metadata"]["uid"]).is_dir()
    assert not (data / "pods" / goes["metadata"]["uid"]).exists()


async def test_a_fleet_of_100_simulated_nodes_registers_in_seconds(
    client: Client, kube: ClientConfig, tmp_path: Path
) -> None:
    names = [f"fleet-{i:03d}" for i in range(100)]
    zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
    fleet = Fleet(fleet_configs(kube, names, zones, "m5.large", tmp_path / "fleet"))
    started = time.monotonic()
    try:
        await fleet.start()
        took = time.monotonic() - started
        nodes = await client.list(NODES, label_selector="openeks.io/simulated=true")
        ours = [n for n in nodes["items"] if n["metadata"]["name"].startswith("fleet-")]
        assert len(ours) == 100
        assert {n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in ours} == set(zones)
        assert took < 15, f"registration took {took:.1f}s"
        await client.create(PODS, pod("on-fleet", "fleet-042"), "default")
        p = await eventually(lambda: _running_pod(client, "default", "on-fleet"))
        assert p["status"]["podIP"].startswith("100.64.42.")
    finally:
        await fleet.stop()
        await client.delete(PODS, "on-fleet", "default", grace_period=0)


@pytest.mark.slow
async def test_a_fleet_of_1000_nodes_keeps_heartbeating(
    client: Client, kube: ClientConfig, tmp_path: Path
) -> None:
    names = [f"big-{i:04d}" for i in range(1000)]
    fleet = Fleet(fleet_configs(kube, names, ["us-east-1a"], "m5.large", tmp_path / "big"))
    try:
        started = time.monotonic()
        await fleet.start()
        print(f"1000 nodes registered in {time.monotonic() - started:.1f}s")
        await asyncio.sleep(25)
        renewed = sum(a.lease.renewals >= 2 for a in fleet.agents if a.lease)
        assert renewed > 900
    finally:
        await fleet.stop()


# -- the pure parts pod workers are built from ----------------------------------------------


def test_expansion_replaces_known_names_and_keeps_the_rest() -> None:
    lookup = envvars.mapping({"A": "1", "B": "two"})
    assert envvars.expand("$(A)-$(B)", lookup) == "1-two"
    assert envvars.expand("$(MISSING) $$(A) $$ $x $(", lookup) == "$(MISSING) $(A) $ $x $("
    assert envvars.expand("$(A", lookup) == "$(A"


def test_container_env_orders_sources_as_kubelet() -> None:
    p = {
        "metadata": {"name": "web", "namespace": "shop", "uid": "u1", "labels": {"app": "w"}},
        "spec": {"nodeName": "n1", "serviceAccountName": "robot", "containers": []},
    }
    container = {
        "name": "main",
        "resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}},
        "envFrom": [
            {"configMapRef": {"name": "cm"}},
            {"secretRef": {"name": "sec"}, "prefix": "S_"},
            {"configMapRef": {"name": "absent", "optional": True}},
        ],
        "env": [
            {"name": "FROM_CM", "value": "override $(FROM_CM) $(KUBERNETES_SERVICE_HOST)"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
            {
                "name": "CPU_M",
                "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}},
            },
            {
                "name": "MEM",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
            },
            {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "token"}}},
            {
                "name": "OPT",
                "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "no", "optional": True}},
            },
        ],
    }
    p["spec"]["containers"] = [container]
    sources = envvars.Sources(
        "shop",
        configmaps={"cm": {"data": {"FROM_CM": "cm-value", "OTHER": "x"}}, "absent": None},
        secrets={"sec": {"data": {"token": "czNjcmV0"}}},
    )
    services = envvars.service_env(
        [
            {
                "metadata": {"name": "kubernetes", "namespace": "default"},
                "spec": {
                    "clusterIP": "10.100.0.1",
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP"}],
                },
            }
        ]
    )
    ctx = envvars.PodContext(p, ["10.244.1.9"], ["127.0.0.1"], {"cpu": "2", "memory": "8Gi"})
    env = envvars.container_env(container, ctx, sources, services)
    assert env["FROM_CM"] == "override cm-value 10.100.0.1"
    assert env["OTHER"] == "x"
    assert env["S_token"] == "s3cret"
    assert (
        env["POD"] == "web" and env["APP"] == "w" and env["NODE"] == "n1" and env["SA"] == "robot"
    )
    assert env["IP"] == "10.244.1.9" and env["HOST"] == "127.0.0.1"
    assert env["CPU_M"] == "250" and env["MEM"] == "1024"
    assert env["KEY"] == "s3cret"
    assert "OPT" not in env
    assert env["KUBERNETES_SERVICE_HOST"] == "10.100.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == "443"
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    assert env["KUBERNETES_PORT"] == "tcp://10.100.0.1:443"
    assert env["KUBERNETES_PORT_443_TCP_ADDR"] == "10.100.0.1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "a"}}}],
            'configmap "nope" not found',
        ),
        (
            [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "zz"}}}],
            "couldn't find key zz in Secret shop/sec",
        ),
    ],
)
def test_missing_env_sources_are_config_errors(env: list[Obj], message: str) -> None:
    p = {"metadata": {"name": "p", "namespace": "shop"}, "spec": {"containers": []}}
    sources = envvars.Sources("shop", secrets={"sec": {"data": {}}})
    with pytest.raises(envvars.EnvError, match=message):
        envvars.container_env({"name": "c", "env": env}, envvars.PodContext(p), sources, {})


@pytest.mark.parametrize(
    ("container", "argv"),
    [
        ({}, ["/entry", "default-cmd"]),
        ({"command": ["/bin/app"]}, ["/bin/app"]),
        ({"args": ["--flag=$(MODE)"]}, ["/entry", "--flag=fast"]),
        (
            {"command": ["sh", "-c"], "args": ["echo $(MODE) $$HOME"]},
            ["sh", "-c", "echo fast $HOME"],
        ),
    ],
)
def test_command_replaces_entrypoint_and_args_replace_cmd(container: Obj, argv: list[str]) -> None:
    assert envvars.container_argv(container, ["/entry"], ["default-cmd"], {"MODE": "fast"}) == argv


def test_crash_loop_back_off_doubles_to_five_minutes_and_resets_after_ten() -> None:
    now = [1000.0]
    backoff = Backoff(clock=lambda: now[0])
    assert not backoff.in_backoff_since("c", now[0])  # the first restart is immediate
    delays = [backoff.next("c", now[0]) for _ in range(7)]
    assert delays == [10, 20, 40, 80, 160, 300, 300]
    assert backoff.in_backoff_since("c", now[0])
    now[0] += 299
    assert backoff.in_backoff_since("c", 1000.0)
    now[0] += 2
    assert not backoff.in_backoff_since("c", 1000.0)
    now[0] += 601  # untouched for more than 2 x 5 minutes: start over
    assert backoff.next("c", now[0]) == 10
    assert go_duration(10) == "10s" and go_duration(80) == "1m20s" and go_duration(300) == "5m0s"


def _status(name: str, state: Obj, **extra: Any) -> Obj:
    return {"name": name, "state": state, "ready": False, **extra}


RUNNING = {"running": {"startedAt": "2024-01-01T00:00:00Z"}}


def _ok(code: int = 0) -> Obj:
    return {"terminated": {"exitCode": code}}


@pytest.mark.parametrize(
    ("policy", "states", "phase"),
    [
        ("Always", [RUNNING], "Running"),
        ("Always", [_ok(0)], "Running"),
        ("OnFailure", [_ok(0)], "Succeeded"),
        ("OnFailure", [_ok(1)], "Running"),
        ("Never", [_ok(1)], "Failed"),
        ("Never", [_ok(0), RUNNING], "Running"),
        ("Never", [_ok(0), _ok(2)], "Failed"),
        ("Always", [{"waiting": {"reason": "ContainerCreating"}}], "Pending"),
    ],
)
def test_pod_phase_follows_upstream(policy: str, states: list[Obj], phase: str) -> None:
    names = [f"c{i}" for i in range(len(states))]
    p = {"spec": {"restartPolicy": policy, "containers": [{"name": n} for n in names]}}
    statuses = [_status(n, s) for n, s in zip(names, states, strict=True)]
    assert status.pod_phase(p, statuses) == phase


def test_a_failed_init_container_fails_a_never_restarting_pod() -> None:
    p = {
        "spec": {
            "restartPolicy": "Never",
            "initContainers": [{"name": "init"}],
            "containers": [{"name": "app"}],
        }
    }
    statuses = [_status("init", _ok(1)), _status("app", {"waiting": {"reason": "PodInitializing"}})]
    assert status.pod_phase(p, statuses) == "Failed"
    cond = status.initialized_condition(p, statuses, "Failed")
    assert cond == {
        "type": "Initialized",
        "status": "False",
        "reason": "ContainersNotInitialized",
        "message": "containers with incomplete status: [init]",
    }


def test_conditions_keep_transition_times_and_foreign_conditions() -> None:
    p = {
        "metadata": {"generation": 2},
        "spec": {
            "containers": [{"name": "a"}, {"name": "b"}],
            "readinessGates": [{"conditionType": "x/gate"}],
        },
        "status": {
            "conditions": [
                {"type": "x/gate", "status": "False"},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "T0"},
            ]
        },
    }
    statuses = [_status("a", RUNNING, ready=True), _status("b", RUNNING)]
    conds = status.pod_conditions(p, statuses, "Running", True, "T1")
    by_type = {c["type"]: c for c in conds}
    assert conds[0]["type"] == "x/gate"
    assert by_type["PodScheduled"]["lastTransitionTime"] == "T0"
    assert by_type["ContainersReady"]["message"] == "containers with unready status: [b]"
    assert by_type["Ready"]["reason"] == "ContainersNotReady"
    assert by_type["Ready"]["observedGeneration"] == 2
    statuses[1]["ready"] = True
    conds = status.pod_conditions(p, statuses, "Running", True, "T1")
    ready = {c["type"]: c for c in conds}["Ready"]
    assert ready["reason"] == "ReadinessGatesNotReady"
    assert ready["message"] == 'the status of pod readiness gate "x/gate" is not "True", but False'


def test_admission_counts_pods_and_requests() -> None:
    allocatable = {"cpu": "1930m", "memory": "7698432Ki", "pods": "3"}

    def p(cpu: str = "", init_cpu: str = "") -> Obj:
        spec: Obj = {"containers": [{"name": "a"}]}
        if cpu:
            spec["containers"][0]["resources"] = {"requests": {"cpu": cpu}}
        if init_cpu:
            spec["initContainers"] = [{"name": "i", "resources": {"requests": {"cpu": init_cpu}}}]
        return {"spec": spec}

    assert admission.pod_requests(p("500m", "1")) == {"cpu": 1000, "memory": 0}
    assert admission.admit(p("1"), [p("900m")], allocatable) is None
    reason, message = admission.admit(p("1100m"), [p("900m")], allocatable) or ("", "")
    assert reason == "OutOfcpu"
    assert message.endswith("cpu, requested: 1100, used: 900, capacity: 1930")
    assert admission.admit(p(), [p(), p(), p()], allocatable) == (
        "OutOfpods",
        "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 3, "
        "capacity: 3",
    )
