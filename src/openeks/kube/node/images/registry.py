"""An async client for the OCI distribution protocol: manifests and blobs over HTTP(S).

What it does, and no more: resolve a reference to the manifest for this host's platform
(following OCI image indexes and Docker manifest lists), and download blobs while
checking their digest. Authentication follows the registry's challenge: a `401` with
`WWW-Authenticate: Bearer realm=...,service=...,scope=...` sends us to the token
endpoint (with basic credentials when we have them), `Basic` challenges get the
credentials directly; tokens are cached per registry and scope.

Failures are `RegistryError`s whose text is what containerd would say after
`failed to pull and unpack image "X": ` (the store adds that prefix), with the
registry's own error code and message kept (`server message: NAME_UNKNOWN: ...`), so
`kubectl describe pod` tells the user what the registry said.
"""

from __future__ import annotations

import base64
import hashlib
import json
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from openeks.kube.node.images.reference import Reference

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
MAX_MANIFEST_BYTES = 4 << 20
_CHUNK = 1 << 16
_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


class RegistryError(Exception):
    """A pull failed; the message is containerd's wording after the image prefix."""


@dataclass(frozen=True)
class Credentials:
    """What a pull secret gives us for one registry."""

    username: str = ""
    password: str = ""
    registry_token: str = ""
    """A bearer token to send as is."""
    identity_token: str = ""
    """An OAuth2 refresh token for the registry's token endpoint."""

    @classmethod
    def from_mapping(cls, auth: Mapping[str, str] | None) -> Credentials:
        """Read kubelet/CRI auth keys (`username`, `password`, `auth`, `identitytoken`, ...)."""
        if not auth:
            return cls()
        keys = {k.lower().replace("_", ""): v for k, v in auth.items() if v}
        username, password = keys.get("username", ""), keys.get("password", "")
        if not username and "auth" in keys:
            decoded = base64.b64decode(keys["auth"]).decode()
            username, _, password = decoded.partition(":")
        return cls(
            username=username,
            password=password,
            registry_token=keys.get("registrytoken", ""),
            identity_token=keys.get("identitytoken", ""),
        )

    @property
    def basic(self) -> str:
        """The `Authorization` value for basic auth ('' without a user name)."""
        if not self.username:
            return ""
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()


@dataclass(frozen=True)
class Manifest:
    """A fetched manifest or index, with the bytes its digest is computed over."""

    digest: str
    media_type: str
    body: bytes
    data: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def host_platform() -> tuple[str, str]:
    """(architecture, variant) of this machine in OCI's vocabulary."""
    machine = platform.machine().lower()
    table = {
        "x86_64": ("amd64", ""),
        "amd64": ("amd64", ""),
        "aarch64": ("arm64", "v8"),
        "arm64": ("arm64", "v8"),
        "armv7l": ("arm", "v7"),
        "armv6l": ("arm", "v6"),
        "i386": ("386", ""),
        "i686": ("386", ""),
    }
    return table.get(machine, (machine, ""))


