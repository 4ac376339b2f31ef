"""The node's image store: content-addressed blobs, named references, unpacked rootfs.

Layout under the root directory (all writes go to `tmp/` first and are renamed into
place, so a crash leaves either the old state or the new one, never half a file):

    blobs/sha256/<hex>     manifests, configs and layers, verified against their digest
    rootfs/<config hex>/   the image's layers applied in order; built once, shared
                           read-only by every container of the image (overlay lower dir)
    refs.json              reference → {digest, manifest, config}
    tmp/<pid>-<random>     work in progress of a live process

`pull()` implements the kubelet pull policies. Concurrent pulls of one reference, and
concurrent downloads of one blob or unpacks of one rootfs, share a single task. The
store may be shared by several node agents on one machine: renames are atomic, and
`refs.json` is rewritten under an exclusive `flock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from openeks.kube.node.images.layers import LayerError, apply_layer
from openeks.kube.node.images.reference import Reference, normalize, parse_reference
from openeks.kube.node.images.registry import Credentials, RegistryClient, RegistryError
from openeks.kube.node.runtime.base import ImageInfo, ImagePullError, RuntimeFailure

T = TypeVar("T")


@dataclass(frozen=True)
class ImageConfig:
    """What the runtime needs from an image's config blob."""

    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    working_dir: str = ""
    user: str = ""

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ImageConfig:
        config = document.get("config") or {}
        return cls(
            entrypoint=list(config.get("Entrypoint") or []),
            cmd=list(config.get("Cmd") or []),
            env=list(config.get("Env") or []),
            working_dir=str(config.get("WorkingDir") or ""),
            user=str(config.get("User") or ""),
        )


@dataclass(frozen=True)
class StoredImage:
    """An image the store holds: its names, digests, layers and config."""

    name: str
    """The reference it is stored under (`127.0.0.1:5000/busybox:latest`)."""
    digest: str
    """Digest of what the reference resolved to (an index for multi-platform images)."""
    manifest_digest: str
    config_digest: str
    layers: tuple[str, ...]
    diff_ids: tuple[str, ...]
    config: ImageConfig
    size: int

    @property
    def repo_digest(self) -> str:
        return f"{parse_reference(self.name).repository}@{self.digest}"

    def info(self) -> ImageInfo:
        return ImageInfo(
            ref=self.repo_digest,
            id=self.config_digest,
            entrypoint=list(self.config.entrypoint),
            cmd=list(self.config.cmd),
            env=list(self.config.env),
            working_dir=self.config.working_dir,
            size=self.size,
        )


