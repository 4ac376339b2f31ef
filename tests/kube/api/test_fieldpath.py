"""Field paths, field sets and the fieldsV1 format, checked against upstream's shapes."""

from __future__ import annotations

import json
from typing import Any

from openeks.kube.api.apply.fieldpath import (
    FieldSet,
    field,
    from_fields_v1,
    go_json,
    index,
    key,
    parse_element,
    path_string,
    serialize_element,
    to_fields_v1,
    value,
)
from openeks.kube.api.apply.merge import to_field_set
from openeks.kube.api.schema import definitions, node_from_schema

DEPLOYMENT = definitions("1.37").for_kind("apps", "v1", "Deployment")

# kubectl-create's entry for `kubectl create deployment nginx --image=nginx`, as an API
# server sent it (Response Body of a real 1.31 cluster).
KUBECTL_CREATE = (
    '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},'
    '"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":'
    '{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":'
    '{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":'
    '{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},'
    '"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},'
    '"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},'
    '"f:terminationGracePeriodSeconds":{}}}}}'
)


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def test_an_element_that_is_both_member_and_parent_emits_dot_first() -> None:
    labels = (field("metadata"), field("labels"))
    s = FieldSet.of(labels, (*labels, field("app")))
    assert compact(to_fields_v1(s)) == '{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}'


def test_fields_sort_before_keys_before_values() -> None:
    s = FieldSet.of((value("b"),), (key({"name": "x"}),), (field("z"),), (value(1),))
    assert list(to_fields_v1(s)) == ["f:z", 'k:{"name":"x"}', "v:1", 'v:"b"']


def test_key_elements_sort_their_fields_and_write_go_json() -> None:
    pe = key({"protocol": "TCP", "containerPort": 80})
    assert serialize_element(pe) == 'k:{"containerPort":80,"protocol":"TCP"}'
    assert serialize_element(key({"name": "a<b&c"})) == 'k:{"name":"a\\u003cb\\u0026c"}'


def test_elements_parse_back_to_themselves() -> None:
    for pe in (field("spec"), key({"name": "web", "port": 8080}), value("x"), index(3)):
        assert parse_element(serialize_element(pe)) == pe


def test_numbers_in_keys_compare_like_go_values() -> None:
    assert key({"containerPort": 80}) == key({"containerPort": 80.0})
    assert value(True) != value(1)


def test_the_upstream_kubectl_create_entry_round_trips_byte_for_byte() -> None:
    parsed = from_fields_v1(json.loads(KUBECTL_CREATE))
    assert compact(to_fields_v1(parsed)) == KUBECTL_CREATE


def test_an_empty_object_in_fields_v1_is_a_member() -> None:
    s = from_fields_v1({"f:spec": {"f:replicas": {}}})
    assert s.has((field("spec"), field("replicas")))
    assert not s.has((field("spec"),))


def test_unknown_element_prefixes_are_skipped_when_parsing() -> None:
    s = from_fields_v1({"f:spec": {"x:future": {}, "f:replicas": {}}})
    assert list(s.paths()) == [(field("spec"), field("replicas"))]


def test_difference_keeps_a_parent_when_only_its_child_is_subtracted() -> None:
    spec, replicas = field("spec"), field("replicas")
    s = FieldSet.of((spec,), (spec, replicas))
    assert s.difference(FieldSet.of((spec, replicas))) == FieldSet.of((spec,))
    assert s.difference(FieldSet.of((spec,))) == FieldSet.of((spec, replicas))


def test_recursive_difference_removes_everything_below_a_member() -> None:
    spec, replicas = field("spec"), field("replicas")
    s = FieldSet.of((spec, replicas), (field("metadata"), field("labels")))
    assert s.recursive_difference(FieldSet.of((spec,))) == FieldSet.of(
        (field("metadata"), field("labels"))
    )


def test_intersection_drops_children_with_nothing_in_common() -> None:
    a = FieldSet.of((field("spec"), field("replicas")))
    b = FieldSet.of((field("spec"), field("paused")))
    assert a.intersection(b).empty()


def test_paths_print_the_way_conflicts_show_them() -> None:
    containers = (field("spec"), field("template"), field("spec"), field("containers"))
    assert path_string((*containers, key({"name": "nginx"}), field("image"))) == (
        '.spec.template.spec.containers[name="nginx"].image'
    )
    assert path_string((key({"protocol": "TCP", "containerPort": 80}),)) == (
        '[containerPort=80,protocol="TCP"]'
    )
    assert path_string((field("finalizers"), value("a"))) == '.finalizers[="a"]'


def test_go_json_sorts_keys_and_escapes_html() -> None:
    assert go_json({"b": [1, 2.5, None], "a": "<x>"}) == '{"a":"\\u003cx\\u003e","b":[1,2.5,null]}'
    assert go_json(80.0) == "80"


def test_a_deployment_owns_containers_by_name_and_atomic_lists_whole() -> None:
    config = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a/b"]},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "spec": {
                    "containers": [{"name": "web", "image": "nginx", "ports": [
                        {"containerPort": 80}]}],
                    "tolerations": [{"key": "k", "operator": "Exists"}],
                }
            },
        },
    }  # fmt: skip
    got = compact(to_fields_v1(to_field_set(config, DEPLOYMENT)))
    assert got == (
        '{"f:apiVersion":{},"f:kind":{},"f:metadata":{"f:finalizers":{"v:\\"a/b\\"":{}},'
        '"f:labels":{"f:app":{}},"f:name":{}},"f:spec":{"f:selector":{},"f:template":{"f:spec":'
        '{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{},"f:name":{},"f:ports":'
        '{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}},'
        '"f:tolerations":{}}}}}'
    )


def test_free_form_positions_are_owned_as_granular_maps() -> None:
    schema = node_from_schema(
        {
            "type": "object",
            "properties": {
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
    )
    got = to_field_set({"spec": {"a": {"b": 1}, "list": [1, 2]}}, schema)
    assert compact(to_fields_v1(got)) == ('{"f:spec":{"f:a":{".":{},"f:b":{}},"f:list":{}}}')
