"""Pod volumes materialised on the node, and the mounts each container gets.

Each volume lives where kubelet keeps it, `<pod dir>/volumes/kubernetes.io~<plugin>/<name>`.
ConfigMap, Secret, downward API and projected volumes are written with kubelet's atomic
writer layout: the files sit in a timestamped `..2024_01_02_03_04_05.123456789`
directory, `..data` is a symlink to it, and each top-level entry is a symlink through
`..data`. An update writes a new directory and swaps `..data` with one rename, so a
reader never sees half of an update (and programs that watch `..data` see it change).
Those four kinds are mounted read-only, as upstream mounts them; emptyDir is a plain
directory; hostPath is the host's path after its `type` check.

A volume that cannot be set up raises `VolumeError` with kubelet's message; the pod
stays in ContainerCreating and a FailedMount event says why. Service account tokens in
projected volumes are requested through the TokenRequest API by the caller and passed in;
without one the `token` file is left out. Persistent volumes are not supported yet.
"""

from __future__ import annotations

import base64
import datetime
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openeks.kube.node.envvars import (
    EnvError,
    PodContext,
    Sources,
    expand,
    field_value,
    mapping,
    resource_value,
)
from openeks.kube.node.runtime.base import Mount

Obj = dict[str, Any]
Payload = dict[str, tuple[bytes, int]]
DEFAULT_MODE = 0o644
DATA_DIR = "..data"
_PLUGINS = {
    "emptyDir": "kubernetes.io~empty-dir",
    "configMap": "kubernetes.io~configmap",
    "secret": "kubernetes.io~secret",
    "downwardAPI": "kubernetes.io~downward-api",
    "projected": "kubernetes.io~projected",
}
READ_ONLY_KINDS = ("configMap", "secret", "downwardAPI", "projected")


class VolumeError(Exception):
    """A volume cannot be set up; the message is what FailedMount events say."""


@dataclass(frozen=True)
class VolumePath:
    host_path: Path
    read_only: bool


def volume_kind(volume: Obj) -> str:
    for kind in (*_PLUGINS, "hostPath"):
        if volume.get(kind) is not None:
            return kind
    return next((k for k in volume if k != "name"), "")


def referenced_sources(pod: Obj) -> tuple[set[str], set[str]]:
    """ConfigMaps and Secrets the pod's volumes read."""
    configmaps: set[str] = set()
    secrets: set[str] = set()
    for volume in (pod.get("spec") or {}).get("volumes") or ():
        if volume.get("configMap"):
            configmaps.add(volume["configMap"].get("name", ""))
        if volume.get("secret"):
            secrets.add(volume["secret"].get("secretName", ""))
        for source in (volume.get("projected") or {}).get("sources") or ():
            if source.get("configMap"):
                configmaps.add(source["configMap"].get("name", ""))
            if source.get("secret"):
                secrets.add(source["secret"].get("name", ""))
    return configmaps, secrets


# -- payloads (pure) -----------------------------------------------------------------------


def _keyed_payload(
    data: dict[str, bytes] | None,
    source: Obj,
    what: str,
    default_mode: int,
) -> Payload:
    if data is None:
        return {}
    payload: Payload = {}
    items = source.get("items") or []
    if not items:
        return {key: (value, default_mode) for key, value in data.items()}
    for item in items:
        key = item.get("key", "")
        if key not in data:
            if source.get("optional"):
                continue
            raise VolumeError(f"{what} references non-existent config key: {key}")
        payload[item.get("path") or key] = (data[key], item.get("mode") or default_mode)
    return payload


def _configmap_bytes(sources: Sources, name: str, optional: bool) -> dict[str, bytes] | None:
    cm = sources.configmaps.get(name)
    if cm is None:
        if optional:
            return None
        raise VolumeError(f'configmap "{name}" not found')
    data = {k: v.encode() for k, v in (cm.get("data") or {}).items()}
    for k, v in (cm.get("binaryData") or {}).items():
        data[k] = base64.b64decode(v)
    return data


def _secret_bytes(sources: Sources, name: str, optional: bool) -> dict[str, bytes] | None:
    secret = sources.secrets.get(name)
    if secret is None:
        if optional:
            return None
        raise VolumeError(f'secret "{name}" not found')
    return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}


def _downward_payload(source: Obj, ctx: PodContext, default_mode: int) -> Payload:
    payload: Payload = {}
    for item in source.get("items") or ():
        try:
            if item.get("fieldRef"):
                value = field_value(ctx, item["fieldRef"].get("fieldPath", ""))
            elif item.get("resourceFieldRef"):
                value = resource_value(ctx, item["resourceFieldRef"])
            else:
                continue
        except EnvError as e:
            raise VolumeError(str(e)) from None
        payload[item["path"]] = (value.encode(), item.get("mode") or default_mode)
    return payload


def _projected_payload(
    source: Obj, sources: Sources, ctx: PodContext, token: str | None
) -> Payload:
    default_mode = source.get("defaultMode") or DEFAULT_MODE
    payload: Payload = {}
    for part in source.get("sources") or ():
        if part.get("configMap"):
            ref = part["configMap"]
            data = _configmap_bytes(sources, ref.get("name", ""), bool(ref.get("optional")))
            payload.update(_keyed_payload(data, ref, "configmap", default_mode))
        elif part.get("secret"):
            ref = part["secret"]
            data = _secret_bytes(sources, ref.get("name", ""), bool(ref.get("optional")))
            payload.update(_keyed_payload(data, ref, "secret", default_mode))
        elif part.get("downwardAPI"):
            payload.update(_downward_payload(part["downwardAPI"], ctx, default_mode))
        elif part.get("serviceAccountToken") and token is not None:
            path = part["serviceAccountToken"].get("path", "token")
            payload[path] = (token.encode(), default_mode)
    return payload


