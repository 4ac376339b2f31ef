"""etcd v3 backend: the store contract mapped one-to-one onto etcd's KV and Watch APIs.

etcd already is a revisioned store, so this module is a translation, not an engine:

- `create` is a transaction `create_revision(key) == 0 ? put : get`; `update` and
  `delete` compare `mod_revision(key) == expected` (plus `version(key) > 0`, so a
  missing key is NotFound, never silently created); the failure branch reads the key
  back to tell NotFound from Conflict and to return the current value.
- `list` is one Range over `[max(prefix, start_after + "\\0"), prefix_end)` at the
  requested revision with the requested limit; etcd's `count` gives the remaining items.
- `watch` is one Watch stream per call, with `prev_kv` so DELETE events carry the last
  value as the contract wants.
- etcd's errors map to the store's: "required revision has been compacted" to
  CompactedError, "is a future revision" to FutureRevisionError, UNAVAILABLE to a retry
  and, when retries run out, UnavailableError.

Failover. We talk gRPC through the generated stubs of `aetcd.rpc` on one `grpc.aio`
channel whose target lists every endpoint ("ipv4:a:p,b:p,..."), so gRPC's pick_first
policy connects to the first member that answers and moves on when it dies. A call that
fails with UNAVAILABLE (member gone, leader election in progress) or times out is
retried with backoff for `EtcdOptions.retry_for` seconds. A write whose attempt failed
after it may have reached etcd is ambiguous: when its retry then fails the compare, we
look at the key, and if it holds exactly our write (our value, created by it for
`create`, a newer revision for `update`) we report success; a retried `delete` that
finds the key gone raises NotFoundError. A watch whose stream breaks re-creates it from
the revision after the last event it yielded, so no event is lost or repeated.

Revisions. Our `compacted_revision` is the newest revision that is gone, etcd's
"compact revision" is the oldest one kept, hence the `- 1`s. etcd does not expose the
compact revision directly; when an error needs it we find it by bisecting with cheap
Range calls (only on error paths and in `compacted_revision()`).
"""

from __future__ import annotations

import asyncio
import builtins
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from aetcd import rpc

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

_RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
_NOT_SENT = ("failed to connect", "connection refused", "no connection", "connect failed")
_COMPACTED = "required revision has been compacted"
_FUTURE = "required revision is a future revision"
_EQUAL = rpc.Compare.CompareResult.Value("EQUAL")
_GREATER = rpc.Compare.CompareResult.Value("GREATER")
_VERSION = rpc.Compare.CompareTarget.Value("VERSION")
_CREATE = rpc.Compare.CompareTarget.Value("CREATE")
_MOD = rpc.Compare.CompareTarget.Value("MOD")
_DELETE = rpc.Event.EventType.Value("DELETE")


@dataclass(frozen=True, slots=True)
class EtcdOptions:
    call_timeout: float = 1.5
    """Deadline of one RPC attempt, in seconds. Kept short because a request a follower
    forwarded to a leader that just died is only failed by etcd after its own request
    timeout (5 s and more); retrying sooner, on a member that knows the new leader, is
    safe since every write is a compare-and-swap."""
    list_timeout: float = 30.0
    """Deadline of one `list` attempt, which may return a lot of data."""
    retry_for: float = 15.0
    """How long an operation keeps retrying a lost connection before UnavailableError."""
    backoff_initial: float = 0.05
    """First pause between retries; it doubles up to `backoff_max`."""
    backoff_max: float = 1.0
    max_message_bytes: int = 256 * 1024 * 1024
    """Largest gRPC response accepted (big lists)."""


