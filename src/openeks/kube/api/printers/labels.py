"""Label maps and label selectors, printed as upstream's `labels` package prints them.

`format_labels` is `labels.FormatLabels` (sorted `k=v` pairs, "<none>" when empty).
`selector_string` is `metav1.LabelSelectorAsSelector(s).String()`: match labels become
`k=v`, expressions `k in (a,b)`, `k notin (a,b)`, `k` and `!k`; requirements are sorted
by key and each value set is sorted. A missing selector selects nothing and an empty one
everything; both print as "". Selectors upstream would reject raise `InvalidSelector`,
which `format_label_selector` shows as "<error>".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openeks.kube.api.printers.common import mapping, seq, text


def format_labels(labels: Any) -> str:
    """`labels.FormatLabels`: sorted `k=v` pairs, "<none>" when empty."""
    pairs = mapping(labels)
    rendered = ",".join(f"{key}={text(pairs[key])}" for key in sorted(pairs))
    return rendered or "<none>"


_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class InvalidSelector(ValueError):
    """A label selector `metav1.LabelSelectorAsSelector` rejects."""


@dataclass(frozen=True)
class _Requirement:
    key: str
    operator: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        prefix = "!" if self.operator == "DoesNotExist" else ""
        if self.operator in ("Exists", "DoesNotExist"):
            return prefix + self.key
        values = ",".join(sorted(self.values))
        if self.operator == "Equals":
            return f"{self.key}={values}"
        word = " in " if self.operator == "In" else " notin "
        return f"{self.key}{word}({values})"


def _valid_key(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return 0 < len(name) <= 63 and _LABEL_NAME.fullmatch(name) is not None


def _valid_value(value: str) -> bool:
    return value == "" or (len(value) <= 63 and _LABEL_NAME.fullmatch(value) is not None)


def _requirement(key: Any, operator: str, values: Sequence[Any]) -> _Requirement:
    strs = tuple(text(v) for v in values)
    if not isinstance(key, str) or not _valid_key(key):
        raise InvalidSelector(f"invalid label key {key!r}")
    if operator in ("In", "NotIn") and not strs:
        raise InvalidSelector("for 'in', 'notin' operators, values set can't be empty")
    if operator == "Equals" and len(strs) != 1:
        raise InvalidSelector("exact-match compatibility requires one single value")
    if operator in ("Exists", "DoesNotExist") and strs:
        raise InvalidSelector("values set must be empty for exists and does not exist")
    if not all(_valid_value(v) for v in strs):
        raise InvalidSelector(f"invalid label value in {list(strs)}")
    return _Requirement(key, operator, strs)


def selector_string(selector: Any) -> str:
    """`metav1.LabelSelectorAsSelector(s).String()`; raises `InvalidSelector`.

    A missing selector selects nothing and an empty one everything; both print as "".
    Requirements are sorted by key (upstream sorts with `sort.Sort(ByKey)`).
    """
    if not isinstance(selector, Mapping):
        return ""
    match_labels = mapping(selector.get("matchLabels"))
    expressions = seq(selector.get("matchExpressions"))
    requirements = [_requirement(k, "Equals", [v]) for k, v in match_labels.items()]
    for expr in expressions:
        expr = mapping(expr)
        operator = text(expr.get("operator"))
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise InvalidSelector(f"{operator!r} is not a valid label selector operator")
        requirements.append(_requirement(expr.get("key"), operator, seq(expr.get("values"))))
    requirements.sort(key=lambda r: r.key)
    return ",".join(str(r) for r in requirements)


def format_label_selector(selector: Any) -> str:
    """`metav1.FormatLabelSelector`: "<none>" when it selects all or nothing."""
    try:
        rendered = selector_string(selector)
    except InvalidSelector:
        return "<error>"
    return rendered or "<none>"
