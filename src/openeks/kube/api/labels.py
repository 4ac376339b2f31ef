"""Label selectors: upstream's string syntax, `metav1.LabelSelector`, matching and printing.

A port of `k8s.io/apimachinery/pkg/labels/selector.go` (lexer, parser, `Requirement`,
`String()`) and `metav1.LabelSelectorAsSelector`. The lexer and parser keep upstream's
structure token for token, because clients see its error messages verbatim
(`unable to parse requirement: found '=', expected: identifier`) and its canonical string
form (requirements sorted by key, set values sorted) in events, `kubectl describe` and
`status.selector`.

`Selector.nothing()` is the selector a nil `LabelSelector` converts to: it matches no
labels and prints as "". An empty selector matches everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import FieldError, GoValue, Path, aggregate, go_slice, invalid
from openeks.kube.api.fielderrors import not_supported as _not_supported
from openeks.kube.api.labels_lexer import (
    TOK_CLOSE,
    TOK_COMMA,
    TOK_DEQ,
    TOK_END,
    TOK_EQ,
    TOK_GT,
    TOK_IDENT,
    TOK_IN,
    TOK_LT,
    TOK_NEQ,
    TOK_NOT,
    TOK_NOTIN,
    TOK_OPEN,
    Lexer,
)

# selection.Operator values.
DOES_NOT_EXIST = "!"
EQUALS = "="
DOUBLE_EQUALS = "=="
IN = "in"
NOT_EQUALS = "!="
NOT_IN = "notin"
EXISTS = "exists"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = [IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN]
_UNARY_OPERATORS = [EXISTS, DOES_NOT_EXIST]
_VALID_OPERATORS = _BINARY_OPERATORS + _UNARY_OPERATORS


class SelectorError(ValueError):
    """A label or field selector that cannot be parsed or built; str() is upstream's."""


@dataclass(frozen=True)
class Requirement:
    """One `key op values` term; build through `new_requirement` to get it validated."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GREATER_THAN, LESS_THAN):
            if self.key not in labels or len(self.values) != 1:
                return False
            have, want = _parse_int64(labels[self.key]), _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        op = self.operator
        out = ("!" if op == DOES_NOT_EXIST else "") + self.key
        symbols = {
            EQUALS: "=",
            DOUBLE_EQUALS: "==",
            NOT_EQUALS: "!=",
            IN: " in ",
            NOT_IN: " notin ",
            GREATER_THAN: ">",
            LESS_THAN: "<",
        }
        if op in (EXISTS, DOES_NOT_EXIST):
            return out
        out += symbols.get(op, "")
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            return f"{out}({values})"
        return out + values


def _parse_int64(value: str) -> int | None:
    """Go's strconv.ParseInt(value, 10, 64): optional sign, decimal digits, int64 range."""
    body = value[1:] if value[:1] in ("+", "-") else value
    if not body or not body.isascii() or not body.isdigit():
        return None
    number = int(value)
    return number if -(2**63) <= number < 2**63 else None


def new_requirement(
    key: str, operator: str, values: Iterable[str], path: Path | None = None
) -> Requirement:
    """upstream's `labels.NewRequirement`: raises SelectorError with every problem found."""
    vals = list(values)
    errs: list[FieldError] = []
    key_path = path.child("key") if path is not None else Path("key")
    value_path = path.child("values") if path is not None else Path("values")
    key_msgs = formats.is_label_key(key)
    if key_msgs:
        errs.append(invalid(key_path, key, "; ".join(key_msgs)))
    shown = GoValue(go_slice(vals, "string") if vals else "[]string(nil)")
    if operator in (IN, NOT_IN):
        if not vals:
            errs.append(
                invalid(value_path, shown, "for 'in', 'notin' operators, values set can't be empty")
            )
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(vals) != 1:
            errs.append(
                invalid(value_path, shown, "exact-match compatibility requires one single value")
            )
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if vals:
            errs.append(
                invalid(value_path, shown, "values set must be empty for exists and does not exist")
            )
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(vals) != 1:
            errs.append(
                invalid(
                    value_path, shown, "for 'Gt', 'Lt' operators, exactly one value is required"
                )
            )
        for i, val in enumerate(vals):
            if _parse_int64(val) is None:
                errs.append(
                    invalid(
                        value_path.index(i),
                        val,
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    )
                )
    else:
        base = path.child("operator") if path is not None else Path("operator")
        errs.append(_not_supported(base, operator, _VALID_OPERATORS))
    for i, val in enumerate(vals):
        msgs = formats.is_label_value(val)
        if msgs:
            errs.append(invalid(value_path.index(i).key(key), val, "; ".join(msgs)))
    if errs:
        raise SelectorError(aggregate(errs))
    return Requirement(key, operator, tuple(vals))


