"""Fixtures for the region suites: a region on its own address blocks, a fast scratch
directory, TLS material, and child processes that are always killed afterwards."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from openeks.region import Region, RestartPolicy, Supervisor
from tests.region.support import TlsFiles, make_tls


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Load balancer tests run on asyncio's loop and on uvloop (which the region service
    uses, and which behaves differently around `pause_reading`); the rest on asyncio's."""
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    if item.path.name == "test_loadbalancer.py":
        try:
            import uvloop
        except ImportError:
            return factories
        factories["uvloop"] = uvloop.new_event_loop
    return factories


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A scratch directory, on /dev/shm when possible (etcd fsyncs every write)."""
    shm = "/dev/shm"
    parent = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix="openeks-region-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def region() -> Region:
    """us-east-1 on address blocks of its own (a random second octet in 120..248), so
    parallel test runs and a real region on 127.100-103 never share an address."""
    return Region.create("us-east-1", octet=random.randrange(120, 248, 4))


@pytest.fixture
async def supervisor(workdir: Path, region: Region) -> AsyncIterator[Supervisor]:
    """An open supervisor; closed (every process stopped) after the test."""
    sup = Supervisor(workdir / "region", region.zone_names, policy=RestartPolicy())
    await sup.open()
    try:
        yield sup
    finally:
        await sup.close()


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start a child process (own session); every one is SIGKILLed at teardown."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*argv: str, log: Path | None = None) -> subprocess.Popen[bytes]:
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, *argv], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="session")
def tls() -> Iterator[TlsFiles]:
    """A self-signed server certificate (no names: clients check the chain only)."""
    directory = Path(tempfile.mkdtemp(prefix="openeks-region-tls-"))
    try:
        yield make_tls(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
