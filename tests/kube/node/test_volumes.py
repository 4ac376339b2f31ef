"""Pod volumes on the node: files, modes, the atomic writer layout, errors, mounts."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from openeks.kube.client import Client
from openeks.kube.client.resources import CONFIGMAPS, PODS
from openeks.kube.node.envvars import PodContext, Sources
from openeks.kube.node.volumes import (
    VolumeError,
    container_mounts,
    referenced_sources,
    setup_volume,
    write_atomic,
)
from tests.kube.node.conftest import AgentFactory, container_status, eventually, pod

Obj = dict[str, Any]
POD: Obj = {
    "metadata": {
        "name": "web-1",
        "namespace": "shop",
        "uid": "u-1",
        "labels": {"app": "web", "tier": "front"},
        "annotations": {"note": 'say "hi"'},
    },
    "spec": {
        "nodeName": "node-a",
        "containers": [
            {"name": "main", "resources": {"limits": {"memory": "64Mi"}}},
        ],
    },
}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _sources() -> Sources:
    return Sources(
        namespace="shop",
        configmaps={
            "settings": {
                "data": {"a.conf": "alpha", "b.conf": "beta"},
                "binaryData": {"blob": _b64("\x00\x01")},
            },
            "missing-key": {"data": {}},
        },
        secrets={"creds": {"data": {"user": _b64("admin"), "pass": _b64("s3cret")}}},
    )


def _ctx() -> PodContext:
    return PodContext(POD, ["10.0.0.7"], ["192.168.1.2"], {"memory": "8Gi", "cpu": "2"})


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_configmap_volume_has_every_key_with_the_atomic_writer_layout(tmp_path: Path) -> None:
    volume = {"name": "cfg", "configMap": {"name": "settings", "defaultMode": 0o640}}
    vp = setup_volume(volume, tmp_path, _sources(), _ctx())
    assert vp.host_path == tmp_path / "volumes" / "kubernetes.io~configmap" / "cfg"
    assert vp.read_only
    root = vp.host_path
    assert (root / "a.conf").read_text() == "alpha"
    assert (root / "blob").read_bytes() == b"\x00\x01"
    assert os.readlink(root / "a.conf") == "..data/a.conf"
    data = os.readlink(root / "..data")
    assert data.startswith("..") and (root / data).is_dir()
    assert _mode(root / data / "a.conf") == 0o640


def test_items_select_keys_paths_and_modes(tmp_path: Path) -> None:
    volume = {
        "name": "cfg",
        "configMap": {
            "name": "settings",
            "items": [{"key": "a.conf", "path": "conf/app.conf", "mode": 0o600}],
        },
    }
    root = setup_volume(volume, tmp_path, _sources(), _ctx()).host_path
    assert (root / "conf" / "app.conf").read_text() == "alpha"
    assert _mode(root / "conf" / "app.conf") == 0o600
    assert not (root / "b.conf").exists()


def test_an_update_swaps_the_data_link_and_drops_removed_keys(tmp_path: Path) -> None:
    target = tmp_path / "vol"
    assert write_atomic(target, {"a": (b"1", 0o644), "b": (b"2", 0o644)})
    first = os.readlink(target / "..data")
    assert not write_atomic(target, {"a": (b"1", 0o644), "b": (b"2", 0o644)})
    assert write_atomic(target, {"a": (b"one", 0o644)})
    assert os.readlink(target / "..data") != first
    assert not (target / first).exists()
    assert (target / "a").read_text() == "one"
    assert not (target / "b").exists() and not (target / "b").is_symlink()


def test_a_secret_volume_decodes_its_data(tmp_path: Path) -> None:
    volume = {"name": "s", "secret": {"secretName": "creds"}}
    root = setup_volume(volume, tmp_path, _sources(), _ctx()).host_path
    assert root.parent.name == "kubernetes.io~secret"
    assert (root / "user").read_text() == "admin"
    assert (root / "pass").read_text() == "s3cret"
    assert _mode(root / os.readlink(root / "..data") / "pass") == 0o644


def test_downward_api_files(tmp_path: Path) -> None:
    volume = {
        "name": "info",
        "downwardAPI": {
            "items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
                {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                {"path": "app", "fieldRef": {"fieldPath": "metadata.labels['app']"}},
                {"path": "ip", "fieldRef": {"fieldPath": "status.podIP"}},
                {
                    "path": "mem",
                    "resourceFieldRef": {
                        "containerName": "main",
                        "resource": "limits.memory",
                        "divisor": "1Mi",
                    },
                },
                {
                    "path": "cpu",
                    "resourceFieldRef": {"containerName": "main", "resource": "limits.cpu"},
                },
            ]
        },
    }
    root = setup_volume(volume, tmp_path, _sources(), _ctx()).host_path
    assert (root / "labels").read_text() == 'app="web"\ntier="front"'
    assert (root / "annotations").read_text() == 'note="say \\"hi\\""'
    assert (root / "name").read_text() == "web-1"
    assert (root / "app").read_text() == "web"
    assert (root / "ip").read_text() == "10.0.0.7"
    assert (root / "mem").read_text() == "64"
    assert (root / "cpu").read_text() == "2"  # no limit: node allocatable


def test_a_projected_volume_combines_its_sources(tmp_path: Path) -> None:
    volume = {
        "name": "kube-api-access",
        "projected": {
            "defaultMode": 0o644,
            "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                {"configMap": {"name": "settings", "items": [{"key": "a.conf", "path": "ca.crt"}]}},
                {"secret": {"name": "creds", "items": [{"key": "user", "path": "user"}]}},
                {
                    "downwardAPI": {
                        "items": [
                            {"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}
                        ]
                    }
                },
            ],
        },
    }
    root = setup_volume(volume, tmp_path, _sources(), _ctx(), token="tok").host_path
    assert root.parent.name == "kubernetes.io~projected"
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith("..")) == [
        "ca.crt",
        "namespace",
        "token",
        "user",
    ]
    assert (root / "token").read_text() == "tok"
    assert (root / "namespace").read_text() == "shop"
    without_token = setup_volume(volume, tmp_path / "b", _sources(), _ctx()).host_path
    assert not (without_token / "token").exists()


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        ({"name": "v", "configMap": {"name": "nope"}}, 'configmap "nope" not found'),
        ({"name": "v", "secret": {"secretName": "nope"}}, 'secret "nope" not found'),
        (
            {
                "name": "v",
                "configMap": {"name": "missing-key", "items": [{"key": "k", "path": "k"}]},
            },
            "configmap references non-existent config key: k",
        ),
        (
            {"name": "v", "hostPath": {"path": "/definitely/not/here", "type": "Directory"}},
            "hostPath type check failed: /definitely/not/here is not a directory",
        ),
        (
            {"name": "v", "persistentVolumeClaim": {"claimName": "data"}},
            "persistentVolumeClaim volume type is not supported",
        ),
    ],
)
def test_volume_errors_say_what_kubelet_says(tmp_path: Path, volume: Obj, message: str) -> None:
    with pytest.raises(VolumeError) as e:
        setup_volume(volume, tmp_path, _sources(), _ctx())
    assert message in str(e.value)


def test_optional_sources_may_be_missing(tmp_path: Path) -> None:
    volume = {"name": "v", "configMap": {"name": "nope", "optional": True}}
    root = setup_volume(volume, tmp_path, _sources(), _ctx()).host_path
    assert (root / "..data").is_symlink()
    assert [p.name for p in root.iterdir() if not p.name.startswith("..")] == []


def test_empty_dir_and_host_path(tmp_path: Path) -> None:
    empty = setup_volume({"name": "scratch", "emptyDir": {}}, tmp_path, _sources(), _ctx())
    assert empty.host_path.is_dir() and not empty.read_only
    assert _mode(empty.host_path) == 0o777
    made = tmp_path / "made" / "here"
    hp = setup_volume(
        {"name": "h", "hostPath": {"path": str(made), "type": "DirectoryOrCreate"}},
        tmp_path,
        _sources(),
        _ctx(),
    )
    assert hp.host_path == made and made.is_dir()


def test_container_mounts_resolve_sub_paths_and_read_only(tmp_path: Path) -> None:
    volumes = {
        "scratch": setup_volume({"name": "scratch", "emptyDir": {}}, tmp_path, _sources(), _ctx()),
        "cfg": setup_volume(
            {"name": "cfg", "configMap": {"name": "settings"}}, tmp_path, _sources(), _ctx()
        ),
    }
    container = {
        "volumeMounts": [
            {"name": "scratch", "mountPath": "/data", "subPathExpr": "$(POD_NAME)"},
            {"name": "cfg", "mountPath": "/etc/app"},
            {"name": "scratch", "mountPath": "/ro", "readOnly": True},
        ]
    }
    mounts = container_mounts(container, volumes, {"POD_NAME": "web-1"})
    assert mounts[0].host_path == str(volumes["scratch"].host_path / "web-1")
    assert Path(mounts[0].host_path).is_dir()
    assert mounts[0].read_only is False
    assert mounts[1].read_only is True  # configMap volumes are always read-only
    assert mounts[2].read_only is True


def test_referenced_sources_include_projected_ones() -> None:
    pod = {
        "spec": {
            "volumes": [
                {"name": "a", "configMap": {"name": "one"}},
                {"name": "b", "secret": {"secretName": "two"}},
                {"name": "c", "projected": {"sources": [{"configMap": {"name": "three"}}]}},
            ]
        }
    }
    assert referenced_sources(pod) == ({"one", "three"}, {"two"})


async def test_a_mounted_config_map_follows_its_source(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    agent = await start_agent(serve=False, resync_interval=0.5)
    body = {"metadata": {"name": "app-config"}, "data": {"mode": "slow"}}
    await client.create(CONFIGMAPS, body, ns)
    spec = pod(
        "reader",
        agent.config.name,
        volumes=[{"name": "cfg", "configMap": {"name": "app-config"}}],
        container={"volumeMounts": [{"name": "cfg", "mountPath": "/etc/app"}]},
    )
    created = await client.create(PODS, spec, ns)
    uid = created["metadata"]["uid"]
    path = agent.config.data_dir / "pods" / uid / "volumes" / "kubernetes.io~configmap" / "cfg"

    async def content(expected: str) -> bool:
        return (path / "mode").exists() and (path / "mode").read_text() == expected

    await eventually(lambda: content("slow"))
    await client.patch(CONFIGMAPS, "app-config", {"data": {"mode": "fast"}}, ns)
    await eventually(lambda: content("fast"), timeout=10)
    p = await client.get(PODS, "reader", ns)
    mounts = container_status(p)["volumeMounts"]
    assert {"name": "cfg", "mountPath": "/etc/app"} in mounts
    token = next(m for m in mounts if m["name"].startswith("kube-api-access-"))
    assert token["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"
