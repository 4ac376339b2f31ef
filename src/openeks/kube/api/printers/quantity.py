"""Resource quantities in the canonical form `resource.Quantity.String()` prints.

Upstream decodes every quantity (`"1024Mi"`, `"0.5"`, `"1e3"`) into a number plus a format
and prints it back canonically: `"1Gi"`, `"500m"`, `"1e3"`. Columns that show capacities
and quota usage (PV, PVC, ResourceQuota) therefore never echo the stored spelling. This
module ports `ParseQuantity` and `CanonicalizeBytes` on exact fractions:

- values are rounded up (away from zero) to the nearest nano;
- binary-SI values print in the largest power of 1024 that divides them, or as decimal SI
  when they are below 1024 in magnitude or not whole;
- decimal values print with their trailing zeros folded into an exponent that is a
  multiple of three, spelled as an SI suffix (`k`, `M`, `m`, `n`...) or as `e<n>`.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

_QUANTITY = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(.*)")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exp: suffix for suffix, exp in _DECIMAL.items()}
_BINARY_SUFFIX = {exp: suffix for suffix, exp in _BINARY.items()}
_EXPONENT = re.compile(r"[eE]([+-]?\d+)")
_NANO = Fraction(1, 10**9)
_MAX_INT64 = 2**63 - 1

BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"
DECIMAL_EXPONENT = "DecimalExponent"


class InvalidQuantity(ValueError):
    """A string `resource.ParseQuantity` rejects."""


def parse_quantity(raw: str) -> tuple[Fraction, str]:
    """The exact value and format `resource.ParseQuantity` decodes `raw` into."""
    if raw == "":
        raise InvalidQuantity("quantities must match the regular expression")
    if raw == "0":
        return Fraction(0), DECIMAL_SI
    match = _QUANTITY.fullmatch(raw)
    if match is None:
        raise InvalidQuantity(raw)
    sign, whole, fraction, suffix = match.groups()
    base, exponent, fmt = _interpret(suffix)
    digits = (whole or "0") + (fraction or "")
    amount = Fraction(int(digits), 10 ** len(fraction or "")) * Fraction(base) ** exponent
    if amount % _NANO:
        amount = math.ceil(amount / _NANO) * _NANO
    if fmt == BINARY_SI and amount > _MAX_INT64:
        amount = Fraction(_MAX_INT64)
    if fmt == BINARY_SI and 0 < amount < 1:
        fmt = DECIMAL_SI
    return (-amount if sign == "-" else amount), fmt


def _interpret(suffix: str) -> tuple[int, int, str]:
    if suffix in _DECIMAL:
        return 10, _DECIMAL[suffix], DECIMAL_SI
    if suffix in _BINARY:
        return 2, _BINARY[suffix], BINARY_SI
    match = _EXPONENT.fullmatch(suffix)
    if match is None:
        raise InvalidQuantity(f"unable to parse quantity's suffix {suffix!r}")
    return 10, int(match.group(1)), DECIMAL_EXPONENT


def format_quantity(amount: Fraction, fmt: str) -> str:
    """`Quantity.String()` for a decoded value."""
    if amount == 0:
        return "0"
    if fmt == BINARY_SI and (-1024 < amount < 1024 or amount.denominator != 1):
        fmt = DECIMAL_SI
    if fmt == BINARY_SI:
        number, power = int(amount), 0
        while abs(number) >= 1024 and number % 1024 == 0:
            number, power = number // 1024, power + 10
        return f"{number}{_BINARY_SUFFIX[power]}"
    scaled = amount * 10**9  # whole after the nano rounding
    number, exponent = int(scaled), -9
    while number % 10 == 0:
        number, exponent = number // 10, exponent + 1
    aligned = exponent - exponent % 3  # largest multiple of three not above it
    number *= 10 ** (exponent - aligned)
    if fmt == DECIMAL_SI and aligned in _DECIMAL_SUFFIX:
        return f"{number}{_DECIMAL_SUFFIX[aligned]}"
    return f"{number}" if aligned == 0 else f"{number}e{aligned}"


def canonical_quantity(value: Any) -> str:
    """How upstream prints a quantity field; "0" when unset, the raw text if unparsable."""
    if value is None:
        return "0"
    raw = value if isinstance(value, str) else str(value)
    try:
        amount, fmt = parse_quantity(raw.strip())
    except InvalidQuantity:
        return raw
    return format_quantity(amount, fmt)
