"""SQLite backend: the embedded default, a kine-style append-only log in one file.

Layout. Table `log` has one row per revision (row id = revision): `key`, `value`,
`create_revision`, `prev_revision` (the row this one supersedes, 0 for a create) and a
`deleted` flag (a tombstone keeps the last value, so DELETE events carry it). The
latest row of a key is its current state; `list` at an old revision takes, per key, the
newest row at or below that revision. Table `meta` records the compacted revision.
Compaction deletes every row superseded at or below it and every tombstone there, in
bounded chunks, each in one transaction together with its `meta` update. The row of the
current revision is never compacted, so `max(id)` is the revision counter and it
survives restarts.

Durability. WAL journal, `synchronous=NORMAL` by default: a transaction is in the
write-ahead log (the OS page cache) before its callers are acknowledged, so killing the
process at any moment (kill -9) loses no acknowledged write and cannot corrupt the file.
A power cut or kernel crash may roll back the last few transactions (the file still
opens consistent); pass `SqliteOptions(synchronous="FULL")` to fsync every commit.

Threads. Python's sqlite3 blocks, so the event loop never touches a connection:
- one writer thread owns the write connection. Callers queue operations; the thread
  drains everything queued, applies it in one transaction (group commit: one WAL append
  for many writes), and hands all results back to the loop in one callback. Each
  operation's compare-and-swap check runs in order inside that transaction, so it is
  exact, and revisions are assigned in commit order;
- a small pool of reader threads, one read-only connection each, serves get/list and
  watch catch-up. WAL readers see a consistent snapshot and never block the writer.

Watches. After each commit the loop-side callback publishes the batch's events to the
watchers (grouped by prefix, so hundreds of watchers cost one filter per prefix and a
list append each). A watch from an old revision registers first, buffering live events,
then replays the log from its start revision; it yields replayed events, then buffered
ones newer than the last yielded revision. Every event was either committed before the
watcher registered (so the replay sees it) or published after (so the buffer has it),
and the revision filter drops the overlap: nothing is missed or repeated. A watcher
that falls `watch_buffer` events behind drops its buffer and replays from the log the
same way (or fails with CompactedError if compaction overtook it, as etcd would).

Ownership. One process owns the file: live events come from this process's writer, so
a second writer would be invisible to its watches. `open` takes an exclusive lock on
`<path>.lock` and fails with UnavailableError if another store holds it. The store is
bound to the event loop that opened it.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import fcntl
import functools
import os
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future as ThreadFuture
from dataclasses import dataclass
from typing import Any, TypeVar

from openeks.store.base import (
    CompactedError,
    ConflictError,
    Event,
    EventType,
    FutureRevisionError,
    KeyExistsError,
    KeyValue,
    ListResult,
    NotFoundError,
    Store,
    StoreError,
    UnavailableError,
)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    deleted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_id ON log (key, id);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
"""

_LATEST = (
    "SELECT id, value, create_revision, deleted FROM log WHERE key = ? ORDER BY id DESC LIMIT 1"
)
_INSERT = (
    "INSERT INTO log (id, key, value, create_revision, prev_revision, deleted)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
# The newest row of l.key at or below the snapshot revision is l itself. Scanning the
# (key, id) index in key order lets LIMIT stop early.
_LIST = (
    "SELECT l.key, l.value, l.create_revision, l.id FROM log AS l"
    " WHERE {bounds} AND l.deleted = 0"
    " AND l.id = (SELECT max(m.id) FROM log AS m WHERE m.key = l.key AND m.id <= :rev)"
    " ORDER BY l.key LIMIT :limit"
)
_COUNT = (
    "SELECT count(*) FROM log AS l WHERE {bounds} AND l.deleted = 0"
    " AND l.id = (SELECT max(m.id) FROM log AS m WHERE m.key = l.key AND m.id <= :rev)"
)
# Replay walks the primary key from the start revision; `+l.key` keeps the planner off
# the key index, which would have to sort.
_REPLAY = (
    "SELECT l.id, l.key, l.value, l.create_revision, l.deleted, l.prev_revision,"
    " p.value, p.create_revision"
    " FROM log AS l LEFT JOIN log AS p ON p.id = l.prev_revision"
    " WHERE l.id >= :start {bounds} ORDER BY l.id LIMIT :limit"
)


@dataclass(frozen=True, slots=True)
class SqliteOptions:
    synchronous: str = "NORMAL"
    """NORMAL survives process crashes; FULL also power loss, at an fsync per commit."""
    busy_timeout_ms: int = 5000
    """How long a connection waits for a lock (checkpoints, another reader) before failing."""
    readers: int = 2
    """Reader threads (each with its own connection) serving get, list and watch replay."""
    max_batch: int = 1000
    """Most writes committed in one transaction."""
    watch_buffer: int = 10_000
    """Live events a watcher may have pending before it falls back to replaying the log."""
    replay_page: int = 1000
    """Events read from the log per replay query."""
    compact_chunk: int = 10_000
    """Revisions compacted per transaction, so writers are not held up for long."""


@dataclass(slots=True)
class _Write:
    kind: str  # "create" | "update" | "delete"
    key: str
    value: bytes
    expected: int
    future: asyncio.Future[KeyValue]


@dataclass(slots=True)
class _Task:
    """Any other write-side job: runs alone in its own transaction."""

    run: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]


