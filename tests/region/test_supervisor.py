"""The supervisor with real child processes: readiness, restarts with back-off, ordered
stops, zone faults that hold processes down, and state that survives a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from openeks.region import (
    ProcessSpec,
    ProcessState,
    Region,
    RestartPolicy,
    Supervisor,
    SupervisorBusyError,
    TcpProbe,
)
from openeks.region.process import pdeathsig_prefix
from tests.region.support import CHILD, REGION_PROCESS, free_port


@dataclass
class Record:
    kind: str
    name: str
    pid: int | None
    at: float


def records(path: Path) -> list[Record]:
    if not path.exists():
        return []
    result = []
    for line in path.read_text().splitlines():
        fields = line.split()
        pid = int(fields[2]) if fields[0] == "start" else None
        result.append(Record(fields[0], fields[1], pid, float(fields[-1])))
    return result


def starts(path: Path, name: str) -> list[Record]:
    return [r for r in records(path) if r.kind == "start" and r.name == name]


def child_spec(
    workdir: Path,
    name: str,
    *args: str,
    zone: str | None = "us-east-1a",
    port: int | None = None,
    **fields: object,
) -> ProcessSpec:
    argv = [sys.executable, CHILD, name, "--record", str(workdir / "record.txt"), *args]
    probe = None
    if port is not None:
        argv += ["--listen", f"127.0.0.1:{port}"]
        probe = TcpProbe("127.0.0.1", port, timeout=0.5)
    return ProcessSpec(
        name=name,
        argv=tuple(argv),
        log_file=workdir / "logs" / f"{name}.log",
        zone=zone,
        probe=probe,
        **fields,  # type: ignore[arg-type]
    )


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_a_process_starts_and_is_ready_once_its_probe_passes(
    supervisor: Supervisor, workdir: Path
) -> None:
    spec = child_spec(workdir, "web", "--listen-after", "0.3", port=free_port())
    status = await supervisor.ensure(spec)
    assert status.state == ProcessState.STARTING
    assert (await supervisor.wait_ready("web", timeout=10)).state == ProcessState.READY
    status = supervisor.status("web")
    assert alive(status.pid) and status.restarts == 0
    assert starts(workdir / "record.txt", "web")[0].pid == status.pid
    log = spec.log_file.read_text()
    assert "openeks supervisor" in log and "web started" in log
    assert await supervisor.ensure(spec) == status  # same spec: nothing happens


async def test_a_killed_process_is_restarted_with_doubling_back_off(
    supervisor: Supervisor, workdir: Path
) -> None:
    record = workdir / "record.txt"
    await supervisor.ensure(child_spec(workdir, "svc", port=free_port()))
    await supervisor.wait_ready("svc", timeout=10)
    gaps = []
    for round_ in (1, 2):
        pid = supervisor.status("svc").pid
        assert pid is not None
        killed_at = time.time()
        os.kill(pid, signal.SIGKILL)
        await eventually(lambda: supervisor.status("svc").state == ProcessState.CRASHED)
        assert supervisor.status("svc").last_error == "killed by SIGKILL"
        await eventually(lambda r=round_: len(starts(record, "svc")) == r + 1)  # type: ignore[misc]
        gaps.append(starts(record, "svc")[-1].at - killed_at)
        await supervisor.wait_ready("svc", timeout=10)
    assert 0.5 <= gaps[0] < 1.0 + 0.5
    assert 1.0 <= gaps[1] < 2.0 + 0.5
    assert supervisor.status("svc").restarts == 2


def test_back_off_doubles_to_the_cap_and_resets_after_a_long_run() -> None:
    policy = RestartPolicy()
    delays = [0.0]
    for _ in range(7):
        delays.append(policy.next_delay(delays[-1], uptime=1.0))
    assert delays[1:] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.next_delay(10.0, uptime=61.0) == 0.5


async def test_a_process_that_never_gets_ready_is_killed_and_restarted(
    supervisor: Supervisor, workdir: Path
) -> None:
    spec = child_spec(workdir, "stuck", start_timeout=0.4)
    spec = replace(spec, probe=TcpProbe("127.0.0.1", free_port(), 0.2))
    await supervisor.ensure(spec)
    await eventually(lambda: supervisor.status("stuck").restarts >= 1)
    assert supervisor.status("stuck").last_error.startswith("not ready after 0.4s")
    await eventually(lambda: len(starts(workdir / "record.txt", "stuck")) >= 2)


async def test_a_command_that_cannot_start_is_reported_and_retried(
    supervisor: Supervisor, workdir: Path
) -> None:
    spec = ProcessSpec("ghost", ("/nonexistent/binary",), workdir / "ghost.log", zone=None)
    supervisor_without_setpriv = supervisor._prefix == ()
    await supervisor.ensure(spec)
    await eventually(lambda: supervisor.status("ghost").restarts >= 1)
    error = supervisor.status("ghost").last_error
    # Without setpriv the exec fails in the supervisor; with it, setpriv exits 127.
    assert ("cannot start" in error) if supervisor_without_setpriv else error.startswith("exited")


async def test_close_stops_higher_orders_first_and_kills_what_ignores_sigterm(
    supervisor: Supervisor, workdir: Path
) -> None:
    for order, name in enumerate(["etcd", "apiserver", "scheduler"]):
        extra = ["--ignore-term"] if name == "apiserver" else ["--term-delay", "0.1"]
        spec = child_spec(workdir, name, *extra, port=free_port(), order=order, stop_grace=0.5)
        await supervisor.ensure(spec)
    for name in ["etcd", "apiserver", "scheduler"]:
        await supervisor.wait_ready(name, timeout=10)
    pids = {s.name: s.pid for s in supervisor.statuses()}
    started = time.monotonic()
    await supervisor.close()
    assert time.monotonic() - started >= 0.5  # the apiserver's grace ran out
    terms = [r.name for r in records(workdir / "record.txt") if r.kind == "term"]
    assert terms == ["scheduler", "apiserver", "etcd"]
    assert not any(alive(pid) for pid in pids.values())
    assert {s.state for s in supervisor.statuses()} == {ProcessState.STOPPED}


async def test_zone_down_holds_the_zone_down_past_the_back_off_until_zone_up(
    supervisor: Supervisor, workdir: Path
) -> None:
    record = workdir / "record.txt"
    for name, zone in [("a1", "us-east-1a"), ("a2", "us-east-1a"), ("b1", "us-east-1b")]:
        await supervisor.ensure(child_spec(workdir, name, zone=zone, port=free_port()))
    await supervisor.ensure(child_spec(workdir, "global", zone=None, port=free_port()))
    for name in ["a1", "a2", "b1", "global"]:
        await supervisor.wait_ready(name, timeout=10)
    victims = {n: supervisor.status(n).pid for n in ["a1", "a2"]}

    assert sorted(await supervisor.zone_down("us-east-1a")) == ["a1", "a2"]
    assert not any(alive(pid) for pid in victims.values())
    assert all(supervisor.status(n).state == ProcessState.ZONE_DOWN for n in victims)
    late = child_spec(workdir, "a3", zone="us-east-1a", port=free_port())
    assert (await supervisor.ensure(late)).state == ProcessState.ZONE_DOWN

    await asyncio.sleep(1.6)  # longer than the first two back-off steps
    assert [len(starts(record, n)) for n in ["a1", "a2", "a3"]] == [1, 1, 0]
    assert supervisor.status("b1").state == ProcessState.READY
    assert supervisor.status("global").state == ProcessState.READY
    zones = {z.name: z for z in supervisor.zone_states()}
    assert zones["us-east-1a"].down and not zones["us-east-1b"].down
    assert {p.name for p in zones["us-east-1a"].processes} == {"a1", "a2", "a3"}

    assert sorted(await supervisor.zone_up("us-east-1a")) == ["a1", "a2", "a3"]
    for name in ["a1", "a2", "a3"]:
        await supervisor.wait_ready(name, timeout=10)
    assert [len(starts(record, n)) for n in ["a1", "a2", "a3"]] == [2, 2, 1]
    assert supervisor.status("a1").restarts == 0  # a fault is not a crash


async def test_state_survives_a_restart_of_the_supervisor(workdir: Path, region: Region) -> None:
    state_dir = workdir / "region"
    first = await Supervisor(state_dir, region.zone_names).open()
    try:
        with pytest.raises(SupervisorBusyError):
            await Supervisor(state_dir, region.zone_names).open()
        await first.ensure(child_spec(workdir, "a1", zone="us-east-1a", port=free_port()))
        await first.ensure(child_spec(workdir, "b1", zone="us-east-1b", port=free_port()))
        await first.wait_ready("b1", timeout=10)
        await first.zone_down("us-east-1a")
    finally:
        await first.close()
    document = json.loads((state_dir / "supervisor.json").read_text())
    assert sorted(document["processes"]) == ["a1", "b1"]
    assert list(document["zonesDown"]) == ["us-east-1a"]

    second = await Supervisor(state_dir, region.zone_names).open()
    try:
        assert second.is_down("us-east-1a")
        assert (await second.wait_ready("b1", timeout=10)).state == ProcessState.READY
        assert second.status("a1").state == ProcessState.ZONE_DOWN
        await second.zone_up("us-east-1a")
        await second.wait_ready("a1", timeout=10)
        await second.remove("a1")
    finally:
        await second.close()
    third = Supervisor(state_dir, region.zone_names)
    await third.open(resume=False)
    await third.close()
    document = json.loads((state_dir / "supervisor.json").read_text())
    assert document["processes"] == {} and document["zonesDown"] == {}


async def test_a_changed_spec_restarts_the_process_and_remove_stops_it(
    supervisor: Supervisor, workdir: Path
) -> None:
    port = free_port()
    await supervisor.ensure(child_spec(workdir, "svc", port=port))
    old = (await supervisor.wait_ready("svc", timeout=10)).pid
    await supervisor.ensure(child_spec(workdir, "svc", "--term-delay", "0", port=port))
    new = (await supervisor.wait_ready("svc", timeout=10)).pid
    assert old != new and not alive(old)
    await supervisor.remove("svc")
    assert not alive(new)
    assert [s.name for s in supervisor.statuses()] == []


@pytest.mark.parametrize("pdeathsig", [True, False], ids=["setpriv", "no-setpriv"])
async def test_children_of_a_region_killed_with_sigkill_do_not_survive_its_restart(
    workdir: Path, region: Region, pdeathsig: bool
) -> None:
    if pdeathsig and not pdeathsig_prefix():
        pytest.skip("setpriv --pdeathsig is not available")
    state_dir = workdir / "region"
    spec = child_spec(workdir, "member", port=free_port())
    argv = [sys.executable, REGION_PROCESS, str(state_dir), json.dumps(spec.to_json())]
    service = subprocess.Popen(
        [*argv, *([] if pdeathsig else ["--no-pdeathsig"])],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert service.stdout is not None
        assert service.stdout.readline().strip() == b"ready"
        orphan = starts(workdir / "record.txt", "member")[0].pid
        os.killpg(service.pid, signal.SIGKILL)
        service.wait()
        await asyncio.sleep(0.2)
        assert alive(orphan) != pdeathsig  # setpriv: died with its parent

        restarted = Supervisor(state_dir, region.zone_names)
        await restarted.open()  # kills a surviving orphan, then starts the spec again
        try:
            assert not alive(orphan)
            status = await restarted.wait_ready("member", timeout=10)
            assert status.pid != orphan and alive(status.pid)
        finally:
            await restarted.close()
    finally:
        if service.poll() is None:
            os.killpg(service.pid, signal.SIGKILL)
            service.wait()
        if service.stdout is not None:
            service.stdout.close()


def test_the_supervisor_runs_on_uvloop(workdir: Path, region: Region) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> None:
        async with Supervisor(workdir / "uv", region.zone_names) as sup:
            await sup.ensure(child_spec(workdir, "uv", port=free_port()))
            pid = (await sup.wait_ready("uv", timeout=10)).pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await eventually(lambda: sup.status("uv").restarts == 1)
            assert (await sup.wait_ready("uv", timeout=10)).pid != pid
            await sup.zone_down("us-east-1a")
            assert not alive(pid)

    uvloop.run(scenario())
