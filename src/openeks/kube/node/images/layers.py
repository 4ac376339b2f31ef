"""Apply image layers (tar, tar+gzip) onto a directory, as an OCI runtime expects them.

Layers are applied in order onto one directory, giving the flattened root filesystem
the store keeps per image. The OCI layer rules handled here:

- `.wh.NAME` deletes `NAME` from the layers below; `.wh..wh..opq` empties its directory
  of everything the layers below put there (entries of the same layer stay).
- Entries replace what is there, except a directory over a directory, which merges.
- Owners, modes, times, device nodes, hard links and `SCHILY.xattr.*` are kept (we run
  as root; an image's setuid binaries and capabilities must survive).

Every path is resolved *inside* the root, following the image's own symlinks the way the
container will see them (an absolute link target means the image's `/`), so a layer can
never write outside the directory however its links are laid out. The uncompressed
stream is hashed while it is read, giving the layer's `diff_id` to check against the
image config.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import posixpath
import shutil
import stat
import tarfile
from pathlib import Path
from typing import BinaryIO

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_MAX_LINK_HOPS = 40
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class LayerError(Exception):
    """A layer could not be applied (bad format, unsafe entry, digest mismatch)."""


class _HashingReader:
    """A read-only file object that hashes everything read through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.hasher = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.hasher.update(data)
        return data

    def drain(self) -> str:
        while self.read(1 << 16):
            pass
        return "sha256:" + self.hasher.hexdigest()


def _open_uncompressed(path: Path) -> BinaryIO:
    raw = path.open("rb")
    magic = raw.read(4)
    raw.seek(0)
    if magic.startswith(_GZIP_MAGIC):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if magic == _ZSTD_MAGIC:
        raw.close()
        raise LayerError(f"{path.name}: zstd-compressed layers are not supported")
    return raw


def apply_layer(root: Path, blob: Path) -> str:
    """Apply the layer in `blob` onto `root`; returns the layer's diff_id."""
    stream = _open_uncompressed(blob)
    try:
        reader = _HashingReader(stream)
        applier = _Applier(root)
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                applier.apply(tar, member)
        return reader.drain()
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile) as exc:
        raise LayerError(f"failed to extract layer {blob.name}: {exc}") from exc
    finally:
        stream.close()


class _Applier:
    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.seen: set[str] = set()
        """Relative paths written by this layer (an opaque marker spares them)."""

    def apply(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        rel = _clean(member.name)
        if not rel:
            return
        parent_rel, base = posixpath.split(rel)
        whiteout = base.startswith(WHITEOUT_PREFIX)
        parent = self.resolve(parent_rel, create=not whiteout)
        if whiteout and not os.path.isdir(parent):
            return  # nothing below to hide
        if base == OPAQUE_MARKER:
            self._make_opaque(parent, parent_rel)
        elif whiteout:
            _remove(os.path.join(parent, base[len(WHITEOUT_PREFIX) :]))
        else:
            self.seen.add(rel)
            self._write(tar, member, os.path.join(parent, base))

    def resolve(self, rel: str, create: bool = False) -> str:
        """Host path of `rel` inside the root, following the image's symlinks."""
        current = self.root
        parts = [p for p in rel.split("/") if p]
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                current = os.path.dirname(current) if current != self.root else current
                continue
            candidate = os.path.join(current, part)
            if os.path.islink(candidate):
                hops += 1
                if hops > _MAX_LINK_HOPS:
                    raise LayerError(f"too many levels of symbolic links in {rel!r}")
                target = os.readlink(candidate)
                if target.startswith("/"):
                    current = self.root
                parts = [p for p in target.split("/") if p and p != "."] + parts
                continue
            if create and not os.path.lexists(candidate):
                os.mkdir(candidate, 0o755)
            elif create and not os.path.isdir(candidate):
                _remove(candidate)
                os.mkdir(candidate, 0o755)
            current = candidate
        return current

    def _make_opaque(self, directory: str, dir_rel: str) -> None:
        for name in os.listdir(directory):
            rel = posixpath.join(dir_rel, name) if dir_rel else name
            if rel not in self.seen:
                _remove(os.path.join(directory, name))

    def _write(self, tar: tarfile.TarFile, member: tarfile.TarInfo, path: str) -> None:
        if os.path.lexists(path) and not (member.isdir() and os.path.isdir(path)):
            _remove(path)
        if member.isdir():
            if not os.path.isdir(path):
                os.mkdir(path, 0o755)
        elif member.isreg():
            data = tar.extractfile(member)
            assert data is not None
            with open(path, "wb") as out:
                shutil.copyfileobj(data, out, 1 << 20)
        elif member.issym():
            os.symlink(member.linkname, path)
        elif member.islnk():
            target_parent, target_base = posixpath.split(_clean(member.linkname))
            source = os.path.join(self.resolve(target_parent), target_base)
            os.link(source, path, follow_symlinks=False)
            return
        elif member.ischr() or member.isblk():
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            device = os.makedev(member.devmajor, member.devminor)
            os.mknod(path, kind | (member.mode & 0o7777), device)
        elif member.isfifo():
            os.mkfifo(path, member.mode & 0o7777)
        else:
            return
        _set_metadata(path, member)


def _set_metadata(path: str, member: tarfile.TarInfo) -> None:
    os.lchown(path, member.uid, member.gid)
    if not member.issym():
        os.chmod(path, member.mode & 0o7777)
    for key, value in (member.pax_headers or {}).items():
        if key.startswith("SCHILY.xattr."):
            # e.g. trusted.* on a filesystem without support: not worth failing the pull
            with contextlib.suppress(OSError):
                value_bytes = value.encode("utf-8", "surrogateescape")
                name = key[len("SCHILY.xattr.") :]
                os.setxattr(path, name, value_bytes, follow_symlinks=False)
    os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)


def _clean(name: str) -> str:
    """A tar entry name as a relative path; rejects names climbing out of the root."""
    normalized = posixpath.normpath("/" + name.lstrip("/")).lstrip("/")
    if normalized in ("", "."):
        return ""
    return normalized


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)
