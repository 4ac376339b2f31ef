"""Resource quantities (`500m`, `1Gi`, `2e3`): parsing, comparing and canonical printing.

A port of the parts of `k8s.io/apimachinery/pkg/api/resource` validation messages need:
quantities compare by value and print in upstream's canonical form (`1000m` prints as
`1`, `1536Mi` stays `1536Mi`, `0.5Gi` prints as `512Mi`), as in
`must be less than or equal to cpu limit of 500m`. Values are exact fractions, rounded
up to nano units as upstream rounds them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
PARSE_ERROR = f"quantities must match the regular expression '{QUANTITY_PATTERN}'"

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {v: k for k, v in _DECIMAL.items()}
_BINARY_SUFFIX = {v: k for k, v in _BINARY.items()}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_EXPONENT = re.compile(r"[eE][+-]?[0-9]+")


@dataclass(frozen=True)
class Quantity:
    value: Fraction
    format: str  # "DecimalSI", "BinarySI" or "DecimalExponent"

    def __str__(self) -> str:
        return canonical(self)

    def cmp(self, other: Quantity) -> int:
        return (self.value > other.value) - (self.value < other.value)

    @property
    def milli_value(self) -> int:
        return math.ceil(self.value * 1000)


def parse(text: str | int | float) -> Quantity:
    """Parse a quantity as JSON carries it (string or number); raises ValueError."""
    if isinstance(text, bool):
        raise ValueError(PARSE_ERROR)
    if isinstance(text, int):
        return Quantity(Fraction(text), "DecimalSI")
    if isinstance(text, float):
        return Quantity(_round_up_nano(Fraction(text)), "DecimalSI")
    if not re.fullmatch(QUANTITY_PATTERN[1:-1], text):
        raise ValueError(PARSE_ERROR)
    number = _NUMBER.match(text)
    if number is None or number.group(0) in ("+", "-", ""):
        raise ValueError(PARSE_ERROR)
    suffix = text[number.end() :]
    base = Fraction(number.group(0))
    if suffix in _BINARY:
        return Quantity(_round_up_nano(base * 2 ** _BINARY[suffix]), "BinarySI")
    if suffix in _DECIMAL:
        return Quantity(_round_up_nano(base * Fraction(10) ** _DECIMAL[suffix]), "DecimalSI")
    if _EXPONENT.fullmatch(suffix):
        exponent = int(suffix[1:])
        return Quantity(_round_up_nano(base * Fraction(10) ** exponent), "DecimalExponent")
    raise ValueError(PARSE_ERROR)


def _round_up_nano(value: Fraction) -> Fraction:
    scaled = value * 10**9
    if scaled.denominator == 1:
        return value
    return Fraction(math.ceil(scaled), 10**9)


def canonical(q: Quantity) -> str:
    """upstream's `Quantity.String()`."""
    if q.value == 0:
        return "0"
    fmt = q.format
    if fmt == "BinarySI":
        if -1024 < q.value < 1024 or q.value.denominator != 1:
            fmt = "DecimalSI"
        else:
            number, power = int(q.value), 0
            while power < 60 and number % 1024 == 0:
                number //= 1024
                power += 10
            return f"{number}{_BINARY_SUFFIX.get(power, '')}"
    mantissa, exponent = _canonical_decimal(q.value)
    if fmt == "DecimalExponent":
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    if exponent in _DECIMAL_SUFFIX:
        return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"
    return f"{mantissa}e{exponent}"


def _canonical_decimal(value: Fraction) -> tuple[int, int]:
    """An integer mantissa and an exponent that is a multiple of 3, as small as exact."""
    exponent = -9
    mantissa = value * 10**9
    # Values are rounded to nano units, so this is an integer (ceil guards floats).
    number = math.ceil(mantissa)
    while number != 0 and number % 1000 == 0 and exponent < 18:
        number //= 1000
        exponent += 3
    return number, exponent
