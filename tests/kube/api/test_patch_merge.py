"""JSON merge patch (RFC 7386) as evanphx/json-patch v4's MergePatch applies it.

The first cases are RFC 7386 Appendix A; the rest pin where v4 departs from the RFC text.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from openeks.kube.api.patch import PatchError, merge_patch

RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("document", "patch", "expected"), RFC_EXAMPLES)
def test_rfc_7386_examples(document: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(document, patch) == expected


def test_labels_are_added_changed_and_deleted() -> None:
    document = {"metadata": {"name": "web", "labels": {"a": "1", "b": "2"}}, "spec": {"x": 1}}
    patch = {"metadata": {"labels": {"a": None, "b": "3", "c": "4"}}}
    assert merge_patch(document, patch) == {
        "metadata": {"name": "web", "labels": {"b": "3", "c": "4"}},
        "spec": {"x": 1},
    }


def test_lists_are_replaced_whole_even_lists_of_named_maps() -> None:
    document = {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b"}]}}
    patch = {"spec": {"containers": [{"name": "a", "image": "2"}]}}
    assert merge_patch(document, patch) == patch


def test_nulls_inside_a_new_list_are_pruned_from_its_maps_but_kept_as_elements() -> None:
    patch = {"a": [{"b": None, "c": 1}, None, [{"d": None}]]}
    assert merge_patch({}, patch) == {"a": [{"c": 1}, None, [{}]]}


def test_a_list_replacing_a_map_is_taken_as_it_is() -> None:
    assert merge_patch({"a": {"x": 1}}, {"a": [{"b": None}]}) == {"a": [{"b": None}]}


def test_a_map_replacing_a_scalar_loses_its_nulls() -> None:
    assert merge_patch({"a": 1}, {"a": {"b": None, "c": 2}}) == {"a": {"c": 2}}


def test_a_null_member_in_the_document_is_treated_as_absent() -> None:
    assert merge_patch({"a": None}, {"a": {"b": None, "c": 1}}) == {"a": {"c": 1}}


def test_an_array_patch_replaces_the_document_with_nested_nulls_pruned() -> None:
    assert merge_patch({"a": 1}, [{"b": None}, None]) == [{}, None]


@pytest.mark.parametrize("patch", [None, "bar", 5, True])
def test_a_null_or_scalar_patch_is_a_bad_request(patch: Any) -> None:
    with pytest.raises(PatchError) as info:
        merge_patch({"a": "foo"}, patch)
    assert (info.value.message, info.value.code) == ("Invalid JSON Patch", 400)


def test_a_null_document_is_rejected() -> None:
    with pytest.raises(PatchError, match=r"^Invalid JSON Document$"):
        merge_patch(None, {"a": 1})


def test_inputs_are_never_mutated_and_results_share_nothing_with_them() -> None:
    document = {"metadata": {"labels": {"a": "1"}}, "spec": {"list": [1]}}
    patch = {"metadata": {"labels": {"a": None}}, "spec": {"new": {"x": None, "l": [{"y": 1}]}}}
    before = (copy.deepcopy(document), copy.deepcopy(patch))
    result = merge_patch(document, patch)
    assert (document, patch) == before
    result["spec"]["list"].append(2)
    result["spec"]["new"]["l"][0]["y"] = 2
    assert (document, patch) == before
