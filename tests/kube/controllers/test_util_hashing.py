"""FNV hashes, SafeEncodeString, Go's JSON encoding and template hashes."""

from __future__ import annotations

import pytest

from openeks.kube.controllers.util.hashing import (
    equal_ignore_hash,
    fnv32,
    fnv32a,
    go_json,
    safe_encode_string,
    template_hash,
)
from openeks.kube.controllers.util.revisions import hash_revision, template_patch

# Go's hash/fnv golden values (fnv_test.go).
FNV1 = [(b"", 0x811C9DC5), (b"a", 0x050C5D7E), (b"ab", 0x70772D38), (b"abc", 0x439C2F4B)]
FNV1A = [(b"", 0x811C9DC5), (b"a", 0xE40C292C), (b"ab", 0x4D2505CA), (b"abc", 0x1A47E90B)]


@pytest.mark.parametrize(("data", "want"), FNV1)
def test_fnv1_matches_go(data: bytes, want: int) -> None:
    assert fnv32(data) == want


@pytest.mark.parametrize(("data", "want"), FNV1A)
def test_fnv1a_matches_go(data: bytes, want: int) -> None:
    assert fnv32a(data) == want


def test_a_running_hash_equals_hashing_the_concatenation() -> None:
    assert fnv32a(b"c", fnv32a(b"ab")) == fnv32a(b"abc")
    assert fnv32(b"c", fnv32(b"ab")) == fnv32(b"abc")


def test_safe_encoding_maps_digits_onto_the_ten_letters_real_hashes_use() -> None:
    assert safe_encode_string("0123456789") == "456789bcdf"
    # A pod-template-hash seen on a real cluster decodes back to a uint32 in decimal.
    decode = dict(zip("456789bcdf", "0123456789", strict=True))
    assert int("".join(decode[c] for c in "775855699b")) < 2**32


def test_go_json_sorts_keys_and_escapes_html_like_encoding_json() -> None:
    value = {"b": [1, "x<y>&z"], "a": {"d": None, "c": True}, "é": "\u2028"}
    assert go_json(value) == (
        b'{"a":{"c":true,"d":null},"b":[1,"x\\u003cy\\u003e\\u0026z"],"\xc3\xa9":"\\u2028"}'
    )


def test_template_hashes_are_stable_short_and_change_with_the_collision_count() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a"}]}}
    h = template_hash(template)
    assert h == template_hash({**template, "metadata": {"labels": {"app": "web"}, "x": {}}})
    assert 1 <= len(h) <= 10 and set(h) <= set("456789bcdf")
    assert template_hash(template, 0) != h
    assert template_hash(template, 1) not in (h, template_hash(template, 0))


def test_templates_are_equal_ignoring_the_hash_label_and_empty_values() -> None:
    a = {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}}, "spec": {"x": []}}
    b = {"metadata": {"labels": {"app": "web"}, "annotations": {}}, "spec": {}}
    assert equal_ignore_hash(a, b)
    assert not equal_ignore_hash(a, {"metadata": {"labels": {"app": "db"}}})


def test_revision_data_restores_the_template_and_hashes_with_fnv1_and_the_probe() -> None:
    sts = {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}, "replicas": 3}}
    data = template_patch(sts)
    assert data == {
        "spec": {"template": {"spec": {"containers": [{"name": "a"}]}, "$patch": "replace"}}
    }
    raw = b'{"spec":{"template":{"$patch":"replace","spec":{"containers":[{"name":"a"}]}}}}'
    assert go_json(data) == raw
    assert hash_revision(data, 0) == safe_encode_string(str(fnv32(raw + b"0")))
    assert hash_revision(data, 1) != hash_revision(data, 0)
