"""JSON patch (RFC 6902) as evanphx/json-patch v4 applies it for the Kubernetes API server.

The good, bad and `test` cases are ported from evanphx/json-patch's v4 `patch_test.go`;
the rest pins the v4 quirks and error texts a real API server shows to clients.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from openeks.kube.api.patch import PatchError, json_patch


def _cases(text: str, arity: int) -> list[tuple[str | None, ...]]:
    """Cases written as `arity` lines each (document, patch[, result]), blank-line separated."""
    cases = []
    for chunk in text.strip().split("\n\n"):
        lines = tuple(None if line == "passes" else line for line in chunk.split("\n"))
        assert len(lines) == arity, chunk
        cases.append(lines)
    return cases


GOOD_CASES = _cases(
    """
{"foo": "bar"}
[{"op": "add", "path": "/baz", "value": "qux"}]
{"baz": "qux", "foo": "bar"}

{"foo": ["bar", "baz"]}
[{"op": "add", "path": "/foo/1", "value": "qux"}]
{"foo": ["bar", "qux", "baz"]}

{"foo": ["bar", "baz"]}
[{"op": "add", "path": "/foo/-1", "value": "qux"}]
{"foo": ["bar", "baz", "qux"]}

{"baz": "qux", "foo": "bar"}
[{"op": "remove", "path": "/baz"}]
{"foo": "bar"}

{"foo": ["bar", "qux", "baz"]}
[{"op": "remove", "path": "/foo/1"}]
{"foo": ["bar", "baz"]}

{"baz": "qux", "foo": "bar"}
[{"op": "replace", "path": "/baz", "value": "boo"}]
{"baz": "boo", "foo": "bar"}