class ImageStore:
    def __init__(self, root: Path, registry: RegistryClient | None = None) -> None:
        self.root = Path(root)
        self.registry = registry or RegistryClient()
        for sub in ("blobs/sha256", "rootfs", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._clean_tmp()

    async def close(self) -> None:
        await self.registry.close()

    # -- lookups -------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        algorithm, _, hex_digest = digest.partition(":")
        if algorithm != "sha256" or not hex_digest.isalnum():
            raise ValueError(f"unsupported digest {digest!r}")
        return self.root / "blobs" / "sha256" / hex_digest

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).exists()

    def read_json_blob(self, digest: str) -> dict[str, Any]:
        return dict(json.loads(self.blob_path(digest).read_bytes()))

    def rootfs_path(self, config_digest: str) -> Path:
        return self.root / "rootfs" / config_digest.partition(":")[2]

    def lookup(self, image: str) -> StoredImage | None:
        """The stored image for reference `image`, or None."""
        entry = self._read_refs().get(normalize(image))
        return self._load(normalize(image), entry) if entry else None

    def by_id(self, config_digest: str) -> StoredImage | None:
        """Any stored image whose config digest is `config_digest`."""
        for name, entry in self._read_refs().items():
            if entry.get("config") == config_digest:
                return self._load(name, entry)
        return None

    def list_images(self) -> list[StoredImage]:
        images = (self._load(name, entry) for name, entry in self._read_refs().items())
        return [image for image in images if image is not None]

    def _load(self, name: str, entry: Mapping[str, str]) -> StoredImage | None:
        try:
            manifest = self.read_json_blob(entry["manifest"])
            config_digest = str(manifest["config"]["digest"])
            document = self.read_json_blob(config_digest)
        except (OSError, KeyError, ValueError):
            return None
        layers = tuple(str(layer["digest"]) for layer in manifest.get("layers") or [])
        size = int(manifest["config"].get("size", 0)) + sum(
            int(layer.get("size", 0)) for layer in manifest.get("layers") or []
        )
        return StoredImage(
            name=name,
            digest=entry.get("digest", entry["manifest"]),
            manifest_digest=entry["manifest"],
            config_digest=config_digest,
            layers=layers,
            diff_ids=tuple((document.get("rootfs") or {}).get("diff_ids") or []),
            config=ImageConfig.from_document(document),
            size=size,
        )

    # -- pulling -------------------------------------------------------------------------

    async def pull(
        self, image: str, policy: str = "IfNotPresent", auth: Mapping[str, str] | None = None
    ) -> StoredImage:
        """Make `image` available per the kubelet pull policy; its rootfs is unpacked."""
        ref = parse_reference(image)
        stored = self.lookup(str(ref))
        if policy == "Never" and stored is None:
            raise RuntimeFailure(
                "ErrImageNeverPull",
                f'Container image "{image}" is not present with pull policy of Never',
            )
        if stored is None or policy == "Always":
            creds = Credentials.from_mapping(auth)
            stored = await self._once(f"pull:{ref}", lambda: self._pull(ref, creds))
        await self.ensure_rootfs(stored)
        return stored

    async def _pull(self, ref: Reference, creds: Credentials) -> StoredImage:
        prefix = f'failed to pull and unpack image "{ref}": '
        try:
            top, manifest = await self.registry.resolve(ref, creds)
        except RegistryError as exc:
            raise ImagePullError(f'{prefix}failed to resolve reference "{ref}": {exc}') from exc
        try:
            for blob in (top, manifest):
                self.put_blob(blob.body, blob.digest)
            wanted = [manifest.data["config"], *(manifest.data.get("layers") or [])]
            await asyncio.gather(*(self._fetch(ref, str(d["digest"]), creds) for d in wanted))
        except RegistryError as exc:
            raise ImagePullError(f"{prefix}{exc}") from exc
        except (KeyError, TypeError) as exc:
            raise ImagePullError(f"{prefix}invalid manifest {manifest.digest}: {exc}") from exc
        self.tag(str(ref), top.digest, manifest.digest)
        stored = self.lookup(str(ref))
        assert stored is not None
        return stored

    async def _fetch(self, ref: Reference, digest: str, creds: Credentials) -> None:
        if self.has_blob(digest):
            return

        async def download() -> None:
            if self.has_blob(digest):
                return
            with self.temp_path() as tmp:
                await self.registry.fetch_blob(ref, digest, tmp, creds)
                os.replace(tmp, self.blob_path(digest))

        await self._once(f"blob:{digest}", download)

    async def ensure_rootfs(self, image: StoredImage) -> Path:
        """The unpacked rootfs of `image`, building it (once) if needed."""
        target = self.rootfs_path(image.config_digest)
        if target.is_dir():
            return target

        async def unpack() -> Path:
            try:
                await asyncio.to_thread(self._unpack, image, target)
            except LayerError as exc:
                raise ImagePullError(
                    f'failed to pull and unpack image "{image.name}": {exc}'
                ) from exc
            return target

        return await self._once(f"rootfs:{image.config_digest}", unpack)

    def _unpack(self, image: StoredImage, target: Path) -> None:
        if target.is_dir():
            return
        with self.temp_path() as tmp:
            tmp.mkdir()
            for index, layer in enumerate(image.layers):
                diff_id = apply_layer(tmp, self.blob_path(layer))
                expected = image.diff_ids[index] if index < len(image.diff_ids) else diff_id
                if diff_id != expected:
                    raise LayerError(f"layer {layer}: diff_id {diff_id} != config {expected}")
            tmp.chmod(0o755)
            with contextlib.suppress(OSError):  # another process won the race: keep theirs
                os.rename(tmp, target)

    async def _once(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run `make()` once per key at a time; concurrent callers share its result."""
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(make())
            self._inflight[key] = future
            future.add_done_callback(lambda _: self._inflight.pop(key, None))
        result: T = await asyncio.shield(future)
        return result

    # -- writing -------------------------------------------------------------------------

    def put_blob(self, data: bytes, digest: str) -> None:
        path = self.blob_path(digest)
        if path.exists():
            return
        with self.temp_path() as tmp:
            tmp.write_bytes(data)
            os.replace(tmp, path)

    def put_blob_file(self, source: Path, digest: str) -> None:
        """Move the verified file `source` into place as blob `digest`."""
        os.replace(source, self.blob_path(digest))

    def tag(self, name: str, digest: str, manifest_digest: str) -> None:
        """Record `name` → the manifest `digest` resolved to (and its platform manifest)."""
        config = str(self.read_json_blob(manifest_digest)["config"]["digest"])
        entry = {"digest": digest, "manifest": manifest_digest, "config": config}
        ref = parse_reference(name)
        with self._locked():
            refs = self._read_refs()
            refs[str(ref)] = entry
            refs[str(ref.with_digest(digest))] = entry
            data = json.dumps(refs, indent=1, sort_keys=True).encode()
            with self.temp_path() as tmp:
                tmp.write_bytes(data)
                os.replace(tmp, self.root / "refs.json")

    @contextlib.contextmanager
    def temp_path(self) -> Iterator[Path]:
        """A fresh path under tmp/ that is removed afterwards unless renamed away."""
        path = self.root / "tmp" / f"{os.getpid()}-{secrets.token_hex(8)}"
        try:
            yield path
        finally:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.root / "refs.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _read_refs(self) -> dict[str, dict[str, str]]:
        try:
            return dict(json.loads((self.root / "refs.json").read_bytes()))
        except FileNotFoundError:
            return {}

    def _clean_tmp(self) -> None:
        """Remove work left by processes that died mid-way."""
        for entry in (self.root / "tmp").iterdir():
            pid = entry.name.split("-", 1)[0]
            if pid.isdigit() and Path(f"/proc/{pid}").exists():
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
