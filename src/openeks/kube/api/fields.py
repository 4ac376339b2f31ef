"""Field selectors (`metadata.name=web,status.phase!=Running`), as upstream parses them.

A port of `k8s.io/apimachinery/pkg/fields/selector.go`: terms split on unescaped commas,
each term split at the first `!=`, `==` or `=`, values unescaped (`\\,` `\\=` `\\\\`), terms
sorted as strings before parsing (so `str()` is canonical). A missing field reads as "".

The API server supports a different set of fields per resource; `requirements()` and
`check_supported()` let it refuse the others with upstream's message
(`field label not supported: spec.foo`), and `transform()` mirrors
`ParseAndTransformSelector` for servers that rename fields on the way in.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from openeks.kube.api.labels import SelectorError

EQUALS = "="
NOT_EQUALS = "!="
_TERM_OPERATORS = ("!=", "==", "=")


@dataclass(frozen=True)
class Requirement:
    """One term; `operator` is "=" (for both `=` and `==`) or "!="."""

    field: str
    operator: str
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        have = fields.get(self.field, "")
        return have == self.value if self.operator == EQUALS else have != self.value

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{escape_value(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    """An AND of field requirements; the empty selector matches everything."""

    terms: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.terms

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(term.matches(fields) for term in self.terms)

    def requirements(self) -> list[Requirement]:
        return list(self.terms)

    def requires_exact_match(self, field: str) -> str | None:
        """The value `field` must equal, when an `=` term pins it."""
        for term in self.terms:
            if term.operator == EQUALS and term.field == field:
                return term.value
        return None

    def transform(self, fn: Callable[[str, str], tuple[str, str]]) -> FieldSelector:
        """Rewrite every (field, value); terms rewritten to ("", "") are dropped."""
        out = []
        for term in self.terms:
            field, value = fn(term.field, term.value)
            if field or value:
                out.append(Requirement(field, term.operator, value))
        return FieldSelector(tuple(out))

    def check_supported(self, supported: Collection[str]) -> None:
        """Raise upstream's `field label not supported: <field>` for the first stranger."""
        for term in self.terms:
            if term.field not in supported:
                raise SelectorError(f"field label not supported: {term.field}")

    def __str__(self) -> str:
        return ",".join(str(term) for term in self.terms)


def escape_value(value: str) -> str:
    """upstream's `fields.EscapeValue`: prefix `\\`, `,` and `=` with a backslash."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_value(value: str) -> str:
    """upstream's `fields.UnescapeValue`; raises SelectorError on bad escapes."""
    if not any(ch in value for ch in "\\,="):
        return value
    out = []
    in_slash = False
    for ch in value:
        if in_slash:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch in ",=":
            # Go prints the rune with %v, i.e. as its code point number.
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(selector: str) -> list[str]:
    if not selector:
        return []
    terms, start, in_slash = [], 0, False
    for i, ch in enumerate(selector):
        if in_slash:
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def parse(selector: str) -> FieldSelector:
    """upstream's `fields.ParseSelector`; raises SelectorError."""
    terms = []
    for part in sorted(_split_terms(selector)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{selector}'; can't understand '{part}'")
        lhs, op, rhs = split
        terms.append(Requirement(lhs, NOT_EQUALS if op == "!=" else EQUALS, unescape_value(rhs)))
    return FieldSelector(tuple(terms))


def one_term_equal(field: str, value: str) -> FieldSelector:
    """upstream's `fields.OneTermEqualSelector`."""
    return FieldSelector((Requirement(field, EQUALS, value),))


def from_set(fields: Mapping[str, str]) -> FieldSelector:
    """upstream's `fields.SelectorFromSet`: every field must equal its value."""
    return FieldSelector(tuple(Requirement(k, EQUALS, v) for k, v in fields.items()))
