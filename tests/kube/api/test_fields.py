"""Field selectors, with cases and messages taken from upstream's fields/selector_test.go."""

from __future__ import annotations

import pytest

from openeks.kube.api.fields import (
    escape_value,
    from_set,
    one_term_equal,
    parse,
    unescape_value,
)
from openeks.kube.api.labels import SelectorError


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("x=a,y=b,z=c", "x=a,y=b,z=c"),
        ("", ""),
        ("x!=a,y=b", "x!=a,y=b"),
        ("x=", "x="),
        ("x=,z=", "x=,z="),
        ("x==a", "x=a"),
        ("z=c,y=b,x=a", "x=a,y=b,z=c"),
        ("x=a\\,b", "x=a\\,b"),
        ("x=a\\=b", "x=a\\=b"),
        ("x=a\\\\b", "x=a\\\\b"),
    ],
)
def test_selectors_parse_and_print_canonically(text: str, canonical: str) -> None:
    assert str(parse(text)) == canonical


def test_escaped_commas_and_equals_become_part_of_the_value() -> None:
    requirements = parse("metadata.name=a\\,b\\=c").requirements()
    assert [(r.field, r.operator, r.value) for r in requirements] == [
        ("metadata.name", "=", "a,b=c")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x=a||y=b", "invalid field selector: unescaped character in value: 61"),
        ("x==a==b", "invalid field selector: unescaped character in value: 61"),
        ("x", "invalid selector: 'x'; can't understand 'x'"),
        ("x=a=b", "invalid field selector: unescaped character in value: 61"),
        ("x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"),
        ("x=a\\b", "invalid field selector: invalid escape sequence: \\b"),
        ("x=a\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_bad_selectors_are_refused_with_upstreams_message(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse(text)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("selector", "fields", "matches"),
    [
        ("", {"x": "y"}, True),
        ("x=y", {"x": "y"}, True),
        ("x=y,z=w", {"x": "y", "z": "w"}, True),
        ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
        ("notin=in", {"notin": "in"}, True),
        ("x=z", {}, False),
        ("x=y", {"x": "z"}, False),
        ("x=y,z=w", {"x": "w", "z": "w"}, False),
        ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
        ("x!=y", {}, True),
        ("x=", {}, True),
    ],
)
def test_matching_treats_a_missing_field_as_empty(
    selector: str, fields: dict[str, str], matches: bool
) -> None:
    assert parse(selector).matches(fields) is matches


def test_requirements_tell_which_fields_a_selector_uses() -> None:
    selector = parse("status.phase!=Running,metadata.name==web")
    assert [(r.field, r.operator) for r in selector.requirements()] == [
        ("metadata.name", "="),
        ("status.phase", "!="),
    ]


def test_unsupported_fields_are_refused_with_upstreams_message() -> None:
    selector = parse("metadata.name=web,spec.foo=bar")
    with pytest.raises(SelectorError) as err:
        selector.check_supported({"metadata.name", "metadata.namespace"})
    assert str(err.value) == "field label not supported: spec.foo"
    parse("metadata.name=web").check_supported({"metadata.name"})


def test_requires_exact_match_reports_an_equality_term() -> None:
    assert (
        parse("spec.nodeName=n1,status.phase!=Failed").requires_exact_match("spec.nodeName") == "n1"
    )
    assert parse("status.phase!=Failed").requires_exact_match("status.phase") is None


def test_transform_renames_fields_and_drops_emptied_terms() -> None:
    selector = parse("a=1,b=2").transform(lambda f, v: ("", "") if f == "a" else ("c", v))
    assert str(selector) == "c=2"


def test_escape_round_trips() -> None:
    for raw in ["", "a", "a,b", "a=b", "a\\b", "\\,=\\"]:
        assert unescape_value(escape_value(raw)) == raw
    assert escape_value("a=b,c\\") == "a\\=b\\,c\\\\"


def test_helpers_build_equality_selectors() -> None:
    assert str(one_term_equal("metadata.name", "a,b")) == "metadata.name=a\\,b"
    assert from_set({"metadata.name": "x"}).matches({"metadata.name": "x"})
    assert parse("").empty