class EtcdStore(Store):
    def __init__(self, channel: grpc.aio.Channel, options: EtcdOptions) -> None:
        self._channel = channel
        self._options = options
        self._kv = rpc.KVStub(channel)
        self._watch = rpc.WatchStub(channel)
        self._known_compacted = 0  # a lower bound, to shorten the bisection
        self._closed = False

    @classmethod
    async def open(cls, endpoints: list[str], options: EtcdOptions | None = None) -> EtcdStore:
        """Connect to the cluster whose client endpoints ("host:port") are given."""
        options = options or EtcdOptions()
        target = await _target(endpoints)
        channel = grpc.aio.insecure_channel(
            target,
            options=[
                ("grpc.lb_policy_name", "pick_first"),
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.min_reconnect_backoff_ms", 100),
                ("grpc.max_reconnect_backoff_ms", 1000),
                ("grpc.keepalive_time_ms", 30_000),
                ("grpc.keepalive_timeout_ms", 10_000),
                ("grpc.max_receive_message_length", options.max_message_bytes),
                ("grpc.max_send_message_length", options.max_message_bytes),
            ],
        )
        store = cls(channel, options)
        try:
            await store.current_revision()  # fail early when no endpoint answers
        except BaseException:
            await channel.close()
            raise
        return store

    # -- reads ------------------------------------------------------------------------

    async def get(self, key: str) -> KeyValue | None:
        response, _ = await self._call(self._kv.Range, rpc.RangeRequest(key=key.encode()))
        return _kv(response.kvs[0]) if response.kvs else None

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = ""
    ) -> ListResult:
        low = prefix.encode()
        if start_after:
            low = max(low, start_after.encode() + b"\0")
        request = rpc.RangeRequest(
            key=low, range_end=_prefix_end(prefix.encode()), revision=revision, limit=limit
        )
        response, _ = await self._call(
            self._kv.Range, request, revision=revision, timeout=self._options.list_timeout
        )
        items = [_kv(kv) for kv in response.kvs]
        remaining = max(0, response.count - len(items)) if response.more else 0
        return ListResult(items, revision or response.header.revision, response.more, remaining)

    async def current_revision(self) -> int:
        response, _ = await self._call(self._kv.Range, _probe(0))
        return int(response.header.revision)

    async def compacted_revision(self) -> int:
        """Bisect for the oldest revision etcd still serves; the one before it is ours."""
        low, high = self._known_compacted + 1, await self.current_revision()
        while low < high:
            middle = (low + high) // 2
            if await self._serves(middle):
                high = middle
            else:
                low = middle + 1
        self._known_compacted = max(self._known_compacted, low - 1)
        return self._known_compacted

    async def _serves(self, revision: int) -> bool:
        try:
            await self._call(self._kv.Range, _probe(revision), translate=False)
        except grpc.aio.AioRpcError as e:
            if _COMPACTED in (e.details() or ""):
                return False
            raise _translate(e) from e
        return True

    # -- writes -----------------------------------------------------------------------

    async def create(self, key: str, value: bytes) -> KeyValue:
        k = key.encode()
        request = rpc.TxnRequest(
            compare=[rpc.Compare(result=_EQUAL, target=_CREATE, key=k, create_revision=0)],
            success=[rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value))],
            failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=k))],
        )
        response, ambiguous = await self._call(self._kv.Txn, request, mutation=True)
        if response.succeeded:
            revision = response.header.revision
            return KeyValue(key, value, revision, revision)
        current = _read_back(response)
        if ambiguous and current and current.value == value and current.version == 1:
            return _kv(current)  # our first attempt landed
        raise KeyExistsError(key)

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        k = key.encode()
        request = rpc.TxnRequest(
            compare=[
                rpc.Compare(result=_EQUAL, target=_MOD, key=k, mod_revision=expected_revision),
                rpc.Compare(result=_GREATER, target=_VERSION, key=k, version=0),
            ],
            success=[rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value, prev_kv=True))],
            failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=k))],
        )
        response, ambiguous = await self._call(self._kv.Txn, request, mutation=True)
        if response.succeeded:
            prev = response.responses[0].response_put.prev_kv
            return KeyValue(key, value, prev.create_revision, response.header.revision)
        current = _read_back(response)
        if current is None:
            raise NotFoundError(key)
        if ambiguous and current.value == value and current.mod_revision > expected_revision:
            return _kv(current)  # our first attempt landed
        raise ConflictError(key, _kv(current))

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        k = key.encode()
        compare = [rpc.Compare(result=_GREATER, target=_VERSION, key=k, version=0)]
        if expected_revision:
            compare.append(
                rpc.Compare(result=_EQUAL, target=_MOD, key=k, mod_revision=expected_revision)
            )
        request = rpc.TxnRequest(
            compare=compare,
            success=[
                rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=k, prev_kv=True))
            ],
            failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=k))],
        )
        response, _ = await self._call(self._kv.Txn, request, mutation=True)
        if response.succeeded:
            prev = response.responses[0].response_delete_range.prev_kvs[0]
            return KeyValue(key, prev.value, prev.create_revision, response.header.revision)
        current = _read_back(response)
        if current is None:
            raise NotFoundError(key)
        raise ConflictError(key, _kv(current))

    async def compact(self, revision: int) -> None:
        request = rpc.CompactionRequest(revision=revision, physical=False)
        try:
            await self._call(self._kv.Compact, request, revision=revision, mutation=True)
        except CompactedError as e:
            if revision != e.compacted + 1:  # etcd refuses to compact twice at the same point
                raise

    # -- watch ------------------------------------------------------------------------

    async def watch(self, prefix: str, start_revision: int) -> AsyncIterator[builtins.list[Event]]:
        position = start_revision or await self.current_revision() + 1
        create = rpc.WatchCreateRequest(
            key=prefix.encode(), range_end=_prefix_end(prefix.encode()), prev_kv=True
        )
        retry = _Backoff(self._options)
        while True:
            self._check_open()
            create.start_revision = position
            call = self._watch.Watch(metadata=(("hasleader", "true"),))
            try:
                await call.write(rpc.WatchRequest(create_request=create))
                while (response := await call.read()) is not grpc.aio.EOF:
                    if response.canceled or response.compact_revision:
                        raise _watch_canceled(position, response)
                    if response.created:
                        retry.reset()
                    elif response.events:
                        batch = [_event(e) for e in response.events]
                        position = batch[-1].revision + 1
                        yield batch
                lost = "the server ended the stream"
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if self._closed and task is not None and not task.cancelling():
                    return  # close() shut the channel, which cancels its streams
                raise
            except grpc.aio.AioRpcError as e:
                if self._closed:
                    return
                if e.code() not in _RETRYABLE:
                    raise _translate(e) from e
                lost = e.details() or e.code().name
            finally:
                call.cancel()
            if self._closed:
                return
            if not await retry.wait():
                raise UnavailableError(f"etcd watch lost: {lost}")

    # -- plumbing ---------------------------------------------------------------------

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._channel.close()

    def _check_open(self) -> None:
        if self._closed:
            raise UnavailableError("store is closed")

    async def _call(
        self,
        method: Callable[..., Awaitable[Any]],
        request: Any,
        *,
        mutation: bool = False,
        revision: int = 0,
        translate: bool = True,
        timeout: float = 0.0,
    ) -> tuple[Any, bool]:
        """Call with retries; returns the response and whether an earlier attempt of this
        mutation may have been applied."""
        self._check_open()
        retry = _Backoff(self._options)
        ambiguous = False
        while True:
            try:
                response = await method(request, timeout=timeout or self._options.call_timeout)
                return response, ambiguous
            except grpc.aio.AioRpcError as e:
                if e.code() not in _RETRYABLE:
                    if not translate:
                        raise
                    raise await self._error(e, revision) from e
                if mutation and not any(s in (e.details() or "").lower() for s in _NOT_SENT):
                    ambiguous = True
                if self._closed or not await retry.wait():
                    raise UnavailableError(f"etcd unavailable: {e.details()}") from e

    async def _error(self, error: grpc.aio.AioRpcError, revision: int) -> StoreError:
        details = error.details() or ""
        if _COMPACTED in details:
            return CompactedError(revision, await self.compacted_revision())
        if _FUTURE in details:
            return FutureRevisionError(revision, await self.current_revision())
        return _translate(error)


