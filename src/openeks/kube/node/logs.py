"""Reading container logs in the CRI format, as kubelet serves them to `kubectl logs`.

A runtime writes `<RFC3339Nano time> <stdout|stderr> <P|F> <text>` lines, `P` marking a
fragment of a longer line. Reading strips that prefix, joins fragments, and applies the
log options the way kubelet does: `sinceTime`/`sinceSeconds` filter on the time,
`tailLines` keeps the last lines, `limitBytes` cuts the output, and `timestamps` puts the
time first in kubelet's fixed-width form (`2024-01-02T03:04:05.123456789Z`). `follow`
keeps reading as the file grows until the container has stopped and nothing more came,
or the caller goes away.
"""

from __future__ import annotations

import asyncio
import datetime
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

POLL = 0.2


@dataclass
class LogLine:
    time: datetime.datetime | None
    stream: str
    content: bytes
    """The text with its newline (a last unfinished line may lack one)."""


@dataclass
class LogOptions:
    follow: bool = False
    tail_lines: int | None = None
    timestamps: bool = False
    since: datetime.datetime | None = None
    limit_bytes: int | None = None


def parse_time(text: str) -> datetime.datetime | None:
    """RFC 3339 with up to nanoseconds (Python keeps microseconds)."""
    if not text:
        return None
    value = text.replace("Z", "+00:00")
    main, dot, rest = value.partition(".")
    if dot:
        count = len(rest) - len(rest.lstrip("0123456789"))
        digits, zone = rest[:count], rest[count:]
        value = f"{main}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None


def format_time(t: datetime.datetime) -> str:
    """kubelet's RFC3339NanoFixed (9 fraction digits, UTC)."""
    t = t.astimezone(datetime.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}000Z"


def parse_cri_line(raw: bytes) -> tuple[str, str, bool, bytes] | None:
    """(time, stream, partial, content without newline), None if not a CRI line."""
    parts = raw.rstrip(b"\n").split(b" ", 3)
    if len(parts) < 3:
        return None
    content = parts[3] if len(parts) == 4 else b""
    return parts[0].decode(errors="replace"), parts[1].decode(), parts[2] == b"P", content


class LineAssembler:
    """Joins CRI fragments into whole lines."""

    def __init__(self) -> None:
        self._pending: LogLine | None = None

    def feed(self, raw: bytes) -> LogLine | None:
        parsed = parse_cri_line(raw)
        if parsed is None:
            return None
        ts, stream, partial, content = parsed
        if self._pending is None:
            self._pending = LogLine(parse_time(ts), stream, b"")
        self._pending.content += content
        if partial:
            return None
        line, self._pending = self._pending, None
        line.content += b"\n"
        return line


def parse_lines(data: bytes) -> list[LogLine]:
    """Whole lines of CRI log text (a trailing unfinished line is left out)."""
    assembler = LineAssembler()
    lines: list[LogLine] = []
    for raw in data.splitlines(keepends=True):
        if raw.endswith(b"\n"):
            line = assembler.feed(raw)
            if line is not None:
                lines.append(line)
    return lines


def read_lines(path: Path) -> list[LogLine]:
    try:
        return parse_lines(path.read_bytes())
    except OSError:
        return []


def render(line: LogLine, timestamps: bool) -> bytes:
    if timestamps and line.time is not None:
        return format_time(line.time).encode() + b" " + line.content
    return line.content


def select(lines: list[LogLine], options: LogOptions) -> list[LogLine]:
    if options.since is not None:
        since = options.since
        lines = [ln for ln in lines if ln.time is None or ln.time >= since]
    if options.tail_lines is not None and options.tail_lines >= 0:
        lines = list(deque(lines, maxlen=options.tail_lines)) if options.tail_lines else []
    return lines


Writer = Callable[[bytes], Awaitable[None]]
Running = Callable[[], Awaitable[bool]]


class _Budget:
    def __init__(self, limit: int | None) -> None:
        self.left = limit

    def cut(self, data: bytes) -> bytes:
        if self.left is None:
            return data
        data = data[: self.left]
        self.left -= len(data)
        return data

    @property
    def spent(self) -> bool:
        return self.left is not None and self.left <= 0


async def stream_log(path: Path, options: LogOptions, write: Writer, running: Running) -> None:
    """Write the selected lines, then (with follow) new ones until the container stops."""
    budget = _Budget(options.limit_bytes)
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    offset = data.rfind(b"\n") + 1
    for line in select(parse_lines(data[:offset]), options):
        await write(budget.cut(render(line, options.timestamps)))
        if budget.spent:
            return
    if not options.follow:
        return
    assembler = LineAssembler()
    buffer = b""
    while True:
        chunk = _read_from(path, offset)
        if chunk:
            offset += len(chunk)
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for raw in complete:
                fresh = assembler.feed(raw + b"\n")
                if fresh is None or (options.since and fresh.time and fresh.time < options.since):
                    continue
                await write(budget.cut(render(fresh, options.timestamps)))
                if budget.spent:
                    return
            continue
        if not await running():
            if not _read_from(path, offset):
                return
            continue
        await asyncio.sleep(POLL)


def _read_from(path: Path, offset: int) -> bytes:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read(1 << 20)
    except OSError:
        return b""
