"""Fixtures for the store suites: one `store` per backend, and real etcd clusters.

`backend` is parametrized over memory, sqlite and etcd; `store` opens it for one test
and closes it afterwards. All etcd tests share one single-member cluster per session,
so tests keep to their own key prefix (`ns`) and never assume absolute revisions.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openeks.store import Store, open_store
from tests.support.etcd import EtcdCluster, etcd_available


@pytest.fixture(scope="session")
def etcd_cluster() -> Iterator[EtcdCluster]:
    """A single-member etcd for the whole session (stopped at the end, even on failure)."""
    if not etcd_available():
        pytest.skip("etcd is not installed")
    with EtcdCluster(members=1) as cluster:
        yield cluster


@dataclass(frozen=True)
class Backend:
    name: str
    url: str
    durable: bool
    """Whether closing and reopening `url` gives back the same data."""

    async def open(self) -> Store:
        return await open_store(self.url)


@pytest.fixture(params=["memory", "sqlite", pytest.param("etcd", marks=pytest.mark.etcd)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    name = request.param
    if name == "memory":
        return Backend(name, "memory://", durable=False)
    if name == "sqlite":
        return Backend(name, f"sqlite://{tmp_path}/store/state.db", durable=True)
    cluster: EtcdCluster = request.getfixturevalue("etcd_cluster")
    return Backend(name, cluster.url, durable=True)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def ns() -> str:
    """A key prefix no other test uses: "/t-<random>/"."""
    return f"/t-{uuid.uuid4().hex[:12]}/"
