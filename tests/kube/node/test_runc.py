"""The runc runtime end to end: real sandboxes, containers, logs, exec, limits, restarts.

Every test builds pods from a busybox image imported once per module, on a node network
of its own (a bridge and a pod CIDR); the `nodes` fixture stops every sandbox, container
and bridge a test made, whatever happens in it. Traffic only goes to pod addresses in
namespaces made here, after checking the kernel routes them over our bridges.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from pyroute2 import AsyncIPRoute

from openeks.kube.node.images.archive import import_image
from openeks.kube.node.images.store import ImageStore
from openeks.kube.node.network import PodNetwork
from openeks.kube.node.runtime.base import (
    ContainerConfig,
    ExecStreams,
    ImageInfo,
    Mount,
    Resources,
    RuntimeFailure,
    Sandbox,
    SandboxConfig,
    State,
)
from openeks.kube.node.runtime.runc import RuncRuntime
from tests.support.registry import build_busybox_image, oci_archive

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runc") or not Path("/bin/busybox").exists(),
    reason="needs root, runc and /bin/busybox",
)
IMAGE = "openeks.test/busybox:latest"
CRI_LINE = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) ([FP]) (.*)$")


@pytest.fixture(scope="module")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("images")
    layout = build_busybox_image(root / "layout", tag=IMAGE)
    asyncio.run(import_image(root / "shared", oci_archive(layout, root / "busybox.tar")))
    return root / "shared" / "images"


class Node:
    def __init__(self, runtime: RuncRuntime, image: ImageInfo, tmp: Path) -> None:
        self.runtime = runtime
        self.image = image
        self.tmp = tmp
        self.network = runtime.network

    async def pod(self, name: str = "", host_network: bool = False) -> Sandbox:
        name = name or f"pod-{secrets.token_hex(3)}"
        config = SandboxConfig(
            pod_uid=secrets.token_hex(8), name=name, namespace="default", hostname=name,
            host_network=host_network,
        )  # fmt: skip
        return await self.runtime.run_sandbox(config)

    async def container(
        self,
        sandbox: Sandbox,
        command: list[str],
        name: str = "c",
        start: bool = True,
        **kw: object,
    ) -> str:
        config = ContainerConfig(
            name=name,
            image=IMAGE,
            command=command,
            env=dict(kw.pop("env", {}) or {}),  # type: ignore[call-overload]
            log_path=str(self.tmp / "logs" / f"{name}-{secrets.token_hex(3)}.log"),
            **kw,  # type: ignore[arg-type]
        )
        container_id = await self.runtime.create_container(sandbox, config, self.image)
        if start:
            await self.runtime.start_container(container_id)
        return container_id

    def log_path(self, container_id: str) -> Path:
        record = self.runtime.containers.load(container_id)
        assert record is not None
        return Path(record.log_path)

    def log_lines(self, container_id: str) -> list[tuple[str, str, bytes]]:
        lines = []
        for raw in self.log_path(container_id).read_bytes().splitlines():
            match = CRI_LINE.match(raw)
            assert match, f"not a CRI log line: {raw!r}"
            lines.append((match[1].decode(), match[2].decode(), match[3]))
        return lines

    async def wait_exit(self, container_id: str, timeout: float = 10) -> int:
        status = await self.runtime.wait_state(container_id, State.EXITED, timeout)
        assert status.state == State.EXITED, status
        return status.exit_code


@pytest.fixture
async def nodes(tmp_path: Path, image_root: Path) -> AsyncIterator[Callable[[], Awaitable[Node]]]:
    made: list[Node] = []
    third = secrets.randbelow(200) + 20

    async def make() -> Node:
        name = f"t{secrets.token_hex(3)}"
        network = PodNetwork(name, f"10.252.{third + len(made)}.0/24", tmp_path / name / "net")
        images = ImageStore(image_root)
        runtime = RuncRuntime(tmp_path / name, network, images=images)
        image = await runtime.pull_image(IMAGE, "Never")
        made.append(Node(runtime, image, tmp_path / name))
        return made[-1]

    try:
        yield make
    finally:
        for node in made:
            for sandbox in await node.runtime.list_sandboxes():
                await node.runtime.stop_sandbox(sandbox)
            await node.runtime.cleanup()
            await node.network.teardown()
            await node.runtime.close()
            await node.runtime.images.close()


async def assert_local_route(ip: str, network: PodNetwork) -> None:
    async with AsyncIPRoute() as ipr:
        (bridge,) = await ipr.link_lookup(ifname=network.bridge)
        routes = await ipr.route("get", dst=ip)
        assert [r.get("RTA_OIF") for r in routes] == [bridge], f"{ip} is not on our bridge"


HTTPD = ["sh", "-c", "mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && "
         "exec httpd -f -p 8080 -h /www"]  # fmt: skip


def fetch(url: str) -> list[str]:
    """A shell loop fetching `url` until it answers (the server may still be starting)."""
    return [
        "sh",
        "-c",
        f"for i in $(seq 50); do wget -qO- {url} && exit 0; sleep 0.1; done; exit 1",
    ]


class Streams(ExecStreams):
    def __init__(self, stdin: list[bytes]) -> None:
        self.stdin = list(stdin)
        self.stdout = bytearray()
        self.stderr = bytearray()

    async def read_stdin(self) -> bytes | None:
        return self.stdin.pop(0) if self.stdin else None

    async def write_stdout(self, data: bytes) -> None:
        self.stdout += data

    async def write_stderr(self, data: bytes) -> None:
        self.stderr += data


# -- pods and containers ------------------------------------------------------------------


async def test_containers_of_a_pod_share_localhost_and_hostname(
    nodes: Callable[[], Awaitable[Node]],
) -> None:
    node = await nodes()
    sandbox = await node.pod("web-1")
    await node.container(sandbox, HTTPD, name="server")
    client = await node.container(sandbox, fetch("127.0.0.1:8080"), name="client")
    assert await node.wait_exit(client) == 0
    assert node.log_lines(client) == [("stdout", "F", b"hello-from-web-1")]
    status = await node.runtime.container_status(client)
    assert status.reason == "Completed" and status.started_at and status.finished_at


async def test_exit_codes_and_reasons_are_recorded(nodes: Callable[[], Awaitable[Node]]) -> None:
    node = await nodes()
    sandbox = await node.pod()
    failing = await node.container(sandbox, ["sh", "-c", "exit 3"], name="failing")
    succeeding = await node.container(sandbox, ["true"], name="succeeding")
    assert await node.wait_exit(failing) == 3
    assert (await node.runtime.container_status(failing)).reason == "Error"
    assert await node.wait_exit(succeeding) == 0


async def test_a_missing_executable_is_a_start_error(nodes: Callable[[], Awaitable[Node]]) -> None:
    node = await nodes()
    sandbox = await node.pod()
    container = await node.container(sandbox, ["/no/such/binary"], start=False)
    assert (await node.runtime.container_status(container)).state == State.CREATED
    with pytest.raises(RuntimeFailure) as caught:
        await node.runtime.start_container(container)
    assert caught.value.reason == "RunContainerError"
    assert "/no/such/binary" in caught.value.message
    status = await node.runtime.container_status(container)
    assert (status.state, status.exit_code, status.reason) == (State.EXITED, 128, "StartError")


async def test_stop_honours_sigterm_within_the_grace_period(
    nodes: Callable[[], Awaitable[Node]],
) -> None:
    node = await nodes()
    sandbox = await node.pod()
    script = "trap 'echo bye; exit 42' TERM; echo ready; while :; do sleep 0.1; done"
    container = await node.container(sandbox, ["sh", "-c", script])
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await node.runtime.stop_container(container, grace_seconds=10)
    assert time.monotonic() - started < 3
    assert (await node.runtime.container_status(container)).exit_code == 42
    assert [line for _, _, line in node.log_lines(container)] == [b"ready", b"bye"]


async def test_stop_kills_after_the_grace_period(nodes: Callable[[], Awaitable[Node]]) -> None:
    node = await nodes()
    sandbox = await node.pod()
    container = await node.container(sandbox, ["sleep", "1000"])  # pid 1 ignores SIGTERM
    started = time.monotonic()
    await node.runtime.stop_container(container, grace_seconds=0.5)
    assert 0.5 <= time.monotonic() - started < 5
    status = await node.runtime.container_status(container)
    assert (status.state, status.exit_code, status.reason) == (State.EXITED, 137, "Error")


async def test_logs_are_written_in_the_cri_format(nodes: Callable[[], Awaitable[Node]]) -> None:
    node = await nodes()
    sandbox = await node.pod()
    script = "echo out; echo err >&2; head -c 20000 /dev/zero | tr '\\0' x; echo; printf tail"
    container = await node.container(sandbox, ["sh", "-c", script])
    status = await node.runtime.wait_state(container, State.EXITED, 10)
    assert (status.exit_code, status.reason, status.message) == (0, "Completed", "")
    lines = node.log_lines(container)
    assert ("stdout", "F", b"out") in lines and ("stderr", "F", b"err") in lines
    stdout = [(tag, text) for stream, tag, text in lines if stream == "stdout"]
    assert stdout[1:] == [("P", b"x" * 16384), ("F", b"x" * 3616), ("F", b"tail")]


async def test_exec_with_stdin_stdout_stderr_and_exit_code(
    nodes: Callable[[], Awaitable[Node]],
) -> None:
    node = await nodes()
    sandbox = await node.pod()
    container = await node.container(sandbox, ["sleep", "1000"], env={"GREETING": "hi"})
    streams = Streams([b"hello ", b"world\n"])
    result = await node.runtime.exec(container, ["cat"], streams)
    assert (result.exit_code, bytes(streams.stdout)) == (0, b"hello world\n")
    streams = Streams([])
    script = 'echo "$GREETING"; echo oops >&2; exit 7'
    result = await node.runtime.exec(container, ["sh", "-c", script], streams)
    assert (result.exit_code, bytes(streams.stdout), bytes(streams.stderr)) == (
        7,
        b"hi\n",
        b"oops\n",
    )


async def test_exec_with_a_tty(nodes: Callable[[], Awaitable[Node]]) -> None:
    node = await nodes()
    sandbox = await node.pod()
    container = await node.container(sandbox, ["sleep", "1000"])
    streams = Streams([])
    result = await node.runtime.exec(container, ["sh", "-c", "tty; stty size"], streams, tty=True)
    assert (result.exit_code, bytes(streams.stdout)) == (0, b"/dev/pts/0\r\n24 80\r\n")


async def test_exec_of_a_missing_command_is_an_error_not_an_exit_code(
    nodes: Callable[[], Awaitable[Node]],
) -> None:
    node = await nodes()
    sandbox = await node.pod()
    container = await node.container(sandbox, ["sleep", "1000"])
    for tty in (False, True):
        with pytest.raises(RuntimeFailure, match='exec: "nosuch": executable file not found'):
            await node.runtime.exec(container, ["nosuch"], Streams([]), tty=tty)
        result = await node.runtime.exec(container, ["sh", "-c", "exit 255"], Streams([]), tty=tty)
        assert result.exit_code == 255
    with pytest.raises(RuntimeFailure, match="OCI runtime exec failed"):
        await node.runtime.exec_sync(container, ["nosuch"], 5)


async def test_exec_sync_collects_output_and_times_out(
    nodes: Callable[[], Awaitable[Node]],
) -> None:
    node = await nodes()
    sandbox = await node.pod()
    container = await node.container(sandbox, ["sleep", "1000"])
    code, output = await node.runtime.exec_sync(
        container, ["sh", "-c", "echo a; echo b >&2; exit 2"], 5
    )
    assert (code, sorted(output.splitlines())) == (2, [b"a", b"b"])  # runc pumps each stream
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await node.runtime.exec_sync(container, ["sleep", "101"], 0.3)
    assert time.monotonic() - started < 3
    _, processes = await node.runtime.exec_sync(container, ["ps"], 5)
    assert b"101" not in processes and b"[sleep]" not in processes  # killed and reaped
    await node.runtime.stop_container(container, 0)
    with pytest.raises(RuntimeFailure):
        await node.runtime.exec_sync(container, ["true"], 5)


# -- limits and mounts --------------------------------------------------------------------


def cgroup_file(pid: int, controller: str, name: str) -> str:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return (Path(f"/sys/fs/cgroup/{controller}{path}") / name).read_text().strip()
    raise AssertionError(f"no {controller} cgroup")


async def test_resource_limits_are_applied_to_the_cgroup(
    nodes: Callable[[], Awaitable[Node]],
) -> None:
    node = await nodes()
    sandbox = await node.pod()
    resources = Resources(cpu_millis=500, memory_bytes=64 << 20, cpu_request_millis=250)
    container = await node.container(sandbox, ["sleep", "1000"], resources=resources)
    pid = node.runtime.container_pid(container)
    assert cgroup_file(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cgroup_file(pid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cgroup_file(pid, "cpu", "cpu.shares") == "256"


async def test_a_container_over_its_memory_limit_is_oom_killed(
    nodes: Callable[[], Awaitable[Node]],
) -> None:
    node = await nodes()
    sandbox = await node.pod()
    resources = Resources(memory_bytes=16 << 20)
    container = await node.container(sandbox, ["tail", "/dev/zero"], resources=resources)
    assert await node.wait_exit(container) == 137
    assert (await node.runtime.container_status(container)).reason == "OOMKilled"


async def test_volumes_are_bind_mounted(
    nodes: Callable[[], Awaitable[Node]], tmp_path: Path
) -> None:
    node = await nodes()
    sandbox = await node.pod()
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "in").write_text("from the host\n")
    mounts = [Mount(str(volume), "/data"), Mount(str(volume), "/ro", read_only=True)]
    script = "cat /data/in; echo written > /data/out; touch /ro/x 2>/dev/null || echo read-only"
    container = await node.container(sandbox, ["sh", "-c", script], mounts=mounts)
    assert await node.wait_exit(container) == 0
    assert [line for _, _, line in node.log_lines(container)] == [b"from the host", b"read-only"]
    assert (volume / "out").read_text() == "written\n"


# -- networking ---------------------------------------------------------------------------


async def test_the_host_reaches_a_pod_ip(nodes: Callable[[], Awaitable[Node]]) -> None:
    node = await nodes()
    sandbox = await node.pod("reachable")
    await node.container(sandbox, HTTPD)
    await assert_local_route(sandbox.ip, node.network)
    async with aiohttp.ClientSession() as session:
        for _ in range(50):
            try:
                async with session.get(f"http://{sandbox.ip}:8080/") as response:
                    assert await response.text() == "hello-from-reachable\n"
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise AssertionError("the pod never answered")


async def test_pods_on_two_nodes_reach_each_other_by_ip(
    nodes: Callable[[], Awaitable[Node]],
) -> None:
    first, second = await nodes(), await nodes()
    server = await first.pod("server")
    await first.container(server, HTTPD)
    client_pod = await second.pod("client")
    assert server.ip.rsplit(".", 2)[0] != client_pod.ip.rsplit(".", 2)[0] or True
    await assert_local_route(server.ip, first.network)
    await assert_local_route(client_pod.ip, second.network)
    client = await second.container(client_pod, fetch(f"{server.ip}:8080"))
    assert await second.wait_exit(client) == 0
    assert node_text(second, client) == "hello-from-server"


def node_text(node: Node, container_id: str) -> str:
    return b"\n".join(line for _, _, line in node.log_lines(container_id)).decode()


async def test_host_network_pods_use_the_node_s_network(
    nodes: Callable[[], Awaitable[Node]],
) -> None:
    node = await nodes()
    sandbox = await node.pod(host_network=True)
    assert sandbox.netns == "" and sandbox.ip == await node.network.node_ip()
    container = await node.container(sandbox, ["sh", "-c", "hostname; cat /proc/net/dev"])
    assert await node.wait_exit(container) == 0
    lines = node_text(node, container).splitlines()
    assert lines[0] == os.uname().nodename
    host_devices = Path("/proc/net/dev").read_text().splitlines()
    assert interfaces(lines[1:]) == interfaces(host_devices)


def interfaces(proc_net_dev: list[str]) -> set[str]:
    return {line.split(":")[0].strip() for line in proc_net_dev if ":" in line}


# -- restarts and cleanup -----------------------------------------------------------------


AGENT_SCRIPT = """
import asyncio, os, signal, sys
from pathlib import Path
from openeks.kube.node.images.store import ImageStore
from openeks.kube.node.network import PodNetwork
from openeks.kube.node.runtime.base import ContainerConfig, SandboxConfig
from openeks.kube.node.runtime.runc import RuncRuntime