{"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}}
[{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}]
{"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}

{"foo": ["all", "grass", "cows", "eat"]}
[{"op": "move", "from": "/foo/1", "path": "/foo/3"}]
{"foo": ["all", "cows", "eat", "grass"]}

{"foo": ["all", "grass", "cows", "eat"]}
[{"op": "move", "from": "/foo/1", "path": "/foo/2"}]
{"foo": ["all", "cows", "grass", "eat"]}

{"foo": "bar"}
[{"op": "add", "path": "/child", "value": {"grandchild": {}}}]
{"foo": "bar", "child": {"grandchild": {}}}

{"foo": ["bar"]}
[{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}]
{"foo": ["bar", ["abc", "def"]]}

{"foo": "bar", "qux": {"baz": 1, "bar": null}}
[{"op": "remove", "path": "/qux/bar"}]
{"foo": "bar", "qux": {"baz": 1}}

{"foo": "bar"}
[{"op": "add", "path": "/baz", "value": null}]
{"baz": null, "foo": "bar"}

{"foo": ["bar"]}
[{"op": "replace", "path": "/foo/0", "value": "baz"}]
{"foo": ["baz"]}

{"foo": ["bar", "qux", "baz"]}
[{"op": "replace", "path": "/foo/1", "value": "bum"}]
{"foo": ["bar", "bum", "baz"]}

[{"foo": ["bar", "qux", "baz"]}]
[{"op": "replace", "path": "/0/foo/0", "value": "bum"}]
[{"foo": ["bum", "qux", "baz"]}]

[{"foo": ["bar", "qux", "baz"], "bar": ["qux", "baz"]}]
[{"op": "copy", "from": "/0/foo/0", "path": "/0/bar/0"}]
[{"foo": ["bar", "qux", "baz"], "bar": ["bar", "qux", "baz"]}]

[{"foo": {"bar": ["qux", "baz"]}, "baz": {"qux": "bum"}}]
[{"op": "copy", "from": "/0/foo/bar", "path": "/0/baz/bar"}]
[{"baz": {"bar": ["qux", "baz"], "qux": "bum"}, "foo": {"bar": ["qux", "baz"]}}]

{"foo": ["bar"]}
[{"op": "copy", "path": "/foo/0", "from": "/foo"}]
{"foo": [["bar"], "bar"]}

{"foo": ["bar", "qux", "baz"]}
[{"op": "remove", "path": "/foo/-2"}]
{"foo": ["bar", "baz"]}

{"foo": []}
[{"op": "add", "path": "/foo/-1", "value": "qux"}]
{"foo": ["qux"]}

{"bar": [{"baz": null}]}
[{"op": "replace", "path": "/bar/0/baz", "value": 1}]
{"bar": [{"baz": 1}]}

{"bar": [{"baz": 1}]}
[{"op": "replace", "path": "/bar/0/baz", "value": null}]
{"bar": [{"baz": null}]}

{"bar": [null]}
[{"op": "replace", "path": "/bar/0", "value": 1}]
{"bar": [1]}

{"bar": [1]}
[{"op": "replace", "path": "/bar/0", "value": null}]
{"bar": [null]}
""",
    3,
)

BAD_CASES = _cases(
    """
{"foo": "bar"}
[{"op": "add", "path": "/baz/bat", "value": "qux"}]

{"a": {"b": {"d": 1}}}
[{"op": "remove", "path": "/a/b/c"}]

{"a": {"b": {"d": 1}}}
[{"op": "move", "from": "/a/b/c", "path": "/a/b/e"}]

{"a": {"b": [1]}}
[{"op": "remove", "path": "/a/b/1"}]

{"a": {"b": [1]}}
[{"op": "move", "from": "/a/b/1", "path": "/a/b/2"}]

{"foo": "bar"}
[{"op": "add", "pathz": "/baz", "value": "qux"}]

{"foo": "bar"}
[{"op": "add", "path": "", "value": "qux"}]

{"foo": ["bar", "baz"]}
[{"op": "replace", "path": "/foo/2", "value": "bum"}]

{"foo": ["bar", "baz"]}
[{"op": "add", "path": "/foo/-4", "value": "bum"}]

{"name": {"foo": "bat", "qux": "bum"}}
[{"op": "replace", "path": "/foo/bar", "value": "baz"}]

{"foo": ["bar"]}
[{"op": "add", "path": "/foo/2", "value": "bum"}]

{"foo": []}
[{"op": "remove", "path": "/foo/-"}]

{"foo": []}
[{"op": "remove", "path": "/foo/-1"}]

{"foo": ["bar"]}
[{"op": "remove", "path": "/foo/-2"}]

{}
[{"op": null, "path": ""}]

{}
[{"op": "add", "path": null}]

{}
[{"op": "copy", "from": null}]

{"foo": ["bar"]}
[{"op": "copy", "path": "/foo/6666666666", "from": "/"}]

{"foo": ["bar"]}
[{"op": "copy", "path": "/foo/2", "from": "/foo/0"}]

{"foo": ["all", "grass", "cows", "eat"]}
[{"op": "move", "from": "/foo/1", "path": "/foo/4"}]
""",
    2,
)

TEST_CASES = _cases(
    """
{"baz": "qux", "foo": ["a", 2, "c"]}
[{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}]
passes

{"baz": "qux"}
[{"op": "test", "path": "/baz", "value": "bar"}]
/baz

{"baz": "qux", "foo": ["a", 2, "c"]}
[{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": "c"}]
/foo/1

{"baz": "qux"}
[{"op": "test", "path": "/foo", "value": 42}]
/foo

{"baz": "qux"}
[{"op": "test", "path": "/foo", "value": null}]
passes

{"foo": null}
[{"op": "test", "path": "/foo", "value": null}]
passes

{"foo": {}}
[{"op": "test", "path": "/foo", "value": null}]
/foo

{"foo": []}
[{"op": "test", "path": "/foo", "value": null}]
/foo

{"baz/foo": "qux"}
[{"op": "test", "path": "/baz~1foo", "value": "qux"}]
passes

{"foo": []}
[{"op": "test", "path": "/foo"}]
/foo
""",
    3,
)


@pytest.mark.parametrize(("doc", "patch", "expected"), GOOD_CASES)
def test_upstream_cases_give_upstream_documents(doc: str, patch: str, expected: str) -> None:
    assert json_patch(json.loads(doc), json.loads(patch)) == json.loads(expected)


@pytest.mark.parametrize(("doc", "patch"), BAD_CASES)
def test_upstream_bad_cases_are_rejected_as_invalid(doc: str, patch: str) -> None:
    with pytest.raises(PatchError) as info:
        json_patch(json.loads(doc), json.loads(patch))
    assert info.value.code == 422


@pytest.mark.parametrize(("doc", "patch", "failed_path"), TEST_CASES)
def test_upstream_test_operations_pass_or_fail_naming_the_path(
    doc: str, patch: str, failed_path: str | None
) -> None:
    if failed_path is None:
        json_patch(json.loads(doc), json.loads(patch))
        return
    with pytest.raises(PatchError, match=f"^testing value {failed_path} failed: test failed$"):
        json_patch(json.loads(doc), json.loads(patch))


DEPLOYMENT: dict[str, Any] = {
    "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web"}},
    "spec": {
        "replicas": 1,
        "template": {"spec": {"containers": [{"name": "a", "image": "a:1"}]}},
    },
}


def test_a_kubectl_style_patch_scales_and_adds_a_container() -> None:
    patch = [
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "b"}},
    ]
    result = json_patch(DEPLOYMENT, patch)
    assert result["spec"]["replicas"] == 3
    assert result["spec"]["template"]["spec"]["containers"][1] == {"name": "b"}


def test_escaped_pointer_segments_reach_keys_with_slashes_and_tildes() -> None:
    doc = {"metadata": {"labels": {"app.kubernetes.io/name": "web", "a~b": "x", "~1": "y"}}}
    patch = [
        {"op": "remove", "path": "/metadata/labels/app.kubernetes.io~1name"},
        {"op": "replace", "path": "/metadata/labels/a~0b", "value": "z"},
        {"op": "remove", "path": "/metadata/labels/~01"},
    ]
    assert json_patch(doc, patch) == {"metadata": {"labels": {"a~b": "z"}}}


def test_replace_of_a_missing_member_adds_it_as_v4_does() -> None:
    patch = [{"op": "replace", "path": "/metadata/namespace", "value": "prod"}]
    assert json_patch(DEPLOYMENT, patch)["metadata"]["namespace"] == "prod"


def test_replace_at_the_root_swaps_the_document_and_ignores_scalars() -> None:
    assert json_patch({"a": 1}, [{"op": "replace", "path": "", "value": {"b": 2}}]) == {"b": 2}
    assert json_patch({"a": 1}, [{"op": "replace", "path": "", "value": 5}]) == {"a": 1}


def test_test_at_the_root_compares_the_whole_document() -> None:
    json_patch({"a": 1}, [{"op": "test", "path": "", "value": {"a": 1}}])
    with pytest.raises(PatchError, match=r"^testing value  failed: test failed$"):
        json_patch({"a": 1}, [{"op": "test", "path": "", "value": {"a": 2}}])


def test_test_distinguishes_integers_from_floats_and_booleans() -> None:
    doc = {"n": 1, "b": True}
    for path, value in (("/n", 1.0), ("/n", True), ("/b", 1)):
        with pytest.raises(PatchError, match="test failed"):
            json_patch(doc, [{"op": "test", "path": path, "value": value}])


def test_copy_from_a_missing_member_copies_null() -> None:
    assert json_patch({"a": 1}, [{"op": "copy", "from": "/b", "path": "/c"}]) == {"a": 1, "c": None}


def test_a_path_without_leading_slash_ignores_its_first_segment() -> None:
    assert json_patch({"a": 1}, [{"op": "add", "path": "x/b", "value": 2}]) == {"a": 1, "b": 2}


def test_copies_do_not_share_structure_with_the_document_or_the_patch() -> None:
    value = {"deep": ["x"]}
    result = json_patch({"a": {"k": [1]}}, [
        {"op": "add", "path": "/b", "value": value},
        {"op": "copy", "from": "/a", "path": "/c"},
    ])  # fmt: skip
    result["b"]["deep"].append("y")
    result["c"]["k"].append(2)
    assert value == {"deep": ["x"]}
    assert result["a"] == {"k": [1]}


def test_inputs_are_never_mutated_even_when_a_later_operation_fails() -> None:
    doc = copy.deepcopy(DEPLOYMENT)
    patch = [
        {"op": "remove", "path": "/metadata/labels"},
        {"op": "add", "path": "/spec/template/spec/containers/0/env", "value": []},
        {"op": "test", "path": "/spec/replicas", "value": 2},
    ]
    before = copy.deepcopy(patch)
    with pytest.raises(PatchError):
        json_patch(doc, patch)
    assert doc == DEPLOYMENT
    assert patch == before


def test_a_null_operation_list_changes_nothing() -> None:
    assert json_patch(DEPLOYMENT, None) == DEPLOYMENT


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            [{"op": "add", "path": "/spec/nope/x", "value": 1}],
            'add operation does not apply: doc is missing path: "/spec/nope/x": missing value',
        ),
        (
            [{"op": "remove", "path": "/metadata/missing"}],
            "error in remove for path: '/metadata/missing': "
            "Unable to remove nonexistent key: missing: missing value",
        ),
        (
            [{"op": "replace", "path": "/spec/template/spec/containers/5", "value": 1}],
            "replace operation does not apply: doc is missing key: "
            "/spec/template/spec/containers/5: missing value",
        ),
        (
            [{"op": "add", "path": "/spec/template/spec/containers/x", "value": 1}],
            "error in add for path: '/spec/template/spec/containers/x': value was not a proper "
            "array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax",
        ),
        (
            [{"op": "add", "path": "/spec/template/spec/containers/3", "value": 1}],
            "error in add for path: '/spec/template/spec/containers/3': "
            "Unable to access invalid index: 3: invalid index referenced",
        ),
        (
            [{"op": "move", "from": "/spec/gone", "path": "/spec/x"}],
            "error in move for path: 'gone': Unable to remove nonexistent key: gone: missing value",
        ),
        (
            [{"op": "copy", "from": "/spec/replicas", "path": "/nope/x"}],
            "copy operation does not apply: doc is missing destination path: /nope/x: "
            "missing value",
        ),
        (
            [{"op": "replace", "value": 1}],
            "replace operation failed to decode path: operation missing path field: missing value",
        ),
        (
            [{"op": "move", "path": "/a"}],
            "move operation failed to decode from: operation, missing from field: missing value",
        ),
        ([{"op": "add", "path": 5}], "add operation failed to decode path: missing value"),
        ([{"op": "merge", "path": "/a"}], "Unexpected kind: merge"),
        ([{"path": "/a"}], "Unexpected kind: unknown"),
    ],
)
def test_failed_operations_carry_upstream_messages(patch: list[Any], message: str) -> None:
    with pytest.raises(PatchError) as info:
        json_patch(DEPLOYMENT, patch)
    assert (info.value.message, info.value.code) == (message, 422)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        (["add"], "json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
    ],
)
def test_a_patch_that_is_not_a_list_of_operations_is_a_bad_request(
    patch: Any, message: str
) -> None:
    with pytest.raises(PatchError) as info:
        json_patch(DEPLOYMENT, patch)
    assert (info.value.message, info.value.code) == (message, 400)