@dataclass(frozen=True)
class Selector:
    """An AND of requirements, sorted by key; `nothing` selectors match no labels at all."""

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = field(default=False, compare=True)

    @classmethod
    def everything(cls) -> Selector:
        return cls()

    @classmethod
    def match_nothing(cls) -> Selector:
        return cls(nothing=True)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict the selection space."""
        return not self.nothing and not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.nothing:
            return False
        have = labels or {}
        return all(r.matches(have) for r in self.requirements)

    def add(self, *requirements: Requirement) -> Selector:
        if self.nothing:
            return self
        merged = sorted(self.requirements + tuple(requirements), key=lambda r: r.key)
        return Selector(tuple(merged))

    def requires_exact_match(self, label: str) -> str | None:
        """The single value `label` must have, when the selector pins one."""
        for req in self.requirements:
            if req.key == label:
                if req.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(req.values) == 1:
                    return req.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


# -- parser ----------------------------------------------------------------------------------
_KEY_AND_OPERATOR, _VALUES = 0, 1


class _Parser:
    def __init__(self, text: str) -> None:
        lexer = Lexer(text)
        self.items: list[tuple[int, str]] = []
        while True:
            tok, lit = lexer.lex()
            self.items.append((tok, lit))
            if tok == TOK_END:
                break
        self.position = 0

    def lookahead(self, context: int) -> tuple[int, str]:
        tok, lit = self.items[self.position]
        if context == _VALUES and tok in (TOK_IN, TOK_NOTIN):
            tok = TOK_IDENT
        return tok, lit

    def consume(self, context: int) -> tuple[int, str]:
        self.position += 1
        tok, lit = self.items[self.position - 1]
        if context == _VALUES and tok in (TOK_IN, TOK_NOTIN):
            tok = TOK_IDENT
        return tok, lit

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self.lookahead(_VALUES)
            if tok in (TOK_IDENT, TOK_NOT):
                try:
                    requirements.append(self.parse_requirement())
                except SelectorError as err:
                    raise SelectorError(f"unable to parse requirement: {err}") from None
                tok2, lit2 = self.consume(_VALUES)
                if tok2 == TOK_END:
                    return requirements
                if tok2 == TOK_COMMA:
                    tok3, lit3 = self.lookahead(_VALUES)
                    if tok3 not in (TOK_IDENT, TOK_NOT):
                        raise SelectorError(f"found '{lit3}', expected: identifier after ','")
                    continue
                raise SelectorError(f"found '{lit2}', expected: ',' or 'end of string'")
            if tok == TOK_END:
                return requirements
            raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        key, operator = self.parse_key_and_infer_operator()
        if operator in (EXISTS, DOES_NOT_EXIST):
            return new_requirement(key, operator, [], _NIL)
        operator = self.parse_operator()
        if operator in (IN, NOT_IN):
            values = self.parse_values()
        else:
            values = self.parse_exact_value()
        return new_requirement(key, operator, sorted(values), _NIL)

    def parse_key_and_infer_operator(self) -> tuple[str, str]:
        operator = ""
        tok, literal = self.consume(_VALUES)
        if tok == TOK_NOT:
            operator = DOES_NOT_EXIST
            tok, literal = self.consume(_VALUES)
        if tok != TOK_IDENT:
            raise SelectorError(f"found '{literal}', expected: identifier")
        msgs = formats.is_label_key(literal)
        if msgs:
            raise SelectorError(str(invalid(None, literal, "; ".join(msgs))))
        nxt, _ = self.lookahead(_VALUES)
        if nxt in (TOK_END, TOK_COMMA) and operator != DOES_NOT_EXIST:
            operator = EXISTS
        return literal, operator

    def parse_operator(self) -> str:
        tok, lit = self.consume(_KEY_AND_OPERATOR)
        operators = {
            TOK_IN: IN,
            TOK_EQ: EQUALS,
            TOK_DEQ: DOUBLE_EQUALS,
            TOK_GT: GREATER_THAN,
            TOK_LT: LESS_THAN,
            TOK_NOTIN: NOT_IN,
            TOK_NEQ: NOT_EQUALS,
        }
        if tok not in operators:
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return operators[tok]

    def parse_values(self) -> set[str]:
        tok, lit = self.consume(_VALUES)
        if tok != TOK_OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(_VALUES)
        if tok in (TOK_IDENT, TOK_COMMA):
            values = self.parse_identifiers_list()
            tok, _ = self.consume(_VALUES)
            if tok != TOK_CLOSE:
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == TOK_CLOSE:
            self.consume(_VALUES)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume(_VALUES)
            if tok == TOK_IDENT:
                values.add(lit)
                tok2, lit2 = self.lookahead(_VALUES)
                if tok2 == TOK_COMMA:
                    continue
                if tok2 == TOK_CLOSE:
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == TOK_COMMA:
                if not values:
                    values.add("")
                tok2, _ = self.lookahead(_VALUES)
                if tok2 == TOK_CLOSE:
                    values.add("")
                    return values
                if tok2 == TOK_COMMA:
                    values.add("")
                continue
            raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        tok, _ = self.lookahead(_VALUES)
        if tok in (TOK_END, TOK_COMMA):
            return {""}
        tok, lit = self.consume(_VALUES)
        if tok == TOK_IDENT:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


_NIL: Path | None = None


def parse(selector: str) -> Selector:
    """upstream's `labels.Parse`: `a=b,c in (x,y),!d`; raises SelectorError."""
    requirements = _Parser(selector).parse()
    return Selector(tuple(sorted(requirements, key=lambda r: r.key)))