class SqliteStore(Store):
    def __init__(self, path: str, options: SqliteOptions, loop: asyncio.AbstractEventLoop) -> None:
        self._path = path
        self._options = options
        self._loop = loop
        self._queue: queue.SimpleQueue[_Write | _Task | None] = queue.SimpleQueue()
        self._revision = 0  # newest revision published to watchers (loop side)
        self._compacted = 0  # newest compacted revision known to the loop side
        self._closed = False
        self._watchers = _Hub()
        self._readers: _ReaderPool | None = None
        self._writer = threading.Thread(target=self._writer_main, name="sqlite-writer", daemon=True)
        self._ready: ThreadFuture[tuple[int, int]] = ThreadFuture()
        self._lock_fd = -1

    @classmethod
    async def open(cls, path: str, options: SqliteOptions | None = None) -> SqliteStore:
        """Open (creating it and its parent directories if needed) the database at `path`."""
        if not path or path == ":memory:":
            raise ValueError("the sqlite store needs a file path")
        store = cls(os.path.abspath(path), options or SqliteOptions(), asyncio.get_running_loop())
        await asyncio.to_thread(store._take_ownership)
        store._writer.start()
        try:
            store._revision, store._compacted = await asyncio.wrap_future(store._ready)
            store._readers = await asyncio.to_thread(store._start_readers)
        except BaseException:
            store._queue.put(None)
            await asyncio.to_thread(store._writer.join)
            store._release_ownership()
            raise
        return store

    # -- reads ------------------------------------------------------------------------

    async def get(self, key: str) -> KeyValue | None:
        return await self._read(_get, key)

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = ""
    ) -> ListResult:
        return await self._read(_list, prefix, revision, limit, start_after)

    async def current_revision(self) -> int:
        self._check_open()
        return self._revision

    async def compacted_revision(self) -> int:
        self._check_open()
        return self._compacted

    # -- writes -----------------------------------------------------------------------

    async def create(self, key: str, value: bytes) -> KeyValue:
        return await self._write("create", key, value, 0)

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        return await self._write("update", key, value, expected_revision)

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        return await self._write("delete", key, b"", expected_revision)

    async def compact(self, revision: int) -> None:
        self._check_open()
        if revision <= self._compacted:
            raise CompactedError(revision, self._compacted)
        if revision > self._revision:
            raise FutureRevisionError(revision, self._revision)
        target = revision - 1
        while self._compacted < target:
            upto = min(target, self._compacted + self._options.compact_chunk)
            done = await self._task(functools.partial(_compact, upto=upto))
            self._compacted = max(self._compacted, done)

    # -- watch ------------------------------------------------------------------------

    async def watch(self, prefix: str, start_revision: int) -> AsyncIterator[builtins.list[Event]]:
        self._check_open()
        if start_revision and start_revision <= self._compacted:
            raise CompactedError(start_revision, self._compacted)
        watcher = _Watcher(prefix, self._options.watch_buffer)
        self._watchers.add(watcher)
        try:
            position = start_revision or self._revision + 1
            replay = position <= self._revision
            while True:
                if replay or watcher.overflowed:
                    watcher.reset()
                    replay = False
                    exhausted = False
                    while not exhausted:
                        page, exhausted = await self._read(
                            _replay, prefix, position, self._options.replay_page
                        )
                        if page:
                            position = page[-1].revision + 1
                            yield page
                    continue
                batch = watcher.take(position)
                if batch:
                    position = batch[-1].revision + 1
                    yield batch
                elif self._closed:
                    return
                else:
                    await watcher.wait()
        finally:
            self._watchers.remove(watcher)

    # -- lifecycle --------------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        await asyncio.to_thread(self._writer.join)
        if self._readers is not None:
            await asyncio.to_thread(self._readers.stop)
        self._release_ownership()
        await asyncio.sleep(0)  # let the writer's last results reach their callers
        self._watchers.close()

    def _check_open(self) -> None:
        if self._closed:
            raise UnavailableError("store is closed")

    def _take_ownership(self) -> None:
        os.makedirs(os.path.dirname(self._path), exist_ok=True)
        fd = os.open(self._path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UnavailableError(f"{self._path} is in use by another store") from None
        self._lock_fd = fd

    def _release_ownership(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _connect(self, *, writer: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=writer, cached_statements=64
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._options.busy_timeout_ms)}")
        if writer:
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise UnavailableError(f"{self._path}: cannot switch to WAL mode")
            synchronous = self._options.synchronous.upper()
            if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
                raise ValueError(f"bad synchronous setting {synchronous!r}")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.executescript(_SCHEMA)
        else:
            conn.execute("PRAGMA query_only = 1")
        conn.execute("PRAGMA cache_size = -32768")
        return conn

    def _start_readers(self) -> _ReaderPool:
        conns = [self._connect(writer=False) for _ in range(max(1, self._options.readers))]
        return _ReaderPool(conns, self._loop, self._options.max_batch)

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        self._check_open()
        assert self._readers is not None
        future: asyncio.Future[T] = self._loop.create_future()
        self._readers.submit(_Read(fn, args, future))
        return await future

    # -- the writer thread ------------------------------------------------------------

    async def _write(self, kind: str, key: str, value: bytes, expected: int) -> KeyValue:
        self._check_open()
        future: asyncio.Future[KeyValue] = self._loop.create_future()
        self._queue.put(_Write(kind, key, value, expected, future))
        return await future

    async def _task(self, run: Callable[[sqlite3.Connection], T]) -> T:
        self._check_open()
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Task(run, future))
        return await future

    def _writer_main(self) -> None:
        try:
            conn = self._connect(writer=True)
            head = _header(conn)
        except BaseException as e:
            self._ready.set_exception(_unavailable(e))
            return
        self._ready.set_result(head)
        writer = _Writer(conn, head[0])
        try:
            self._serve(writer)
        finally:
            conn.close()

    def _serve(self, writer: _Writer) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            jobs: builtins.list[_Write | _Task] = [first]
            while len(jobs) < self._options.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
            try:
                self._run_jobs(writer, jobs)
            except Exception as e:  # a bug: fail these callers rather than hang them
                self._reply([(job.future, _unavailable(e)) for job in jobs], [], 0)
        # Anything queued after the stop sentinel is refused.
        with contextlib.suppress(queue.Empty):
            while (job := self._queue.get_nowait()) is not None:
                self._reply([(job.future, UnavailableError("store is closed"))], [], 0)

    def _run_jobs(self, writer: _Writer, jobs: builtins.list[_Write | _Task]) -> None:
        writes: builtins.list[_Write] = []
        for job in jobs:
            if isinstance(job, _Write):
                writes.append(job)
                continue
            if writes:
                self._commit_writes(writer, writes)
                writes = []
            self._reply([(job.future, writer.run_task(job.run))], [], 0)
        if writes:
            self._commit_writes(writer, writes)

    def _commit_writes(self, writer: _Writer, writes: builtins.list[_Write]) -> None:
        outcomes, events = writer.apply(writes)
        replies: builtins.list[tuple[asyncio.Future[Any], object]] = [
            (w.future, outcome) for w, outcome in zip(writes, outcomes, strict=True)
        ]
        self._reply(replies, events, writer.revision)

    def _reply(
        self,
        replies: builtins.list[tuple[asyncio.Future[Any], object]],
        events: builtins.list[Event],
        revision: int,
    ) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
            self._loop.call_soon_threadsafe(self._deliver, replies, events, revision)

    def _deliver(
        self,
        replies: builtins.list[tuple[asyncio.Future[Any], object]],
        events: builtins.list[Event],
        revision: int,
    ) -> None:
        """On the loop: publish a commit's events, then wake its callers."""
        if events:
            self._revision = revision
            self._watchers.publish(events)
        _resolve(replies)


