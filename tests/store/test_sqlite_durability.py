"""The SQLite log on disk: crash safety, compaction, ownership, slow watchers.

The crash test runs a writer in a child process, kills it with SIGKILL at a random
moment, and checks that everything the child saw acknowledged is in the reopened file
and that SQLite finds the file intact. The child records acknowledgements in a plain
file (one `write` per line), so a kill can only lose the line being written, never
claim a write the store did not acknowledge.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openeks.store import UnavailableError, open_store
from openeks.store.sqlite import SqliteOptions, SqliteStore

CHILD = r"""
import asyncio, os, sys
from openeks.store.sqlite import SqliteStore

async def main(path, acks):
    store = await SqliteStore.open(path)
    out = os.open(acks, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    round_ = sys.argv[3]

    async def writer(w):
        i = 0
        while True:
            key = f"/k/{round_}/{w}/{i}"
            kv = await store.create(key, b"created")
            os.write(out, f"C {key} {kv.mod_revision}\n".encode())
            kv = await store.update(key, b"updated", kv.mod_revision)
            os.write(out, f"U {key} {kv.mod_revision}\n".encode())
            i += 1

    async def compactor():
        while True:
            await asyncio.sleep(0.03)
            current = await store.current_revision()
            if current - 50 > await store.compacted_revision() + 1:
                await store.compact(current - 50)

    os.write(out, b"ready\n")
    await asyncio.gather(compactor(), *(writer(w) for w in range(8)))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


ACCEPTED = {b"created": (b"created", b"updated"), b"updated": (b"updated",)}


def run_and_kill(db: Path, acks: Path, round_: int) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(acks), str(round_)])
    try:
        deadline = time.monotonic() + 10
        while b"ready" not in (acks.read_bytes() if acks.exists() else b""):
            assert child.poll() is None, "the writer died on its own"
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.01)
        time.sleep(random.uniform(0.05, 0.5))
        assert child.poll() is None, "the writer died on its own"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


def acknowledged(acks: Path) -> tuple[dict[str, bytes], int]:
    """Key -> value the child was told is stored, and the highest revision it saw."""
    expected: dict[str, bytes] = {}
    newest = 0
    for line in acks.read_text().splitlines(keepends=True):
        if not line.endswith("\n") or not line.startswith(("C ", "U ")):
            continue
        op, key, revision = line.split()
        expected[key] = b"created" if op == "C" else b"updated"
        newest = max(newest, int(revision))
    return expected, newest


async def test_kill_9_at_a_random_moment_loses_no_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    expected: dict[str, bytes] = {}
    for round_ in range(6):
        acks = tmp_path / f"acks-{round_}"
        await asyncio.to_thread(run_and_kill, db, acks, round_)
        found, newest = acknowledged(acks)
        assert len(found) > 10, "the writer made too little progress to test anything"
        expected.update(found)
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        store = await SqliteStore.open(str(db))
        try:
            assert await store.current_revision() >= newest
            listed = {kv.key: kv.value for kv in (await store.list("/k/")).items}
            # An unacknowledged update may have landed too: "created" accepts either.
            missing = [k for k, v in expected.items() if listed.get(k) not in ACCEPTED[v]]
            assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}"
        finally:
            await store.close()


# -- the log itself -----------------------------------------------------------------------


async def test_compaction_deletes_superseded_rows_and_remembers_its_mark(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    store = await SqliteStore.open(str(db))
    kv = await store.create("/a", b"0")
    for i in range(1, 6):
        kv = await store.update("/a", str(i).encode(), kv.mod_revision)
    await store.create("/b", b"")
    await store.delete("/b")
    last = await store.create("/c", b"")
    await store.compact(last.mod_revision)
    await store.close()

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, key, deleted FROM log ORDER BY id").fetchall()
    assert rows == [(kv.mod_revision, "/a", 0), (last.mod_revision, "/c", 0)]

    store = await SqliteStore.open(str(db))
    try:
        assert await store.compacted_revision() == last.mod_revision - 1
        assert await store.current_revision() == last.mod_revision
        assert (await store.create("/d", b"")).mod_revision == last.mod_revision + 1
    finally:
        await store.close()


async def test_a_second_store_on_the_same_file_is_refused(tmp_path: Path) -> None:
    first = await open_store(f"sqlite://{tmp_path}/state.db")
    try:
        with pytest.raises(UnavailableError):
            await open_store(f"sqlite://{tmp_path}/state.db")
    finally:
        await first.close()
    second = await open_store(f"sqlite://{tmp_path}/state.db")
    await second.close()


async def test_a_relative_path_works_and_parent_directories_are_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = await open_store("sqlite://deep/er/state.db")
    await store.create("/a", b"")
    await store.close()
    assert os.path.exists(tmp_path / "deep" / "er" / "state.db")


async def test_a_watcher_that_falls_behind_catches_up_from_the_log(tmp_path: Path) -> None:
    options = SqliteOptions(watch_buffer=10, replay_page=7)
    store = await SqliteStore.open(str(tmp_path / "state.db"), options)
    try:
        start = await store.current_revision() + 1
        stream = store.watch("/", start)
        first = await asyncio.wait_for(
            asyncio.gather(anext(stream), store.create("/0", b"")), timeout=5
        )
        seen = [e.revision for e in first[0]]
        for i in range(1, 100):  # the watcher is not reading: it overflows
            await store.create(f"/{i}", b"")
        late = False
        async with asyncio.timeout(5):
            while len(seen) < 101:
                seen.extend(e.revision for e in await anext(stream))
                if len(seen) > 50 and not late:
                    await store.create("/late", b"")  # lands while it catches up
                    late = True
        await stream.aclose()  # type: ignore[attr-defined]
        assert seen == list(range(start, start + 101))
    finally:
        await store.close()


async def test_closing_ends_open_watches(tmp_path: Path) -> None:
    store = await SqliteStore.open(str(tmp_path / "state.db"))
    stream = store.watch("/", 0)
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)
    await store.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 5)
    with pytest.raises(UnavailableError):
        await store.get("/a")
