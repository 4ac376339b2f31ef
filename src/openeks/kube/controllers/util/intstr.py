"""Int-or-percent values (`maxSurge: 25%`, `maxUnavailable: 1`), scaled as upstream.

`scaled_value` is `intstr.GetScaledValueFromIntOrPercent`: a percentage of `total`,
rounded up or down in float64 exactly as Go does it, or the integer itself. The error
messages are upstream's, since they end up in events and conditions.
"""

from __future__ import annotations

import math


class IntOrStringError(ValueError):
    """A value that is neither an integer nor a percentage."""


def _int_or_percent(value: object) -> tuple[int, bool]:
    if isinstance(value, bool):
        raise IntOrStringError(
            "invalid value for IntOrString: invalid type: neither int nor percentage"
        )
    if isinstance(value, int):
        return value, False
    if isinstance(value, str):
        if not value.endswith("%"):
            raise IntOrStringError(
                "invalid value for IntOrString: invalid type: string is not a percentage"
            )
        try:
            return int(value[:-1], 10), True
        except ValueError:
            raise IntOrStringError(
                f'invalid value for IntOrString: invalid value "{value}": '
                f'strconv.Atoi: parsing "{value[:-1]}": invalid syntax'
            ) from None
    if value is None:
        raise IntOrStringError("nil value for IntOrString")
    raise IntOrStringError(
        "invalid value for IntOrString: invalid type: neither int nor percentage"
    )


def scaled_value(value: object, total: int, round_up: bool) -> int:
    number, is_percent = _int_or_percent(value)
    if not is_percent:
        return number
    scaled = float(number) * float(total) / 100
    return int(math.ceil(scaled) if round_up else math.floor(scaled))


def value_or_default(value: object, default: int | str) -> int | str:
    """`IntOrStringValueOrDefault`: the default when the field is unset."""
    return default if value is None else value  # type: ignore[return-value]