class _Writer:
    """The write connection and revision counter; used only by the writer thread."""

    def __init__(self, conn: sqlite3.Connection, revision: int) -> None:
        self.conn = conn
        self.revision = revision

    def apply(self, writes: list[_Write]) -> tuple[list[KeyValue | StoreError], list[Event]]:
        """Apply writes in order in one transaction; on a database error, none of them."""
        outcomes: list[KeyValue | StoreError] = []
        events: list[Event] = []
        start = self.revision
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            for write in writes:
                try:
                    event = self._apply_one(write)
                except StoreError as e:
                    outcomes.append(e)
                    continue
                outcomes.append(event.kv)
                events.append(event)
            self.conn.execute("COMMIT")
        except Exception as e:  # the database failed (disk full, I/O error): undo the batch
            self._rollback()
            self.revision = start
            failure = _unavailable(e)
            return [failure] * len(writes), []
        return outcomes, events

    def _apply_one(self, write: _Write) -> Event:
        """Check and append one write; a StoreError means nothing was written."""
        try:
            event = self._check(write)
            kv, prev = event.kv, event.prev
            deleted = int(event.type is EventType.DELETE)
            row = (kv.mod_revision, kv.key, kv.value, kv.create_revision, _prev_id(prev), deleted)
            self.conn.execute(_INSERT, row)
        except (ValueError, TypeError, sqlite3.InterfaceError, sqlite3.ProgrammingError) as e:
            raise StoreError(f"cannot store {write.key!r}: {e}") from e  # e.g. a bad key
        self.revision = kv.mod_revision
        return event

    def _check(self, write: _Write) -> Event:
        """The event `write` would make, or the StoreError its compare-and-swap raises."""
        key = write.key
        row = self.conn.execute(_LATEST, (key,)).fetchone()
        live = None if row is None or row[3] else KeyValue(key, row[1], row[2], row[0])
        revision = self.revision + 1
        if write.kind == "create":
            if live is not None:
                raise KeyExistsError(key)
            return Event(EventType.PUT, KeyValue(key, write.value, revision, revision), None)
        if live is None:
            raise NotFoundError(key)
        if live.mod_revision != write.expected and (write.kind == "update" or write.expected):
            raise ConflictError(key, live)
        if write.kind == "update":
            kv = KeyValue(key, write.value, live.create_revision, revision)
            return Event(EventType.PUT, kv, live)
        kv = KeyValue(key, live.value, live.create_revision, revision)
        return Event(EventType.DELETE, kv, live)

    def run_task(self, run: Callable[[sqlite3.Connection], Any]) -> object:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            result = run(self.conn)
            self.conn.execute("COMMIT")
            return result
        except Exception as e:
            self._rollback()
            return _unavailable(e)

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("ROLLBACK")


