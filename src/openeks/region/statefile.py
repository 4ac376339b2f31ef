"""Small JSON state files, replaced atomically.

The region keeps a few pieces of state that must survive a restart of the region
service but are too small and too local for the region store: address allocations
(`zones.AddressAllocator`), the supervisor's process table and fault state
(`supervisor.Supervisor`) and an etcd cluster's bootstrap token (`etcdcluster`).
Each is one JSON document with a single writer, the region service, so a whole-file
rewrite (temporary file, fsync, rename over the old one) is all the consistency needed:
a reader or a crash sees the old document or the new one, never half of either.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class StateFileError(ValueError):
    """A state file exists but is not a JSON object (hand-edited, truncated by a full disk)."""


def read_state(path: Path) -> dict[str, Any] | None:
    """The document at `path`, or None when there is no file yet."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise StateFileError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(document, dict):
        raise StateFileError(f"{path}: expected a JSON object")
    return document


def write_state(path: Path, document: dict[str, Any], *, durable: bool = True) -> None:
    """Replace `path` with `document` (mode 0600). `durable` fsyncs the file and its
    directory, so the new content survives a power cut, not just a process crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        if durable:
            os.fsync(file.fileno())
    os.replace(temporary, path)
    if durable:
        _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
