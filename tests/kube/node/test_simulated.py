"""The simulated runtime: instant pulls, CIDR addresses, scripted exits, pushed events."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from openeks.kube.node.runtime.base import (
    ContainerConfig,
    ImagePullError,
    RuntimeFailure,
    SandboxConfig,
    State,
)
from openeks.kube.node.runtime.simulated import SimulatedRuntime, exit_code_of


def _sandbox(uid: str = "u1", host_network: bool = False) -> SandboxConfig:
    return SandboxConfig(
        pod_uid=uid, name="p", namespace="ns", hostname="p", host_network=host_network
    )


def _config(command: list[str]) -> ContainerConfig:
    return ContainerConfig(name="c", image="busybox", command=command, env={})


async def test_pulls_succeed_unless_the_image_does_not_exist() -> None:
    rt = SimulatedRuntime()
    info = await rt.pull_image("busybox:1.36", "IfNotPresent")
    assert info.ref.startswith("docker.io/library/busybox@sha256:")
    assert info.id.startswith("sha256:")
    assert await rt.pull_image("busybox:1.36", "Never") == info
    with pytest.raises(ImagePullError) as e:
        await rt.pull_image("example.com/doesnotexist:v1", "Always")
    assert e.value.reason == "ErrImagePull"
    assert e.value.message == (
        'failed to pull and unpack image "example.com/doesnotexist:v1": failed to resolve '
        'reference "example.com/doesnotexist:v1": example.com/doesnotexist:v1: not found'
    )
    with pytest.raises(RuntimeFailure) as never:
        await rt.pull_image("nginx", "Never")
    assert never.value.reason == "ErrImageNeverPull"


async def test_sandboxes_take_addresses_from_the_pod_cidr() -> None:
    rt = SimulatedRuntime("10.1.2.0/24")
    a = await rt.run_sandbox(_sandbox("a"))
    b = await rt.run_sandbox(_sandbox("b"))
    host = await rt.run_sandbox(_sandbox("h", host_network=True))
    assert (a.ip, b.ip, host.ip) == ("10.1.2.2", "10.1.2.3", "")
    await rt.stop_sandbox(a)
    assert (await rt.run_sandbox(_sandbox("c"))).ip == "10.1.2.2"
    assert len(await rt.list_sandboxes()) == 3
    assert (await SimulatedRuntime().run_sandbox(_sandbox())).ip == ""


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (["false"], 1),
        (["true"], 0),
        (["sh", "-c", "exit 0"], 0),
        (["sh", "-c", "exit 42"], 42),
        (["/bin/sh", "-c", "exit 3;"], 3),
        (["sh", "-c", "sleep 1; exit 1"], None),
        (["nginx", "-g", "daemon off;"], None),
    ],
)
def test_which_commands_exit(command: list[str], code: int | None) -> None:
    assert exit_code_of(command) == code


async def test_scripted_containers_exit_and_push_an_event() -> None:
    rt = SimulatedRuntime("10.1.2.0/24", exit_delay=0.05)
    events: list[str] = []
    rt.subscribe(events.append)
    sandbox = await rt.run_sandbox(_sandbox())
    image = await rt.pull_image("busybox", "Always")
    cid = await rt.create_container(sandbox, _config(["sh", "-c", "exit 7"]), image)
    assert (await rt.container_status(cid)).state is State.CREATED
    await rt.start_container(cid)
    assert (await rt.container_status(cid)).state is State.RUNNING
    await asyncio.sleep(0.15)
    status = await rt.container_status(cid)
    assert (status.state, status.exit_code, status.reason) == (State.EXITED, 7, "Error")
    assert status.started_at and status.finished_at
    assert events == [cid]


async def test_other_containers_run_until_stopped() -> None:
    rt = SimulatedRuntime(exit_delay=0.01)
    sandbox = await rt.run_sandbox(_sandbox())
    image = await rt.pull_image("nginx", "Always")
    cid = await rt.create_container(sandbox, _config(["nginx"]), image)
    await rt.start_container(cid)
    await asyncio.sleep(0.05)
    assert (await rt.container_status(cid)).state is State.RUNNING
    assert (await rt.exec_sync(cid, ["cat", "/etc/hostname"], 1)) == (0, b"")
    await rt.stop_container(cid, 30)
    status = await rt.container_status(cid)
    assert (status.state, status.exit_code, status.reason) == (State.EXITED, 0, "Completed")
    with pytest.raises(RuntimeFailure):
        await rt.exec_sync(cid, ["true"], 1)
    await rt.remove_container(cid)
    assert (await rt.container_status(cid)).state is State.UNKNOWN


async def test_the_log_file_exists_for_the_node_api(tmp_path: Path) -> None:
    rt = SimulatedRuntime()
    sandbox = await rt.run_sandbox(_sandbox())
    log = tmp_path / "logs" / "c" / "0.log"
    config = _config(["nginx"])
    config.log_path = str(log)
    await rt.create_container(sandbox, config, await rt.pull_image("nginx", "Always"))
    assert log.exists() and log.read_bytes() == b""