@dataclass(slots=True)
class _Read:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: asyncio.Future[Any]


class _ReaderPool:
    """Reader threads, one connection each, draining one queue of reads.

    Like the writer, a thread runs everything queued and returns the results to the
    loop in one callback, which keeps the per-read cost of crossing threads small.
    """

    def __init__(
        self, conns: list[sqlite3.Connection], loop: asyncio.AbstractEventLoop, max_batch: int
    ) -> None:
        self._queue: queue.SimpleQueue[_Read | None] = queue.SimpleQueue()
        self._loop = loop
        self._max_batch = max_batch
        self._threads = [
            threading.Thread(
                target=self._main, args=(conn,), name=f"sqlite-reader-{i}", daemon=True
            )
            for i, conn in enumerate(conns)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, read: _Read) -> None:
        self._queue.put(read)

    def stop(self) -> None:
        """Finish queued reads, then close every connection (blocks)."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def _main(self, conn: sqlite3.Connection) -> None:
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is None:
                    break
                reads = [first]
                while len(reads) < self._max_batch:
                    try:
                        read = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if read is None:
                        stopping = True
                        break
                    reads.append(read)
                results = [(read.future, _run_read(conn, read)) for read in reads]
                with contextlib.suppress(RuntimeError):  # the loop is gone
                    self._loop.call_soon_threadsafe(_resolve, results)
        finally:
            conn.close()


def _run_read(conn: sqlite3.Connection, read: _Read) -> object:
    try:
        return read.fn(conn, *read.args)
    except sqlite3.Error as e:
        return _unavailable(e)
    except Exception as e:  # StoreError, or a bad argument: the caller gets it as is
        return e


def _resolve(results: list[tuple[asyncio.Future[Any], object]]) -> None:
    for future, outcome in results:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


# -- queries (run on a reader or the writer thread, given a connection) -------------------


def _header(conn: sqlite3.Connection) -> tuple[int, int]:
    """(current revision, compacted revision) as seen by the connection's transaction."""
    current = conn.execute("SELECT coalesce(max(id), 0) FROM log").fetchone()[0]
    row = conn.execute("SELECT value FROM meta WHERE name = 'compacted'").fetchone()
    compacted = row[0] if row else 0
    return max(current, compacted), compacted


