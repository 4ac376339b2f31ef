"""Cron schedules and their run times, as `robfig/cron/v3` and the CronJob controller
compute them.

`parse()` accepts what `cron.ParseStandard` accepts (validation and its error text come
from `openeks.kube.api.validation.cron`): five fields, names, ranges, steps, `?`, the
`@hourly`-style descriptors, `@every <duration>`, and a `TZ=`/`CRON_TZ=` prefix, which
is how the controller applies `spec.timeZone`. `SpecSchedule.next()` walks month, day,
hour and minute the way robfig does, including its day-of-month/day-of-week rule (both
restricted → either may match; a `*` in one → both must). `most_recent_schedule_time()`
is the controller's `mostRecentScheduleTime`: the latest missed run since the last one,
and how many were missed.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass
from typing import Protocol

from openeks.kube.api.validation.cron import CronError, parse_standard

__all__ = ["CronError", "Schedule", "most_recent_schedule_time", "next_delay", "parse"]

UTC = datetime.UTC
_FIELDS = (
    (0, 59, None),
    (0, 23, None),
    (1, 31, None),
    (1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    (0, 6, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


class Schedule(Protocol):
    def next(self, t: datetime.datetime) -> datetime.datetime | None:
        """The first activation strictly after `t`; None if there is none within 5 years."""


@dataclass(frozen=True)
class ConstantDelay:
    """`@every <duration>`: activations `seconds` apart, on whole seconds."""

    seconds: int

    def next(self, t: datetime.datetime) -> datetime.datetime:
        return t.replace(microsecond=0) + datetime.timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class SpecSchedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    dom: frozenset[int]
    months: frozenset[int]
    dow: frozenset[int]
    dom_star: bool
    dow_star: bool
    tz: datetime.tzinfo

    def day_matches(self, t: datetime.datetime) -> bool:
        dom = t.day in self.dom
        dow = (t.weekday() + 1) % 7 in self.dow
        if self.dom_star or self.dow_star:
            return dom and dow
        return dom or dow

    def next(self, t: datetime.datetime) -> datetime.datetime | None:
        origin = t.tzinfo or UTC
        t = _add(t.astimezone(self.tz).replace(microsecond=0), 1)
        if t.second:  # only second 0 matches: move on to the next whole minute
            t = _add(t.replace(second=0), 60)
        year_limit = t.year + 5
        while t.year <= year_limit:
            t, wrapped = self._advance(t)
            if not wrapped:
                return t.astimezone(origin)
        return None

    def _advance(self, t: datetime.datetime) -> tuple[datetime.datetime, bool]:
        """One pass of robfig's loop; (time, True) means it wrapped and must run again."""
        while t.month not in self.months:
            t = _local(t.year + (t.month == 12), t.month % 12 + 1, 1, 0, 0, self.tz)
            if t.month == 1:
                return t, True
        while not self.day_matches(t):
            d = t.date() + datetime.timedelta(days=1)
            t = _local(d.year, d.month, d.day, 0, 0, self.tz)
            if t.day == 1:
                return t, True
        while t.hour not in self.hours:
            t = _add(t.replace(minute=0), 3600)
            if t.hour == 0:
                return t, True
        while t.minute not in self.minutes:
            t = _add(t, 60)
            if t.minute == 0:
                return t, True
        return t, False


def _add(t: datetime.datetime, seconds: float) -> datetime.datetime:
    """Absolute-time addition (Go's Time.Add), staying in t's zone."""
    tz = t.tzinfo or UTC
    return (t.astimezone(UTC) + datetime.timedelta(seconds=seconds)).astimezone(tz)


def _local(y: int, mo: int, d: int, h: int, mi: int, tz: datetime.tzinfo) -> datetime.datetime:
    return datetime.datetime(y, mo, d, h, mi, tzinfo=tz).astimezone(tz)


