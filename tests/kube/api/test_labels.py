"""Label selectors, with cases and expectations taken from upstream's selector_test.go."""

from __future__ import annotations

import pytest

from openeks.kube.api.labels import (
    DOES_NOT_EXIST,
    EXISTS,
    GREATER_THAN,
    IN,
    NOT_IN,
    Selector,
    SelectorError,
    format_label_selector,
    from_label_selector,
    from_set,
    new_requirement,
    parse,
)


@pytest.mark.parametrize(
    "text",
    ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"],
)
def test_good_strings_parse_and_print_back_without_spaces(text: str) -> None:
    assert str(parse(text)) == text.replace(" ", "")


@pytest.mark.parametrize("text", ["x=a||y=b", "x==a==b", "!x=a", "x<a"])
def test_bad_strings_are_refused(text: str) -> None:
    with pytest.raises(SelectorError):
        parse(text)


def test_parsing_is_deterministic_whatever_the_order_of_terms() -> None:
    assert str(parse("x=a,a=x")) == str(parse("a=x,x=a")) == "a=x,x=a"


@pytest.mark.parametrize(
    ("selector", "labels"),
    [
        ("", {"x": "y"}),
        ("x=y", {"x": "y"}),
        ("x=y,z=w", {"x": "y", "z": "w"}),
        ("x!=y,z!=w", {"x": "z", "z": "a"}),
        ("notin=in", {"notin": "in"}),
        ("x", {"x": "z"}),
        ("!x", {"y": "z"}),
        ("x>1", {"x": "2"}),
        ("x<1", {"x": "0"}),
        ("foo=bar,baz=blah", {"foo": "bar", "baz": "blah"}),
    ],
)
def test_a_selector_matches_the_labels_upstream_says_it_matches(
    selector: str, labels: dict[str, str]
) -> None:
    assert parse(selector).matches(labels)