def _get(conn: sqlite3.Connection, key: str) -> KeyValue | None:
    row = conn.execute(_LATEST, (key,)).fetchone()
    if row is None or row[3]:
        return None
    return KeyValue(key, row[1], row[2], row[0])


def _list(
    conn: sqlite3.Connection, prefix: str, revision: int, limit: int, start_after: str
) -> ListResult:
    with _snapshot(conn):
        current, compacted = _header(conn)
        if revision > current:
            raise FutureRevisionError(revision, current)
        if revision and revision <= compacted:
            raise CompactedError(revision, compacted)
        revision = revision or current
        params: dict[str, object] = {"rev": revision, "limit": limit + 1 if limit else -1}
        bounds = _key_bounds(prefix, start_after, params)
        rows = conn.execute(_LIST.format(bounds=bounds), params).fetchall()
        more = bool(limit) and len(rows) > limit
        if more:
            rows = rows[:limit]
        items = [KeyValue(r[0], r[1], r[2], r[3]) for r in rows]
        remaining = 0
        if more:
            bounds = _key_bounds(prefix, items[-1].key, params)
            remaining = conn.execute(_COUNT.format(bounds=bounds), params).fetchone()[0]
        return ListResult(items, revision, more, remaining)


def _replay(
    conn: sqlite3.Connection, prefix: str, start: int, page: int
) -> tuple[list[Event], bool]:
    """Events from revision `start` on, at most `page`; and whether the log ran out."""
    with _snapshot(conn):
        _, compacted = _header(conn)
        if start <= compacted:
            raise CompactedError(start, compacted)
        params: dict[str, object] = {"start": start, "limit": page}
        bounds = _key_bounds(prefix, "", params, column="+l.key")
        rows = conn.execute(_REPLAY.format(bounds=f"AND {bounds}"), params).fetchall()
    events = [_event(*row) for row in rows]
    return events, len(rows) < page


def _event(
    revision: int,
    key: str,
    value: bytes,
    create_revision: int,
    deleted: int,
    prev_revision: int,
    prev_value: bytes | None,
    prev_create_revision: int | None,
) -> Event:
    kv = KeyValue(key, value, create_revision, revision)
    if not prev_revision:
        return Event(EventType.PUT, kv, None)
    if prev_value is None:  # only if the log was edited by hand; best effort
        prev_value, prev_create_revision = (value if deleted else b""), create_revision
    prev = KeyValue(key, prev_value, prev_create_revision or create_revision, prev_revision)
    return Event(EventType.DELETE if deleted else EventType.PUT, kv, prev)