def from_set(labels: Mapping[str, str] | None) -> Selector:
    """upstream's `SelectorFromSet` (no validation): matches exactly these labels."""
    if not labels:
        return Selector()
    reqs = [Requirement(k, EQUALS, (v,)) for k, v in labels.items()]
    return Selector(tuple(sorted(reqs, key=lambda r: r.key)))


_LABEL_SELECTOR_OPERATORS = {
    "In": IN,
    "NotIn": NOT_IN,
    "Exists": EXISTS,
    "DoesNotExist": DOES_NOT_EXIST,
}


def from_label_selector(selector: Mapping[str, Any] | None) -> Selector:
    """upstream's `metav1.LabelSelectorAsSelector`: None selects nothing, {} everything."""
    if selector is None:
        return Selector.match_nothing()
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return Selector()
    reqs: list[Requirement] = []
    for key in sorted(match_labels):
        reqs.append(new_requirement(key, EQUALS, [match_labels[key]]))
    for expr in expressions:
        op = expr.get("operator", "")
        if op not in _LABEL_SELECTOR_OPERATORS:
            raise SelectorError(f'"{op}" is not a valid pod selector operator')
        reqs.append(
            new_requirement(
                expr.get("key", ""), _LABEL_SELECTOR_OPERATORS[op], expr.get("values") or []
            )
        )
    return Selector().add(*reqs)


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """upstream's `metav1.FormatLabelSelector`: `<none>` for empty, `<error>` for invalid."""
    try:
        text = str(from_label_selector(selector))
    except SelectorError:
        return "<error>"
    return text or "<none>"
