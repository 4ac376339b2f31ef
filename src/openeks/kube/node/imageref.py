"""Image names as the node reports them, and registry credentials from pull secrets (pure).

`normalized_image("busybox")` is `docker.io/library/busybox:latest`, the form kubelet
shows in a container status' `image`; `registry_host` is what a `.dockerconfigjson`
entry is matched against. Pull secrets are read as kubelet's credential keyring reads
them: `kubernetes.io/dockerconfigjson` (`auths`) and legacy `kubernetes.io/dockercfg`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

Obj = dict[str, Any]
DOCKER_HUB = "docker.io"
_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first, rest
    return DOCKER_HUB, name


def normalized_image(image: str) -> str:
    """`busybox` → `docker.io/library/busybox:latest`; digests and tags are kept."""
    name, at, digest = image.partition("@")
    domain, path = _split_domain(name)
    if domain == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    last = path.rsplit("/", 1)[-1]
    if not at and ":" not in last:
        path += ":latest"
    full = f"{domain}/{path}"
    return f"{full}@{digest}" if at else full


def repository(image: str) -> str:
    """The normalized name without tag or digest."""
    name = normalized_image(image).split("@", 1)[0]
    head, sep, last = name.rpartition("/")
    return f"{head}{sep}{last.split(':', 1)[0]}"


def registry_host(image: str) -> str:
    return _split_domain(image.partition("@")[0])[0]


def _entry_host(key: str) -> str:
    host = key.split("://", 1)[-1].split("/", 1)[0]
    return DOCKER_HUB if host in _HUB_ALIASES else host


def _auths(secret: Obj) -> dict[str, Obj]:
    data = secret.get("data") or {}
    try:
        if ".dockerconfigjson" in data:
            parsed = json.loads(base64.b64decode(data[".dockerconfigjson"]))
            auths = parsed.get("auths") if isinstance(parsed, dict) else None
            return auths if isinstance(auths, dict) else {}
        if ".dockercfg" in data:
            parsed = json.loads(base64.b64decode(data[".dockercfg"]))
            return parsed if isinstance(parsed, dict) else {}
    except ValueError:
        return {}
    return {}


def pull_credentials(image: str, secrets: list[Obj]) -> dict[str, str] | None:
    """The first pull secret entry for the image's registry, as a CRI auth mapping."""
    host = registry_host(image)
    host = DOCKER_HUB if host in _HUB_ALIASES else host
    for secret in secrets:
        for key, entry in _auths(secret).items():
            if _entry_host(key) == host and isinstance(entry, dict):
                return {k: str(v) for k, v in entry.items() if isinstance(v, str | int)}
    return None