def _compact(conn: sqlite3.Connection, *, upto: int) -> int:
    """Forget history at or below `upto` except each key's current row; returns the new mark."""
    _, done = _header(conn)
    if upto <= done:
        return done
    span = (done, upto)
    # Rows superseded within the span go first (tombstones point at them), then tombstones.
    conn.execute(
        "DELETE FROM log WHERE id IN (SELECT prev_revision FROM log"
        " WHERE id > ? AND id <= ? AND prev_revision > 0)",
        span,
    )
    conn.execute("DELETE FROM log WHERE id > ? AND id <= ? AND deleted = 1", span)
    conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('compacted', ?)", (upto,))
    return upto


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """A read transaction: every query inside sees the same committed state."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def _key_bounds(
    prefix: str, start_after: str, params: dict[str, object], column: str = "l.key"
) -> str:
    """SQL bounds for keys under `prefix` and strictly after `start_after`."""
    if start_after and start_after >= prefix:
        params["lo"] = start_after
        clauses = [f"{column} > :lo"]
    else:
        params["lo"] = prefix
        clauses = [f"{column} >= :lo"]
    hi = prefix_end(prefix)
    if hi is not None:
        params["hi"] = hi
        clauses.append(f"{column} < :hi")
    return " AND ".join(clauses)


def prefix_end(prefix: str) -> str | None:
    """The smallest string above every string starting with `prefix` (None: no bound).

    Python orders str by code point, which is also UTF-8 byte order (SQLite's BINARY
    collation), so this bound works in both places.
    """
    for i in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[i])
        if code < 0x10FFFF:
            code += 1
            if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be encoded; skip them
                code = 0xE000
            return prefix[:i] + chr(code)
    return None


def _prev_id(prev: KeyValue | None) -> int:
    return 0 if prev is None else prev.mod_revision


def _unavailable(error: BaseException) -> StoreError:
    if isinstance(error, StoreError):
        return error
    failure = UnavailableError(f"sqlite: {error}")
    failure.__cause__ = error
    return failure


# -- live event fan-out (loop side) -------------------------------------------------------


class _Watcher:
    __slots__ = ("_limit", "_wakeup", "overflowed", "pending", "prefix")

    def __init__(self, prefix: str, limit: int) -> None:
        self.prefix = prefix
        self.pending: list[Event] = []
        self.overflowed = False
        self._limit = limit
        self._wakeup = asyncio.Event()

    def push(self, events: list[Event]) -> None:
        if self.overflowed:
            return
        if len(self.pending) + len(events) > self._limit:
            self.overflowed = True
            self.pending = []
        else:
            self.pending.extend(events)
        self._wakeup.set()

    def take(self, position: int) -> list[Event]:
        """Pending events at or after `position`."""
        events, self.pending = self.pending, []
        self._wakeup.clear()
        if events and events[0].revision < position:
            events = [e for e in events if e.revision >= position]
        return events

    def reset(self) -> None:
        self.pending = []
        self.overflowed = False

    def wake(self) -> None:
        self._wakeup.set()

    async def wait(self) -> None:
        await self._wakeup.wait()


class _Hub:
    """Watchers grouped by prefix: one filter pass per distinct prefix per commit."""

    def __init__(self) -> None:
        self._groups: dict[str, set[_Watcher]] = {}

    def add(self, watcher: _Watcher) -> None:
        self._groups.setdefault(watcher.prefix, set()).add(watcher)

    def remove(self, watcher: _Watcher) -> None:
        group = self._groups.get(watcher.prefix)
        if group is not None:
            group.discard(watcher)
            if not group:
                del self._groups[watcher.prefix]

    def publish(self, events: list[Event]) -> None:
        for prefix, watchers in self._groups.items():
            matched = events if not prefix else [e for e in events if e.kv.key.startswith(prefix)]
            if matched:
                for watcher in watchers:
                    watcher.push(matched)

    def close(self) -> None:
        for watchers in self._groups.values():
            for watcher in watchers:
                watcher.wake()