def parse(spec: str) -> Schedule:
    """A schedule from a cron spec; raises CronError with robfig's message."""
    parse_standard(spec)
    tz: datetime.tzinfo = UTC
    if spec.startswith(("TZ=", "CRON_TZ=")):
        prefix, _, spec = spec.partition(" ")
        tz = zoneinfo.ZoneInfo(prefix.partition("=")[2])
        spec = spec.strip()
    if spec.startswith("@every "):
        seconds = int(_duration(spec[len("@every ") :]))
        return ConstantDelay(max(seconds, 1))
    fields = _DESCRIPTORS.get(spec, spec).split()
    sets = [_field(expr, *bounds) for expr, bounds in zip(fields, _FIELDS, strict=True)]
    return SpecSchedule(
        minutes=sets[0][0],
        hours=sets[1][0],
        dom=sets[2][0],
        months=sets[3][0],
        dow=sets[4][0],
        dom_star=sets[2][1],
        dow_star=sets[4][1],
        tz=tz,
    )


def _duration(text: str) -> float:
    sign = -1 if text.startswith("-") else 1
    total = 0.0
    for number, unit in re.findall(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)", text):
        total += float(number) * _UNITS[unit]
    return sign * total


def _field(
    field: str, low: int, high: int, names: tuple[str, ...] | None
) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for expr in (part for part in field.split(",") if part):
        bits, is_star = _range(expr, low, high, names)
        values |= bits
        star = star or is_star
    return frozenset(values), star


def _value(text: str, low: int, names: tuple[str, ...] | None) -> int:
    if names and text.lower() in names:
        return names.index(text.lower()) + low
    return int(text)


def _range(expr: str, low: int, high: int, names: tuple[str, ...] | None) -> tuple[set[int], bool]:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    star = low_high[0] in ("*", "?")
    if star:
        start, end = low, high
    else:
        start = _value(low_high[0], low, names)
        end = _value(low_high[1], low, names) if len(low_high) == 2 else start
    step = 1
    if len(range_and_step) == 2:
        step = int(range_and_step[1])
        if len(low_high) == 1:
            end = high
        if step > 1:
            star = False
    return set(range(start, end + 1, step)), star


def most_recent_schedule_time(
    earliest: datetime.datetime,
    now: datetime.datetime,
    schedule: Schedule,
    starting_deadline: int | None = None,
) -> tuple[datetime.datetime, datetime.datetime | None, int]:
    """(earliest considered, most recent missed run or None, number missed ≈).

    `earliest` is lastScheduleTime or the CronJob's creation; a starting deadline moves it
    forward to now - deadline. Raises ValueError for schedules that never fire sensibly.
    """
    if starting_deadline is not None:
        deadline = now - datetime.timedelta(seconds=starting_deadline)
        earliest = max(earliest, deadline)
    t1 = schedule.next(earliest)
    if t1 is None:  # robfig's zero time: a spec like "0 0 31 2 *" never fires
        raise ValueError("time difference between two schedules is less than 1 second")
    if now < t1:
        return earliest, None, 0
    t2 = schedule.next(t1)
    if t2 is None or now < t2:
        return earliest, t1, 0
    between = round((t2 - t1).total_seconds())
    if between < 1:
        raise ValueError("time difference between two schedules is less than 1 second")
    missed = int((now - t1).total_seconds()) // between + 1
    start = t1 + datetime.timedelta(seconds=(missed - 2) * between)
    recent: datetime.datetime | None = None
    t: datetime.datetime | None = schedule.next(start)
    while t is not None and t <= now:
        recent = t
        t = schedule.next(t)
    return earliest, recent, missed


def next_delay(
    earliest: datetime.datetime, now: datetime.datetime, schedule: Schedule
) -> float | None:
    """Seconds until the next run after the most recent one, plus 100 ms (upstream's
    nextScheduleDelta); None if the schedule never fires again."""
    try:
        start, recent, missed = most_recent_schedule_time(earliest, now, schedule)
    except ValueError:
        recent, start, missed = now, now, 0
    base = recent if recent is not None else (start if missed == 0 else now)
    nxt = schedule.next(base)
    if nxt is None:
        return None
    return (nxt - now).total_seconds() + 0.1
