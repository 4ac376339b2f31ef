"""One proxy per (cluster, host): an exclusive `flock` on a file named after the cluster.

All node agents of a cluster that run on one machine share its network namespace, so
only one of them may program the cluster's rules. Each tries `flock(LOCK_EX | LOCK_NB)`
on `<lock_dir>/proxy-<cluster identity>.lock` (default `/run/openeks`, a tmpfs, which
is right: the lock and the rules both vanish on reboot); the one that gets it is the
leader until it stops, and the others poll. The kernel releases the lock when the
holder's process dies, however it dies, so no lease or expiry is needed; the new leader
takes the rules over by reachability (see `tables`). The descriptor is opened
close-on-exec so the containers' shims, which outlive the agent, never inherit the
lock.

A leader that stops cleanly unlinks the file before unlocking it, so files do not pile
up in /run/openeks. That is safe because a lock only counts if, once taken, the path
still names the locked inode: an agent that locked a file just unlinked under it sees
the mismatch, lets go, and tries again on the next poll.

`lock_held_by_other(lock_dir, tag)` tells whether another cluster's proxy is alive,
which is how leftovers of a dead cluster are told apart from a live conflict.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

DEFAULT_LOCK_DIR = Path("/run/openeks")


def lock_path(lock_dir: Path, identity: str) -> Path:
    return Path(lock_dir) / f"proxy-{identity}.lock"


class HostLock:
    """A non-blocking exclusive flock; `try_acquire()` again after a failure to poll."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        if not _same_file(fd, self.path):
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self, unlink: bool = False) -> None:
        """Unlock; with `unlink`, remove the file first (the holder may, see above)."""
        if self._fd is None:
            return
        if unlink:
            with contextlib.suppress(OSError):
                self.path.unlink()
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def lock_held_by_other(lock_dir: Path, tag: str) -> bool:
    """Whether a live process holds the lock of any cluster whose identity starts with
    `tag` (a chain tag); False when no such lock file exists or nobody holds it."""
    for path in sorted(Path(lock_dir).glob(f"proxy-{tag}*.lock")):
        probe = HostLock(path)
        if not probe.try_acquire():
            return True
        probe.release()
    return False
