"""Cron schedules as `github.com/robfig/cron/v3`'s `ParseStandard` accepts them.

CronJob validation reports the parser's own error text (`expected exactly 5 fields,
found 1: [foo]`, `end of range (60) above maximum (59): 60`), so this is a port of the
v3 parser's checks: five fields (minute, hour, day of month, month, day of week) with
`*`, `?`, ranges, steps, lists and month/day names, or a descriptor (`@hourly`,
`@every 1h30m`), optionally after `TZ=` / `CRON_TZ=`. It validates only; the CronJob
controller computes run times.
"""

from __future__ import annotations

import re
import zoneinfo

_BOUNDS = (
    (0, 59, None),
    (0, 23, None),
    (1, 31, None),
    (
        1,
        12,
        {
            "jan": 1,
            "feb": 2,
            "mar": 3,
            "apr": 4,
            "may": 5,
            "jun": 6,
            "jul": 7,
            "aug": 8,
            "sep": 9,
            "oct": 10,
            "nov": 11,
            "dec": 12,
        },
    ),
    (0, 6, {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}),
)
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_DURATION = re.compile(r"[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+|[-+]?0")


class CronError(ValueError):
    """A schedule robfig/cron rejects; str() is the parser's message."""


def parse_standard(spec: str) -> None:
    """Raise CronError when `cron.ParseStandard(spec)` would fail."""
    if not spec:
        raise CronError("empty spec string")
    if spec.startswith(("TZ=", "CRON_TZ=")):
        eq, space = spec.index("="), spec.find(" ")
        if space < 0:
            # Go slices spec[eq+1:-1] and panics; the API server recovers with this text.
            raise CronError(f"provided bad location {spec[eq + 1 :]}: unknown time zone")
        location = spec[eq + 1 : space]
        try:
            zoneinfo.ZoneInfo(location)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CronError(
                f"provided bad location {location}: unknown time zone {location}"
            ) from None
        spec = spec[space:].strip()
    if spec.startswith("@"):
        _parse_descriptor(spec)
        return
    fields = spec.split()
    if len(fields) != 5:
        shown = "[" + " ".join(fields) + "]"
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: {shown}")
    for field, bounds in zip(fields, _BOUNDS, strict=True):
        for expr in (part for part in field.split(",") if part):
            _parse_range(expr, *bounds)


def _parse_descriptor(spec: str) -> None:
    if spec in _DESCRIPTORS:
        return
    if spec.startswith("@every "):
        duration = spec[len("@every ") :]
        if not _DURATION.fullmatch(duration):
            raise CronError(f'failed to parse duration {spec}: time: invalid duration "{duration}"')
        return
    raise CronError(f"unrecognized descriptor: {spec}")


def _parse_int(expr: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", expr):
        raise CronError(
            f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax'
        )
    number = int(expr)
    if number < 0:
        raise CronError(f"negative number ({number}) not allowed: {expr}")
    return number


def _parse_int_or_name(expr: str, names: dict[str, int] | None) -> int:
    if names is not None and expr.lower() in names:
        return names[expr.lower()]
    return _parse_int(expr)


def _parse_range(expr: str, low: int, high: int, names: dict[str, int] | None) -> None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = _parse_int_or_name(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _parse_int_or_name(low_and_high[1], names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _parse_int(range_and_step[1])
        if single:
            end = high
    elif len(range_and_step) > 2:
        raise CronError(f"too many slashes: {expr}")
    if start < low:
        raise CronError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise CronError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