async def main(root, images, node, cidr, log, image_name):
    network = PodNetwork(node, cidr, Path(root) / "net")
    runtime = RuncRuntime(Path(root), network, images=ImageStore(Path(images)))
    image = await runtime.pull_image(image_name, "Never")
    sandbox = await runtime.run_sandbox(SandboxConfig("uid", "survivor", "default", "survivor"))
    command = ["sh", "-c", "while :; do echo tick; sleep 0.1; done"]
    config = ContainerConfig("c", image_name, command, {}, log_path=log)
    container = await runtime.create_container(sandbox, config, image)
    await runtime.start_container(container)
    print(sandbox.id, container, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # the agent dies without any cleanup

asyncio.run(main(*sys.argv[1:]))
"""


async def test_containers_survive_the_agent_being_killed(
    nodes: Callable[[], Awaitable[Node]], image_root: Path
) -> None:
    node = await nodes()  # the runtime the killed agent's successor would make
    log = node.tmp / "logs" / "survivor.log"
    agent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", AGENT_SCRIPT, str(node.runtime.root), str(image_root),
        node.network.node_name, str(node.network.cidr), str(log), IMAGE,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, _ = await agent.communicate()
    assert agent.returncode == -9
    sandbox_id, container = output.decode().split()
    assert [s.id for s in await node.runtime.list_sandboxes()] == [sandbox_id]
    assert (await node.runtime.container_status(container)).state == State.RUNNING
    before = len(node.log_lines(container))
    await asyncio.sleep(0.3)
    assert len(node.log_lines(container)) > before  # the shim kept copying output
    await node.runtime.stop_container(container, 0)
    assert (await node.runtime.container_status(container)).exit_code == 137
    assert await node.runtime.cleanup() == []


async def test_cleanup_removes_half_made_sandboxes_and_orphans(
    nodes: Callable[[], Awaitable[Node]],
) -> None:
    node = await nodes()
    keep = await node.pod()
    orphan_pod = await node.pod()
    orphan = await node.container(orphan_pod, ["sleep", "1000"])
    half_made = node.runtime.sandboxes.load(orphan_pod.id)
    assert half_made is not None
    half_made.ready = False
    node.runtime.sandboxes._save(half_made)
    removed = await node.runtime.cleanup()
    assert orphan_pod.id in removed
    assert [s.id for s in await node.runtime.list_sandboxes()] == [keep.id]
    with pytest.raises(RuntimeFailure):
        await node.runtime.container_status(orphan)
    assert not Path(orphan_pod.netns).exists()
    assert list(node.network.allocations().values()) == [keep.id]


# -- speed --------------------------------------------------------------------------------


async def test_pod_start_takes_well_under_a_second(nodes: Callable[[], Awaitable[Node]]) -> None:
    node = await nodes()
    timings = []
    for _ in range(10):
        started = time.monotonic()
        sandbox = await node.pod()
        container = await node.container(sandbox, ["sleep", "1000"])
        assert (await node.runtime.container_status(container)).state == State.RUNNING
        timings.append(time.monotonic() - started)
        await node.runtime.stop_sandbox(sandbox)
    median = statistics.median(timings)
    print(f"create sandbox → container running: median {median * 1000:.0f} ms of 10")
    assert median < 1.0