def volume_payload(
    volume: Obj, sources: Sources, ctx: PodContext, token: str | None = None
) -> Payload:
    """The files of a configMap/secret/downwardAPI/projected volume, by relative path."""
    kind = volume_kind(volume)
    source = volume[kind]
    default_mode = source.get("defaultMode") or DEFAULT_MODE
    if kind == "configMap":
        data = _configmap_bytes(sources, source.get("name", ""), bool(source.get("optional")))
        return _keyed_payload(data, source, "configmap", default_mode)
    if kind == "secret":
        name = source.get("secretName", "")
        data = _secret_bytes(sources, name, bool(source.get("optional")))
        return _keyed_payload(data, source, "secret", default_mode)
    if kind == "downwardAPI":
        return _downward_payload(source, ctx, default_mode)
    if kind == "projected":
        return _projected_payload(source, sources, ctx, token)
    raise VolumeError(f"volume {volume.get('name')}: {kind} has no files")


# -- the atomic writer ---------------------------------------------------------------------


def _current_payload(target: Path) -> Payload | None:
    data = target / DATA_DIR
    if not data.is_symlink():
        return None
    root = target / os.readlink(data)
    current: Payload = {}
    for path in root.rglob("*"):
        if path.is_file():
            current[str(path.relative_to(root))] = (
                path.read_bytes(),
                stat.S_IMODE(path.lstat().st_mode),
            )
    return current


def write_atomic(target: Path, payload: Payload) -> bool:
    """Make `target` hold exactly `payload` (kubelet's AtomicWriter); True if it changed."""
    target.mkdir(parents=True, exist_ok=True)
    if _current_payload(target) == payload:
        return False
    stamp = datetime.datetime.now(datetime.UTC).strftime("..%Y_%m_%d_%H_%M_%S.%f")
    n = 0
    ts_dir = target / f"{stamp}{n:03d}"
    while ts_dir.exists():
        n += 1
        ts_dir = target / f"{stamp}{n:03d}"
    ts_dir.mkdir(mode=0o755)
    for rel, (content, mode) in payload.items():
        path = ts_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.chmod(path, mode)
    old = os.readlink(target / DATA_DIR) if (target / DATA_DIR).is_symlink() else None
    tmp = target / "..data_tmp"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(ts_dir.name, tmp)
    os.replace(tmp, target / DATA_DIR)
    _link_top_level(target, {rel.split("/", 1)[0] for rel in payload})
    if old and old != ts_dir.name:
        shutil.rmtree(target / old, ignore_errors=True)
    return True


def _link_top_level(target: Path, names: set[str]) -> None:
    for name in names:
        link = target / name
        if not link.is_symlink():
            os.symlink(f"{DATA_DIR}/{name}", link)
    for entry in target.iterdir():
        if entry.name.startswith("..") or entry.name in names:
            continue
        if entry.is_symlink():
            entry.unlink()


# -- setting volumes up --------------------------------------------------------------------


def _host_path(volume: Obj) -> Path:
    source = volume["hostPath"]
    path = Path(source.get("path", ""))
    kind = source.get("type") or ""
    if kind == "DirectoryOrCreate":
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
    elif kind == "FileOrCreate" and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o644)
    checks = {
        "Directory": (path.is_dir, "is not a directory"),
        "File": (path.is_file, "is not a file"),
        "Socket": (path.is_socket, "is not a socket file"),
        "CharDevice": (path.is_char_device, "is not a character device"),
        "BlockDevice": (path.is_block_device, "is not a block device"),
    }
    if kind in checks:
        ok, what = checks[kind]
        if not path.exists():
            raise VolumeError(f"hostPath type check failed: {path} {what}")
        if not ok():
            raise VolumeError(f"hostPath type check failed: {path} {what}")
    return path


def setup_volume(
    volume: Obj, pod_dir: Path, sources: Sources, ctx: PodContext, token: str | None = None
) -> VolumePath:
    """Create or refresh one volume; returns where it is on the host."""
    kind = volume_kind(volume)
    name = volume.get("name", "")
    if kind == "hostPath":
        return VolumePath(_host_path(volume), False)
    if kind not in _PLUGINS:
        raise VolumeError(f"volume {name!r}: {kind or 'this'} volume type is not supported")
    path = pod_dir / "volumes" / _PLUGINS[kind] / name
    if kind == "emptyDir":
        path.mkdir(mode=0o777, parents=True, exist_ok=True)
        os.chmod(path, 0o777)
        return VolumePath(path, False)
    write_atomic(path, volume_payload(volume, sources, ctx, token))
    return VolumePath(path, True)


def container_mounts(
    container: Obj, volumes: dict[str, VolumePath], env: dict[str, str]
) -> list[Mount]:
    """The container's volumeMounts as runtime mounts (subPath/subPathExpr resolved)."""
    mounts: list[Mount] = []
    for vm in container.get("volumeMounts") or ():
        volume = volumes.get(vm.get("name", ""))
        if volume is None:
            raise VolumeError(f"volume {vm.get('name')!r} is not set up")
        host = volume.host_path
        sub = vm.get("subPath") or ""
        if vm.get("subPathExpr"):
            sub = expand(vm["subPathExpr"], mapping(env))
        if sub:
            host = host / sub
            if not host.exists() and not volume.read_only:
                host.mkdir(mode=0o755, parents=True, exist_ok=True)
        mounts.append(
            Mount(str(host), vm.get("mountPath", ""), bool(vm.get("readOnly")) or volume.read_only)
        )
    return mounts
