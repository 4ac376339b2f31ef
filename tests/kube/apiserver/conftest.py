"""Fixtures: a real API server process per test module, on sqlite or etcd, and kubectl."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.apiserver import ApiServerProcess
from tests.support.etcd import EtcdCluster
from tests.support.kubectl import Kubectl


@pytest.fixture(scope="module", params=["sqlite", "etcd"])
def apiserver(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServerProcess]:
    data = tmp_path_factory.mktemp(f"apiserver-{request.param}")
    if request.param == "etcd":
        with (
            EtcdCluster(data / "etcd", members=1) as etcd,
            ApiServerProcess(data / "kube", store=etcd.url) as api,
        ):
            yield api
    else:
        with ApiServerProcess(data / "kube") as api:
            yield api


@pytest.fixture(scope="module")
def kubectl(apiserver: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(apiserver.kubeconfig, tmp_path_factory.mktemp("home"))


@pytest.fixture
def namespace(kubectl: Kubectl, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "t-" + request.node.name.lower().replace("_", "-").replace("[", "-").replace("]", "")[
        :50
    ].strip("-")
    kubectl(
        "apply", "-f", "-", input=f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
    )
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def manifest(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