def choose_platform(index: Mapping[str, Any], arch: str, variant: str = "") -> dict[str, Any]:
    """The index entry for linux/`arch` (exact variant preferred); raises if none."""
    candidates = []
    for entry in index.get("manifests") or []:
        plat = entry.get("platform") or {}
        if plat.get("os") == "linux" and plat.get("architecture") == arch:
            exact = not variant or plat.get("variant", variant) == variant
            candidates.append((0 if exact else 1, entry))
    if not candidates:
        raise RegistryError(f"no match for platform linux/{arch} in manifest: not found")
    candidates.sort(key=lambda c: c[0])
    return dict(candidates[0][1])


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="x",service="y"` → ("bearer", {"realm": "x", "service": "y"})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m[1].lower(): m[2] if m[2] else m[3] for m in _CHALLENGE_PARAM.finditer(rest)}
    return scheme.lower(), params


def _server_message(body: bytes) -> str:
    """`CODE: message` from the registry's error document, '' if it sent none."""
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        return ""
    parts = [f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in errors]
    return "; ".join(p for p in parts if p)


class RegistryClient:
    """Talks to registries on behalf of one image store; holds one HTTP session."""

    def __init__(self, arch: str = "", variant: str = "", timeout: float = 60.0) -> None:
        host_arch, host_variant = host_platform()
        self.arch = arch or host_arch
        self.variant = variant if arch else host_variant
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._tokens: dict[tuple[str, str, str], str] = {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    # -- manifests -----------------------------------------------------------------------

    async def resolve(
        self, ref: Reference, creds: Credentials | None = None
    ) -> tuple[Manifest, Manifest]:
        """(top-level manifest or index, the platform's image manifest)."""
        creds = creds or Credentials()
        top = await self.fetch_manifest(ref, ref.pull_ref, creds)
        if not top.is_index:
            return top, top
        entry = choose_platform(top.data, self.arch, self.variant)
        image = await self.fetch_manifest(ref, str(entry["digest"]), creds)
        if image.is_index:
            raise RegistryError(f"{ref.repository}@{image.digest}: nested index: not supported")
        return top, image

    async def fetch_manifest(self, ref: Reference, target: str, creds: Credentials) -> Manifest:
        url = f"{ref.endpoint}/v2/{ref.path}/manifests/{target}"
        accept = ", ".join((*MANIFEST_TYPES, *INDEX_TYPES))
        what = f"{ref.repository}:{target}" if ":" not in target else f"{ref.repository}@{target}"
        async with await self._request(ref, url, creds, {"Accept": accept}) as resp:
            await self._check(resp, url, what)
            body = await resp.content.read(MAX_MANIFEST_BYTES + 1)
            header_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        if len(body) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"{what}: manifest larger than {MAX_MANIFEST_BYTES} bytes")
        digest = sha256_digest(body)
        if target.startswith("sha256:") and digest != target:
            raise RegistryError(f"{what}: manifest digest mismatch: got {digest}")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise RegistryError(f"{what}: invalid manifest: {exc}") from exc
        media_type = str(data.get("mediaType") or header_type)
        if media_type not in (*MANIFEST_TYPES, *INDEX_TYPES):
            media_type = INDEX_TYPES[0] if "manifests" in data else MANIFEST_TYPES[0]
            if "layers" not in data and "manifests" not in data:
                raise RegistryError(f"{what}: unsupported manifest type {header_type!r}")
        return Manifest(digest=digest, media_type=media_type, body=body, data=data)

    # -- blobs ---------------------------------------------------------------------------

    async def fetch_blob(
        self, ref: Reference, digest: str, dest: Path, creds: Credentials | None = None
    ) -> int:
        """Download blob `digest` to `dest`, verifying it; returns its size."""
        url = f"{ref.endpoint}/v2/{ref.path}/blobs/{digest}"
        hasher = hashlib.sha256()
        size = 0
        async with await self._request(ref, url, creds or Credentials(), {}) as resp:
            await self._check(resp, url, f"{ref.repository}@{digest}", blob=True)
            with dest.open("wb") as out:
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        got = "sha256:" + hasher.hexdigest()
        if got != digest:
            dest.unlink(missing_ok=True)
            raise RegistryError(f"failed to copy: digest mismatch for {digest}: got {got}")
        return size

    # -- HTTP and auth -------------------------------------------------------------------

    async def _request(
        self, ref: Reference, url: str, creds: Credentials, headers: dict[str, str]
    ) -> aiohttp.ClientResponse:
        scope = f"repository:{ref.path}:pull"
        key = (ref.domain, scope, creds.username)
        for attempt in range(2):
            sent = dict(headers)
            if key in self._tokens:
                sent["Authorization"] = self._tokens[key]
            elif creds.registry_token:
                sent["Authorization"] = f"Bearer {creds.registry_token}"
            try:
                resp = await self._http().get(url, headers=sent)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise RegistryError(f'failed to do request: Get "{url}": {_describe(exc)}') from exc
            if resp.status != 401 or attempt == 1:
                return resp
            challenge = resp.headers.get("WWW-Authenticate", "")
            resp.release()
            self._tokens[key] = await self._authorize(challenge, scope, creds)
        raise AssertionError("unreachable")

    async def _authorize(self, challenge: str, scope: str, creds: Credentials) -> str:
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            if not creds.username:
                raise RegistryError(
                    "pull access denied, repository does not exist or may require "
                    "authorization: authorization failed: no basic auth credentials"
                )
            return creds.basic
        if scheme != "bearer" or "realm" not in params:
            raise RegistryError(f"failed to authorize: unsupported challenge {challenge!r}")
        return f"Bearer {await self._fetch_token(params, scope, creds)}"

    async def _fetch_token(self, params: dict[str, str], scope: str, creds: Credentials) -> str:
        query = {"scope": params.get("scope") or scope}
        if params.get("service"):
            query["service"] = params["service"]
        realm = params["realm"]
        kind = "oauth token" if creds.username else "anonymous token"
        try:
            headers = {"Authorization": creds.basic} if creds.basic else {}
            async with self._http().get(realm, params=query, headers=headers) as resp:
                body = await resp.read()
                if resp.status != 200:
                    message = _server_message(body) or body.decode(errors="replace")[:200]
                    raise RegistryError(
                        f"failed to authorize: failed to fetch {kind}: unexpected status from "
                        f"GET request to {resp.url}: {resp.status} {resp.reason}"
                        + (f": server message: {message}" if message.strip() else "")
                    )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise RegistryError(
                f'failed to authorize: failed to do request: Get "{realm}": {_describe(exc)}'
            ) from exc
        try:
            document = json.loads(body)
            return str(document.get("token") or document["access_token"])
        except (ValueError, KeyError, AttributeError) as exc:
            raise RegistryError(f"failed to authorize: token endpoint {realm}: no token") from exc

    async def _check(
        self, resp: aiohttp.ClientResponse, url: str, what: str, blob: bool = False
    ) -> None:
        if resp.status == 200:
            return
        message = _server_message(await resp.read())
        server = f": server message: {message}" if message else ""
        if resp.status == 404:
            if blob:
                raise RegistryError(
                    f"failed to copy: content at {url} not found: not found{server}"
                )
            raise RegistryError(f"{what}: not found{server}")
        if resp.status in (401, 403):
            raise RegistryError(
                "pull access denied, repository does not exist or may require authorization"
                + (server or f": {resp.status} {resp.reason}")
            )
        raise RegistryError(
            f"unexpected status from GET request to {url}: {resp.status} {resp.reason}{server}"
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"dial tcp {exc.host}:{exc.port}: {exc.os_error.strerror or exc.os_error}"
    return str(exc) or type(exc).__name__
