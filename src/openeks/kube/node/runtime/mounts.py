"""Mounts the runc runtime makes on the host: container root filesystems and the
persistent namespaces of pod sandboxes.

Root filesystems are overlayfs mounts: the image's unpacked rootfs (shared, never
written) as the lower dir, a per-container upper and work dir. Where overlayfs is
refused (e.g. an upper dir on a filesystem that cannot hold one), the rootfs is copied
instead with `cp -a`, slower but equivalent.

A sandbox holds no process. Its namespaces (network, UTS, IPC) are kept alive by bind
mounts of their nsfs files (what `ip netns add` does for network namespaces), created
by one `unshare --net=F --uts=F --ipc=F` call that also sets the pod's hostname.
Containers join them by path, so a pod has no pause process that could die and take
the namespaces with it. Mount and unmount are plain syscalls through libc.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import os
import shutil
from pathlib import Path

_libc = ctypes.CDLL(None, use_errno=True)
_str = ctypes.c_char_p
_libc.mount.argtypes = (_str, _str, _str, ctypes.c_ulong, _str)
_libc.umount2.argtypes = (_str, ctypes.c_int)
MNT_DETACH = 2
NETNS_DIR = Path("/run/netns")


class MountError(OSError):
    """A mount or namespace operation failed."""


def mount(source: str, target: str, fstype: str, flags: int = 0, data: str = "") -> None:
    if _libc.mount(source.encode(), target.encode(), fstype.encode(), flags, data.encode()) != 0:
        code = ctypes.get_errno()
        raise MountError(code, f"mount {fstype} on {target}: {os.strerror(code)}")


def unmount(target: str | Path) -> None:
    """Lazily unmount `target`; a target that is not mounted is fine."""
    if _libc.umount2(str(target).encode(), MNT_DETACH) != 0:
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOENT):
            raise MountError(code, f"umount {target}: {os.strerror(code)}")


def is_mountpoint(path: str | Path) -> bool:
    return os.path.ismount(path)


# -- root filesystems --------------------------------------------------------------------


def mount_rootfs(lower: Path, container_dir: Path) -> str:
    """Make `container_dir/rootfs` from the image's `lower`; returns "overlay" or "copy"."""
    rootfs, upper, work = (container_dir / n for n in ("rootfs", "upper", "work"))
    for directory in (rootfs, upper, work):
        directory.mkdir(parents=True, exist_ok=True)
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    try:
        mount("overlay", str(rootfs), "overlay", 0, options)
        return "overlay"
    except MountError:
        rootfs.rmdir()
        result = os.spawnvp(os.P_WAIT, "cp", ["cp", "-a", f"{lower}/.", str(rootfs)])
        if result != 0:
            raise MountError(errno.EIO, f"copying the image rootfs to {rootfs} failed") from None
        return "copy"


def release_rootfs(container_dir: Path) -> None:
    """Unmount (if mounted) and delete a container's rootfs and its overlay dirs."""
    rootfs = container_dir / "rootfs"
    if is_mountpoint(rootfs):
        unmount(rootfs)
    for name in ("rootfs", "upper", "work"):
        shutil.rmtree(container_dir / name, ignore_errors=True)


# -- sandbox namespaces ------------------------------------------------------------------


def netns_path(name: str) -> str:
    return str(NETNS_DIR / name)


async def create_namespaces(ns_dir: Path, netns: str, hostname: str, own_uts: bool) -> None:
    """Persist new IPC (always), UTS (if `own_uts`, with `hostname`) and network (if
    `netns` is a path) namespaces as bind mounts under `ns_dir` and at `netns`."""
    ns_dir.mkdir(parents=True, exist_ok=True)
    args = ["unshare", f"--ipc={ns_dir / 'ipc'}"]
    (ns_dir / "ipc").touch()
    if own_uts:
        (ns_dir / "uts").touch()
        args.append(f"--uts={ns_dir / 'uts'}")
    if netns:
        NETNS_DIR.mkdir(parents=True, exist_ok=True)
        Path(netns).touch()
        args.append(f"--net={netns}")
    script = 'printf %s "$1" > /proc/sys/kernel/hostname' if own_uts else "true"
    process = await asyncio.create_subprocess_exec(
        *args, "/bin/sh", "-c", script, "sh", hostname,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await process.communicate()
    if process.returncode != 0:
        destroy_namespaces(ns_dir, netns)
        raise MountError(errno.EIO, f"creating namespaces: {stderr.decode(errors='replace')}")


def destroy_namespaces(ns_dir: Path, netns: str) -> None:
    """Unmount and remove what `create_namespaces` made; idempotent."""
    paths = [ns_dir / "ipc", ns_dir / "uts"] + ([Path(netns)] if netns else [])
    for path in paths:
        if path.exists():
            unmount(path)
            path.unlink(missing_ok=True)