@pytest.mark.parametrize(
    ("selector", "labels"),
    [
        ("x=z", {}),
        ("x=y", {"x": "z"}),
        ("x=y,z=w", {"x": "w", "z": "w"}),
        ("x!=y,z!=w", {"x": "z", "z": "w"}),
        ("x", {"y": "z"}),
        ("!x", {"x": "z"}),
        ("x>1", {"x": "0"}),
        ("x<1", {"x": "2"}),
        ("foo=bar,foobar=bar,baz=blah", {"foo": "bar", "baz": "blah"}),
    ],
)
def test_a_selector_does_not_match_what_upstream_says_it_does_not(
    selector: str, labels: dict[str, str]
) -> None:
    assert not parse(selector).matches(labels)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("\rx", "x"),
        ("this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"),
        ("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)", None),
        ("foo  in\t (abc)", "foo in (abc)"),
        ("x notin\n (abc)", "x notin (abc)"),
        ("x in (abc,)", "x in (,abc)"),
        ("x in ()", "x in ()"),
        ("x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"),
        ("x,y in (a)", "x,y in (a)"),
        ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
        ("a in (in)", "a in (in)"),
    ],
)
def test_set_based_syntax_parses_to_upstreams_canonical_string(
    text: str, canonical: str | None
) -> None:
    expected = canonical or "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"
    assert str(parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        ("a,", "found '', expected: identifier after ','"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
        ("a notin (x y)", "unable to parse requirement: found 'y', expected: ',' or ')'"),
        (
            "x<a",
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
            "operators, the value must be an integer",
        ),
    ],
)
def test_syntax_errors_carry_upstreams_messages(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse(text)
    assert str(err.value) == message


def test_an_invalid_label_value_is_reported_under_its_key() -> None:
    with pytest.raises(SelectorError) as err:
        parse("app=a b,x")
    assert str(err.value) == "found 'b', expected: ',' or 'end of string'"
    with pytest.raises(SelectorError) as err:
        parse("app=-web")
    assert str(err.value).startswith(
        'unable to parse requirement: values[0][app]: Invalid value: "-web": a valid label must '
        "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
        "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    )


def test_an_invalid_key_is_reported_against_a_nil_path_as_upstream_does() -> None:
    with pytest.raises(SelectorError) as err:
        parse("a/b/c=d")
    assert str(err.value).startswith('unable to parse requirement: <nil>: Invalid value: "a/b/c"')


@pytest.mark.parametrize(
    ("key", "operator", "values", "ok"),
    [
        ("x", IN, [], False),
        ("x", NOT_IN, [], False),
        ("x", IN, ["foo"], True),
        ("x", NOT_IN, ["foo"], True),
        ("x", EXISTS, [], True),
        ("x", DOES_NOT_EXIST, [], True),
        ("1foo", IN, ["bar"], True),
        ("1234", IN, ["bar"], True),
        ("y", GREATER_THAN, ["1"], True),
        ("foo", GREATER_THAN, ["bar"], False),
        ("a" * 254, EXISTS, [], False),
    ],
)
def test_requirements_are_validated_as_upstreams_constructor_does(
    key: str, operator: str, values: list[str], ok: bool
) -> None:
    if ok:
        new_requirement(key, operator, values)
    else:
        with pytest.raises(SelectorError):
            new_requirement(key, operator, values)


def test_requirements_print_as_upstreams_to_string_test_expects() -> None:
    selector = Selector().add(
        new_requirement("x", IN, ["def", "abc"]),
        new_requirement("y", NOT_IN, ["jkl"]),
        new_requirement("z", EXISTS, []),
    )
    assert str(selector) == "x in (abc,def),y notin (jkl),z"
    selector = Selector().add(
        new_requirement("z", DOES_NOT_EXIST, []),
        new_requirement("x", NOT_IN, ["abc", "def"]),
        new_requirement("y", "!=", ["jkl"]),
    )
    assert str(selector) == "x notin (abc,def),y!=jkl,!z"


def test_a_label_selector_converts_with_match_labels_and_expressions_sorted_by_key() -> None:
    selector = from_label_selector(
        {
            "matchLabels": {"tier": "web", "app": "shop"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}],
        }
    )
    assert str(selector) == "app=shop,env in (dev,prod),tier=web"
    assert selector.matches({"app": "shop", "tier": "web", "env": "dev"})
    assert not selector.matches({"app": "shop", "tier": "web"})


def test_an_empty_label_selector_matches_everything_and_a_missing_one_nothing() -> None:
    assert from_label_selector({}).matches({"a": "b"})
    assert from_label_selector({}).empty
    nothing = from_label_selector(None)
    assert not nothing.matches({})
    assert not nothing.empty
    assert str(nothing) == ""


def test_label_selector_errors_match_upstream() -> None:
    with pytest.raises(SelectorError) as err:
        from_label_selector({"matchExpressions": [{"key": "a", "operator": "Within"}]})
    assert str(err.value) == '"Within" is not a valid pod selector operator'
    with pytest.raises(SelectorError) as err:
        from_label_selector({"matchExpressions": [{"key": "a", "operator": "In"}]})
    assert str(err.value) == (
        "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't "
        "be empty"
    )
    with pytest.raises(SelectorError) as err:
        from_label_selector(
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}
        )
    assert str(err.value) == (
        'values: Invalid value: []string{"x"}: values set must be empty for exists and does not '
        "exist"
    )


def test_several_problems_aggregate_in_brackets() -> None:
    with pytest.raises(SelectorError) as err:
        new_requirement("-bad", IN, [])
    assert str(err.value).startswith('[key: Invalid value: "-bad": name part must consist')
    assert str(err.value).endswith("values set can't be empty]")


def test_a_set_selector_matches_exactly_its_labels() -> None:
    labels = {"foo": "bar", "baz": "blah"}
    assert from_set({}).matches(labels)
    assert from_set({"foo": "bar", "baz": "blah"}).matches(labels)
    assert not from_set({"foo": "blah"}).matches(labels)
    assert str(from_set({"b": "2", "a": "1"})) == "a=1,b=2"


def test_gt_and_lt_only_match_integer_label_values() -> None:
    assert parse("z>1").matches({"z": "2"})
    assert not parse("z>1").matches({"z": "v2"})


def test_requires_exact_match_finds_a_pinned_value() -> None:
    assert parse("a=b,c in (d)").requires_exact_match("c") == "d"
    assert parse("a in (b,c)").requires_exact_match("a") is None
    assert parse("a!=b").requires_exact_match("a") is None


def test_format_label_selector_prints_none_and_error_as_kubectl_describe_does() -> None:
    assert format_label_selector({}) == "<none>"
    assert format_label_selector({"matchLabels": {"app": "web"}}) == "app=web"
    assert format_label_selector({"matchLabels": {"app": "a b"}}) == "<error>"