class _Backoff:
    """Exponential pauses between retries, within a total time budget."""

    def __init__(self, options: EtcdOptions) -> None:
        self._options = options
        self.reset()

    def reset(self) -> None:
        self._delay = self._options.backoff_initial
        self._deadline = asyncio.get_running_loop().time() + self._options.retry_for

    async def wait(self) -> bool:
        """Sleep before the next attempt; False when the budget is spent."""
        now = asyncio.get_running_loop().time()
        if now >= self._deadline:
            return False
        await asyncio.sleep(min(self._delay, self._deadline - now))
        self._delay = min(self._delay * 2, self._options.backoff_max)
        return True


async def _target(endpoints: list[str]) -> str:
    """A gRPC target listing every endpoint ("ipv4:1.2.3.4:2379,..."), names resolved."""
    loop = asyncio.get_running_loop()
    addresses = []
    for endpoint in endpoints:
        host, sep, port = endpoint.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"etcd endpoint must be host:port: {endpoint!r}")
        host = host.strip("[]")
        try:
            address = str(ipaddress.IPv4Address(host))
        except ValueError:
            infos = await loop.getaddrinfo(host, int(port), family=socket.AF_INET)
            if not infos:
                raise ValueError(f"cannot resolve etcd endpoint {endpoint!r}") from None
            address = str(infos[0][4][0])
        addresses.append(f"{address}:{port}")
    return "ipv4:" + ",".join(addresses)


def _watch_canceled(position: int, response: Any) -> StoreError:
    if response.compact_revision:
        return CompactedError(position, int(response.compact_revision) - 1)
    return UnavailableError(f"etcd canceled the watch: {response.cancel_reason}")


def _translate(error: grpc.aio.AioRpcError) -> StoreError:
    if error.code() in _RETRYABLE:
        return UnavailableError(f"etcd unavailable: {error.details()}")
    return StoreError(f"etcd: {error.code().name}: {error.details()}")


def _probe(revision: int) -> Any:
    """The cheapest Range: it reads one (probably absent) key, for the header."""
    return rpc.RangeRequest(key=b"\0", revision=revision, keys_only=True, count_only=True)


def _prefix_end(prefix: bytes) -> bytes:
    """etcd's range end for a prefix ("\\0" alone means: to the end of the keyspace)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return b"\0"
    return stripped[:-1] + bytes([stripped[-1] + 1])


def _read_back(response: Any) -> Any:
    """The key's current etcd KeyValue from a transaction's failure branch (None: absent)."""
    kvs = response.responses[0].response_range.kvs
    return kvs[0] if kvs else None


def _kv(kv: Any) -> KeyValue:
    return KeyValue(kv.key.decode(), kv.value, kv.create_revision, kv.mod_revision)


def _event(event: Any) -> Event:
    prev = _kv(event.prev_kv) if event.HasField("prev_kv") else None
    if event.type == _DELETE:
        value, created = (prev.value, prev.create_revision) if prev else (b"", 0)
        kv = KeyValue(event.kv.key.decode(), value, created, event.kv.mod_revision)
        return Event(EventType.DELETE, kv, prev)
    return Event(EventType.PUT, _kv(event.kv), prev)
