"""Import image archives into the store: OCI image layout tars and `docker save` tars.

This backs `openeks image import FILE`, for nodes that cannot reach a registry. Two
formats, told apart by their files:

- OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/...`), as written by
  `skopeo copy ... oci-archive:`, `ctr export` or `docker save` from Docker 25 on. Names
  come from the index annotations `io.containerd.image.name` or
  `org.opencontainers.image.ref.name`. A ref.name that is only a tag (skopeo writes
  `latest`) names an image only together with the `name` argument.
- Legacy `docker save` (`manifest.json` listing `Config`, `RepoTags`, `Layers`): the
  layers and config are stored as blobs and a Docker schema 2 manifest is made for them,
  so the image is stored exactly as if it had been pulled.

Every blob is checked against its digest (or gets its digest computed) on the way in.
Reading the tar is blocking work, so it runs in a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import tarfile
from pathlib import Path
from typing import Any

from openeks.kube.node.images.reference import normalize
from openeks.kube.node.images.registry import (
    INDEX_TYPES,
    choose_platform,
    host_platform,
    sha256_digest,
)
from openeks.kube.node.images.store import ImageStore

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
_TAG_ONLY = re.compile(r"^[\w][\w.-]{0,127}$")


class ArchiveError(Exception):
    """The file is not an image archive we can read, or names no image."""


async def import_archive(store: ImageStore, path: Path, name: str = "") -> list[str]:
    """Import the archive at `path`; returns the references the store now holds for it.

    `name` (a repository such as `example.com/app`) names images whose archive gives
    only a tag.
    """
    return await asyncio.to_thread(_import, store, Path(path), name)


async def import_image(data_dir: Path, archive: Path, name: str = "") -> list[str]:
    """`openeks image import`: import into the node's store at `data_dir/images` and
    unpack each image's rootfs so its first pod starts without waiting."""
    store = ImageStore(Path(data_dir) / "images")
    try:
        refs = await import_archive(store, archive, name)
        for ref in refs:
            image = store.lookup(ref)
            if image is not None:
                await store.ensure_rootfs(image)
        return refs
    finally:
        await store.close()


def _import(store: ImageStore, path: Path, name: str) -> list[str]:
    try:
        with tarfile.open(path, "r:*") as tar:
            return _Importer(store, tar, name).run()
    except (tarfile.TarError, OSError, ValueError, KeyError) as exc:
        raise ArchiveError(f"{path}: not a readable image archive: {exc}") from exc


class _Importer:
    def __init__(self, store: ImageStore, tar: tarfile.TarFile, name: str) -> None:
        self.store = store
        self.tar = tar
        self.name = name
        self.members = {m.name.lstrip("./"): m for m in tar.getmembers() if m.isfile()}

    def run(self) -> list[str]:
        refs: list[str] = []
        if "index.json" in self.members:
            refs = self._import_oci()
        if not refs and "manifest.json" in self.members:
            refs = self._import_docker()
        if not refs:
            raise ArchiveError(
                "the archive names no image (only a tag, or no name at all): pass a name"
            )
        return refs

    # -- OCI image layout ----------------------------------------------------------------

    def _import_oci(self) -> list[str]:
        for member_name in self.members:
            if member_name.startswith("blobs/sha256/"):
                self._copy_blob(member_name, "sha256:" + member_name.rsplit("/", 1)[1])
        refs = []
        for descriptor in self._read_json("index.json").get("manifests") or []:
            image_name = self._name_of(descriptor.get("annotations") or {})
            if not image_name:
                continue
            top = str(descriptor["digest"])
            manifest = top
            if descriptor.get("mediaType") in INDEX_TYPES:
                arch, variant = host_platform()
                nested = self.store.read_json_blob(top)
                manifest = str(choose_platform(nested, arch, variant)["digest"])
            self.store.tag(image_name, top, manifest)
            refs.append(image_name)
        return refs

    def _name_of(self, annotations: dict[str, str]) -> str:
        full = annotations.get(CONTAINERD_NAME, "")
        ref_name = annotations.get(REF_NAME, "")
        if not full and ref_name:
            if _TAG_ONLY.match(ref_name):
                full = f"{self.name}:{ref_name}" if self.name else ""
            else:
                full = ref_name
        return normalize(full) if full else ""

    # -- docker save ---------------------------------------------------------------------

    def _import_docker(self) -> list[str]:
        refs = []
        for entry in self._read_json_list("manifest.json"):
            tags = [normalize(tag) for tag in entry.get("RepoTags") or []]
            if not tags and self.name:
                tags = [normalize(self.name)]
            if not tags:
                continue
            config_path = str(entry["Config"]).lstrip("./")
            config_digest, config_size = self._copy_blob(config_path)
            layers = []
            for layer_path in entry.get("Layers") or []:
                digest, size = self._copy_blob(str(layer_path).lstrip("./"))
                gzipped = self._peek(layer_path, 2) == b"\x1f\x8b"
                media_type = DOCKER_LAYER + (".gzip" if gzipped else "")
                layers.append({"mediaType": media_type, "size": size, "digest": digest})
            manifest = {
                "schemaVersion": 2,
                "mediaType": DOCKER_MANIFEST,
                "config": {
                    "mediaType": DOCKER_CONFIG,
                    "size": config_size,
                    "digest": config_digest,
                },
                "layers": layers,
            }
            body = json.dumps(manifest, separators=(",", ":")).encode()
            digest = sha256_digest(body)
            self.store.put_blob(body, digest)
            for tag in tags:
                self.store.tag(tag, digest, digest)
                refs.append(tag)
        return refs

    # -- helpers -------------------------------------------------------------------------

    def _open(self, member_name: str) -> Any:
        handle = self.tar.extractfile(self.members[member_name.lstrip("./")])
        if handle is None:
            raise ArchiveError(f"{member_name}: not a file")
        return handle

    def _peek(self, member_name: str, size: int) -> bytes:
        with self._open(member_name) as handle:
            return bytes(handle.read(size))

    def _read_json(self, member_name: str) -> dict[str, Any]:
        with self._open(member_name) as handle:
            return dict(json.load(handle))

    def _read_json_list(self, member_name: str) -> list[dict[str, Any]]:
        with self._open(member_name) as handle:
            return list(json.load(handle))

    def _copy_blob(self, member_name: str, expected: str = "") -> tuple[str, int]:
        """Store the member as a blob; returns (digest, size)."""
        if expected and self.store.has_blob(expected):
            return expected, self.store.blob_path(expected).stat().st_size
        hasher = hashlib.sha256()
        size = 0
        with self.store.temp_path() as tmp:
            with self._open(member_name) as source, tmp.open("wb") as out:
                while chunk := source.read(1 << 20):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            digest = "sha256:" + hasher.hexdigest()
            if expected and digest != expected:
                raise ArchiveError(f"{member_name}: content digest is {digest}")
            if not self.store.has_blob(digest):
                self.store.put_blob_file(tmp, digest)
        return digest, size


__all__ = ["ArchiveError", "import_archive", "import_image"]
