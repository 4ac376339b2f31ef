"""Image references as Docker and containerd read them.

`busybox` means `docker.io/library/busybox:latest`; `127.0.0.1:5000/busybox:1.36` names
a registry because its first component has a port; `host/repo@sha256:...` pins a
digest. The grammar follows distribution's `reference` package (a first component is a
registry host when it holds a `.` or `:`, is `localhost`, or has upper-case letters), so
that names we store and print are the same strings kubelet shows in `imageID` and
events. Parsing is pure; where a registry is reached (`endpoint`) is decided here too
because it is a property of the name: loopback registries speak plain HTTP, everything
else HTTPS.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from openeks.kube.node.runtime.base import RuntimeFailure

DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_DOMAIN_RE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$"
)
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")


class InvalidReference(RuntimeFailure):
    """The string is not an image reference (kubelet's `InvalidImageName`)."""

    def __init__(self, image: str) -> None:
        super().__init__(
            "InvalidImageName",
            f'Failed to apply default image tag "{image}": couldn\'t parse image name '
            f'"{image}": invalid reference format',
        )


@dataclass(frozen=True)
class Reference:
    """A normalised reference: registry domain, repository path, tag and/or digest."""

    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def repository(self) -> str:
        """`domain/path`, the name without tag or digest."""
        return f"{self.domain}/{self.path}"

    @property
    def pull_ref(self) -> str:
        """What to ask the registry's manifest endpoint for: the digest wins over a tag."""
        return self.digest or self.tag or "latest"

    def with_digest(self, digest: str) -> Reference:
        return replace(self, tag="", digest=digest)

    def with_tag(self, tag: str) -> Reference:
        return replace(self, tag=tag, digest="")

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @property
    def endpoint(self) -> str:
        """`scheme://host[:port]` of the registry's API."""
        host = DOCKER_HUB_ENDPOINT if self.domain == DOCKER_HUB else self.domain
        scheme = "http" if is_loopback_host(self.domain) else "https"
        return f"{scheme}://{host}"


def is_loopback_host(domain: str) -> bool:
    """Whether `host[:port]` is this machine (`localhost`, 127.0.0.0/8, `[::1]`)."""
    host = domain
    if host.startswith("["):
        host = host[1 : host.find("]")]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first, rest
    return DOCKER_HUB, name


def parse_reference(image: str, default_tag: str = "latest") -> Reference:
    """Parse and normalise `image`; a reference without tag or digest gets `default_tag`."""
    text = image.strip()
    name, at, digest = text.partition("@")
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not tag:
            raise InvalidReference(image)
    if at and not digest:
        raise InvalidReference(image)
    domain, path = _split_domain(name)
    if domain == "index.docker.io":
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not _DOMAIN_RE.match(domain) or not _PATH_RE.match(path) or len(name) > 255:
        raise InvalidReference(image)
    if (tag and not _TAG_RE.match(tag)) or (digest and not _DIGEST_RE.match(digest)):
        raise InvalidReference(image)
    if not tag and not digest:
        tag = default_tag
    return Reference(domain=domain, path=path, tag=tag, digest=digest)


def normalize(image: str) -> str:
    """The canonical string of `image` (`busybox` → `docker.io/library/busybox:latest`)."""
    return str(parse_reference(image))
