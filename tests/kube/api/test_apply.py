"""Server-side apply and managed-fields tracking, in upstream's semantics and shapes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from openeks.kube.api.apply import (
    ApplyConflictError,
    ApplyError,
    BadApplyRequest,
    apply,
    manager_from_user_agent,
    update_managed_fields,
)
from openeks.kube.api.schema import definitions, node_from_schema

DEFS = definitions("1.37")
DEPLOYMENT = DEFS.for_kind("apps", "v1", "Deployment")
POD = DEFS.for_kind("", "v1", "Pod")
CONFIG_MAP = DEFS.for_kind("", "v1", "ConfigMap")
T0, T1, T2 = "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z"


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def deployment(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1"}]},
        },
    }
    base.update(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": base,
    }


def do_apply(live: dict[str, Any] | None, config: dict[str, Any], **kw: Any) -> dict[str, Any]:
    kw.setdefault("manager", "kubectl")
    kw.setdefault("force", False)
    kw.setdefault("now", T1)
    kw.setdefault("schema", DEPLOYMENT)
    kw.setdefault("api_version", config["apiVersion"])
    return apply(live, config, **kw)


def entries(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in obj["metadata"].get("managedFields", [])}


def owned(obj: dict[str, Any], manager: str) -> str:
    return compact(entries(obj)[manager]["fieldsV1"])


def stored(obj: dict[str, Any], uid: str = "u-1") -> dict[str, Any]:
    """What the store holds after a create: the server has set uid and friends."""
    out = copy.deepcopy(obj)
    out["metadata"].update({"uid": uid, "resourceVersion": "1", "creationTimestamp": T0})
    return out


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["spec"]["template"]["spec"]["containers"]


# -- apply -------------------------------------------------------------------------------


def test_first_apply_creates_an_apply_entry_owning_the_applied_fields() -> None:
    out = do_apply(None, deployment(replicas=2))
    (entry,) = out["metadata"]["managedFields"]
    assert list(entry) == ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"]
    assert entry["manager"] == "kubectl"
    assert entry["operation"] == "Apply"
    assert entry["time"] == T1
    assert compact(entry["fieldsV1"]) == (
        '{"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":'
        '{"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},'
        '"f:image":{},"f:name":{}}}}}}}'
    )
    assert out["spec"]["replicas"] == 2


def test_reapplying_the_same_configuration_changes_nothing() -> None:
    live = stored(do_apply(None, deployment(replicas=2)))
    again = do_apply(live, deployment(replicas=2), now=T2)
    assert again == live


def test_removing_a_field_from_the_configuration_removes_it_from_the_object() -> None:
    live = stored(do_apply(None, deployment(replicas=2, minReadySeconds=5)))
    out = do_apply(live, deployment(replicas=2), now=T2)
    assert "minReadySeconds" not in out["spec"]
    assert '"f:minReadySeconds"' not in owned(out, "kubectl")
    assert entries(out)["kubectl"]["time"] == T2


def test_removing_the_last_label_removes_the_labels() -> None:
    config = deployment()
    config["metadata"]["labels"] = {"team": "a"}
    live = stored(do_apply(None, config))
    out = do_apply(live, deployment())
    assert "labels" not in out["metadata"]


def test_a_removed_container_is_removed_from_the_list() -> None:
    two = deployment()
    containers(two).append({"name": "sidecar", "image": "envoy"})
    live = stored(do_apply(None, two))
    out = do_apply(live, deployment())
    assert [c["name"] for c in containers(out)] == ["web"]


def test_a_field_another_manager_also_owns_is_not_removed() -> None:
    live = stored(do_apply(None, deployment(replicas=3)))
    live = stored(do_apply(live, deployment(replicas=3), manager="autoscaler"))
    out = do_apply(live, deployment(), now=T2)
    assert out["spec"]["replicas"] == 3
    assert '"f:replicas"' in owned(out, "autoscaler")
    assert '"f:replicas"' not in owned(out, "kubectl")


def test_a_field_an_updater_set_to_another_value_conflicts() -> None:
    created = update_managed_fields(
        None,
        deployment(replicas=1),
        manager="kubectl-client-side-apply",
        schema=DEPLOYMENT,
        now=T0,
        api_version="apps/v1",
    )
    with pytest.raises(ApplyConflictError) as raised:
        do_apply(stored(created), deployment(replicas=3))
    error = raised.value
    assert str(error) == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using '
        "apps/v1: .spec.replicas"
    )
    assert error.code == 409 and error.reason == "Conflict"
    assert error.causes == [
        {
            "type": "FieldManagerConflict",
            "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
            "field": ".spec.replicas",
        }
    ]


def test_forcing_takes_ownership_away_from_the_other_manager() -> None:
    live = stored(do_apply(None, deployment(replicas=1), manager="ci"))
    out = do_apply(live, deployment(replicas=3), force=True, now=T2)
    assert out["spec"]["replicas"] == 3
    assert '"f:replicas"' in owned(out, "kubectl")
    assert '"f:replicas"' not in owned(out, "ci")


def test_a_manager_left_with_nothing_loses_its_entry() -> None:
    live = stored(do_apply(None, deployment(), manager="owner"))
    scaler = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    live = stored(do_apply(live, dict(scaler, spec={"replicas": 1}), manager="scaler"))
    out = do_apply(live, dict(scaler, spec={"replicas": 7}), manager="other", force=True)
    assert set(entries(out)) == {"owner", "other"}


def test_two_appliers_with_the_same_value_both_own_the_field() -> None:
    live = stored(do_apply(None, deployment(replicas=2), manager="a"))
    out = do_apply(live, deployment(replicas=2), manager="b")
    assert '"f:replicas"' in owned(out, "a")
    assert '"f:replicas"' in owned(out, "b")


def test_an_applier_conflicts_with_another_applier_without_a_version() -> None:
    live = stored(do_apply(None, deployment(replicas=2, minReadySeconds=1), manager="a"))
    with pytest.raises(ApplyConflictError) as raised:
        do_apply(live, deployment(replicas=3, minReadySeconds=2), manager="b")
    assert str(raised.value) == (
        'Apply failed with 2 conflicts: conflicts with "a":\n- .spec.minReadySeconds\n'
        "- .spec.replicas"
    )


def test_containers_merge_by_name() -> None:
    live = stored(do_apply(None, deployment(), manager="a"))
    other = deployment()
    containers(other)[0] = {"name": "sidecar", "image": "envoy"}
    out = do_apply(live, other, manager="b")
    assert [c["name"] for c in containers(out)] == ["web", "sidecar"]
    assert 'k:{\\"name\\":\\"sidecar\\"}' in owned(out, "b")
    assert "sidecar" not in owned(out, "a")


def test_ports_merge_by_container_port_and_protocol_with_tcp_by_default() -> None:
    config = deployment()
    containers(config)[0]["ports"] = [{"containerPort": 80}]
    live = stored(do_apply(None, config, manager="a"))
    other = deployment()
    containers(other)[0]["ports"] = [{"containerPort": 80, "protocol": "UDP"}]
    out = do_apply(live, other, manager="b")
    assert containers(out)[0]["ports"] == [
        {"containerPort": 80},
        {"containerPort": 80, "protocol": "UDP"},
    ]
    assert 'k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}' in owned(out, "a")


def test_finalizers_are_a_set_and_are_unioned() -> None:
    first = deployment()
    first["metadata"]["finalizers"] = ["a.io/x"]
    live = stored(do_apply(None, first, manager="a"))
    second = deployment()
    second["metadata"]["finalizers"] = ["b.io/y", "a.io/x"]
    out = do_apply(live, second, manager="b")
    assert out["metadata"]["finalizers"] == ["b.io/y", "a.io/x"]
    assert '"v:\\"a.io/x\\""' in owned(out, "a")


def test_tolerations_are_atomic_and_replaced_whole() -> None:
    first = deployment()
    first["spec"]["template"]["spec"]["tolerations"] = [{"key": "a", "operator": "Exists"}]
    live = stored(do_apply(None, first, manager="a"))
    second = deployment()
    second["spec"]["template"]["spec"]["tolerations"] = [{"key": "b", "operator": "Exists"}]
    with pytest.raises(ApplyConflictError, match=r"\.spec\.template\.spec\.tolerations$"):
        do_apply(live, second, manager="b")
    out = do_apply(live, second, manager="b", force=True)
    assert out["spec"]["template"]["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]
    assert '"f:tolerations":{}' in owned(out, "b")


def test_an_object_without_managed_fields_is_owned_before_first_apply() -> None:
    live = stored(deployment(replicas=1))
    with pytest.raises(ApplyConflictError, match='"before-first-apply" using apps/v1'):
        do_apply(live, deployment(replicas=4))
    out = do_apply(live, deployment(replicas=1))
    assert set(entries(out)) == {"before-first-apply", "kubectl"}


def test_kubectl_takes_over_fields_its_client_side_apply_set() -> None:
    previous = deployment(replicas=1)
    annotation = json.dumps(previous)
    previous["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": annotation
    }
    created = update_managed_fields(
        None, previous, manager="kubectl-client-side-apply", schema=DEPLOYMENT, now=T0,
        api_version="apps/v1",
    )  # fmt: skip
    out = do_apply(stored(created), deployment(replicas=5))
    assert out["spec"]["replicas"] == 5
    last = out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert last == json.dumps(deployment(replicas=5), sort_keys=True, separators=(",", ":")) + "\n"
    with pytest.raises(ApplyConflictError):
        do_apply(stored(created), deployment(replicas=5), manager="someone-else")


def test_applied_managed_fields_are_rejected() -> None:
    config = deployment()
    config["metadata"]["managedFields"] = []
    with pytest.raises(BadApplyRequest, match=r"metadata\.managedFields must be nil"):
        do_apply(None, config)


def test_an_apply_in_another_version_is_rejected() -> None:
    with pytest.raises(BadApplyRequest, match="Specified patch version: apps/v1beta2"):
        do_apply(None, dict(deployment(), apiVersion="apps/v1beta2"), api_version="apps/v1")


def test_status_applied_through_the_main_resource_is_not_owned() -> None:
    config = dict(deployment(), status={"replicas": 3})
    out = do_apply(None, config)
    assert "f:status" not in owned(out, "kubectl")


def test_status_applied_through_the_status_subresource_is_owned_under_it() -> None:
    live = stored(do_apply(None, deployment()))
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    config["status"] = {"replicas": 1}
    out = do_apply(live, config, manager="ctrl", subresource="status")
    entry = entries(out)["ctrl"]
    assert entry["subresource"] == "status"
    assert compact(entry["fieldsV1"]) == '{"f:status":{"f:replicas":{}}}'


def test_kubectl_server_side_apply_over_kubectl_run_matches_upstream() -> None:
    # Entries from a real cluster: `kubectl run nginx --image=nginx --restart=Never`, then
    # `kubectl apply --server-side` of the same Pod.
    created = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"run": "nginx"}},
        "spec": {
            "containers": [{"name": "nginx", "image": "nginx", "resources": {},
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File", "imagePullPolicy": "Always"}],
            "restartPolicy": "Never", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "securityContext": {},
            "schedulerName": "default-scheduler", "enableServiceLinks": True,
        },
        "status": {},
    }  # fmt: skip
    run = update_managed_fields(
        None, created, manager="kubectl-run", schema=POD, now=T0, api_version="v1"
    )
    config = json.loads(
        '{"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":null,"labels":'
        '{"run":"nginx"},"name":"nginx","namespace":"default"},"spec":{"containers":[{"image":'
        '"nginx","name":"nginx","resources":{}}],"dnsPolicy":"ClusterFirst","restartPolicy":'
        '"Never"},"status":{}}'
    )
    out = do_apply(stored(run), config, schema=POD)
    assert [e["manager"] for e in out["metadata"]["managedFields"]] == ["kubectl", "kubectl-run"]
    assert owned(out, "kubectl") == (
        '{"f:metadata":{"f:labels":{"f:run":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":'
        '\\"nginx\\"}":{".":{},"f:image":{},"f:name":{},"f:resources":{}}},"f:dnsPolicy":{},'
        '"f:restartPolicy":{}}}'
    )
    assert owned(out, "kubectl-run") == (
        '{"f:metadata":{"f:labels":{".":{},"f:run":{}}},"f:spec":{"f:containers":{"k:{\\"name'
        '\\":\\"nginx\\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},'
        '"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},'
        '"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},'
        '"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}'
    )


def test_preserve_unknown_fields_are_merged_key_by_key() -> None:
    schema = node_from_schema(
        {
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
    )
    base = {"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "t"}}
    live = stored(do_apply(None, dict(base, spec={"a": {"b": 1}}), schema=schema, manager="m1"))
    out = do_apply(live, dict(base, spec={"a": {"c": 2}}), schema=schema, manager="m2")
    assert out["spec"] == {"a": {"b": 1, "c": 2}}
    assert owned(out, "m2") == '{"f:spec":{"f:a":{".":{},"f:c":{}}}}'


def test_duplicated_live_items_survive_an_apply_that_does_not_name_them() -> None:
    live = stored(do_apply(None, deployment(replicas=1)))
    env = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    containers(live)[0]["env"] = env
    out = do_apply(live, deployment(replicas=1), manager="other")
    assert containers(out)[0]["env"] == env


def test_duplicated_keys_in_a_configuration_are_refused_like_upstream() -> None:
    config = deployment()
    containers(config).append({"name": "web", "image": "other"})
    with pytest.raises(ApplyError) as raised:
        do_apply(None, config)
    assert str(raised.value) == (
        "failed to create typed patch object (apps/v1, Kind=Deployment): "
        '.spec.template.spec.containers: duplicate entries for key [name="web"]'
    )


def test_a_list_item_without_its_key_is_refused_like_upstream() -> None:
    config = deployment()
    containers(config)[0] = {"image": "nginx"}
    with pytest.raises(ApplyError, match=r"containers: element 0: .* omits key field \"name\""):
        do_apply(None, config)


def test_a_conflict_through_the_status_subresource_names_it() -> None:
    live = stored(do_apply(None, deployment()))
    changed = copy.deepcopy(live)
    changed["status"] = {"replicas": 1}
    live = stored(update(live, changed, manager="kcm", subresource="status"))
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    with pytest.raises(ApplyConflictError) as raised:
        do_apply(live, dict(config, status={"replicas": 2}), subresource="status")
    assert raised.value.causes[0]["message"] == (
        'conflict with "kcm" with subresource "status" using apps/v1'
    )


def test_an_apply_of_only_name_and_namespace_leaves_no_managed_fields() -> None:
    # upstream TestApplyRemovesEmptyManagedFields
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "test-cm", "namespace": "default"}}  # fmt: skip
    live = stored(do_apply(None, config, schema=CONFIG_MAP, manager="apply_test"))
    out = do_apply(live, config, schema=CONFIG_MAP, manager="apply_test")
    assert "managedFields" not in out["metadata"]


def test_removing_a_container_port_from_the_configuration_removes_it() -> None:
    # upstream TestApplyRemoveContainerPort
    config = deployment()
    containers(config)[0]["ports"] = [{"containerPort": 80, "protocol": "TCP"}]
    live = stored(do_apply(None, config, manager="apply_test"))
    out = do_apply(live, deployment(), manager="apply_test")
    assert "ports" not in containers(out)[0]


# -- updates ------------------------------------------------------------------------------


def test_kubectl_create_deployment_entry_matches_upstream_byte_for_byte() -> None:
    new = deployment(
        replicas=1,
        strategy={"type": "RollingUpdate",
                  "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        revisionHistoryLimit=10,
        progressDeadlineSeconds=600,
    )  # fmt: skip
    new["metadata"]["labels"] = {"app": "nginx"}
    new["spec"]["selector"] = {"matchLabels": {"app": "nginx"}}
    new["spec"]["template"] = {
        "metadata": {"labels": {"app": "nginx"}},
        "spec": {
            "containers": [{"name": "nginx", "image": "nginx", "resources": {},
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File", "imagePullPolicy": "Always"}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "securityContext": {},
            "schedulerName": "default-scheduler",
        },
    }  # fmt: skip
    new["status"] = {}
    out = update_managed_fields(
        None, new, manager="kubectl-create", schema=DEPLOYMENT, now=T0, api_version="apps/v1"
    )
    assert compact(out["metadata"]["managedFields"]) == (
        '[{"manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1",'
        '"time":"2024-05-01T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":'
        '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},'
        '"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":'
        '{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":'
        '{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":'
        '{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},'
        '"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},'
        '"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},'
        '"f:terminationGracePeriodSeconds":{}}}}}}]'
    )


def update(old: dict[str, Any] | None, new: dict[str, Any], **kw: Any) -> dict[str, Any]:
    kw.setdefault("manager", "editor")
    kw.setdefault("now", T2)
    return update_managed_fields(old, new, schema=DEPLOYMENT, api_version="apps/v1", **kw)


def test_merge_patches_by_an_updater_are_grouped_in_one_entry() -> None:
    # upstream TestApplyManagedFields, entry for entry
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
        "data": {"key": "value"},
    }
    live = stored(do_apply(None, config, schema=CONFIG_MAP, manager="apply_test", now=T0))
    for now, data in ((T1, {"new-key": "value"}), (T2, {"key": "new value"})):
        patched = copy.deepcopy(live)
        patched["data"].update(data)
        live = update_managed_fields(
            live, patched, manager="updater", schema=CONFIG_MAP, now=now, api_version="v1"
        )
    assert live["metadata"]["managedFields"] == [
        {"manager": "apply_test", "operation": "Apply", "apiVersion": "v1", "time": T0,
         "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:labels": {"f:test-label": {}}}}},
        {"manager": "updater", "operation": "Update", "apiVersion": "v1", "time": T2,
         "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:key": {}, "f:new-key": {}}}},
    ]  # fmt: skip
    assert live["data"] == {"key": "new value", "new-key": "value"}


def test_an_updater_takes_the_fields_it_changes_from_other_managers() -> None:
    live = stored(do_apply(None, deployment(replicas=2, minReadySeconds=1)))
    changed = copy.deepcopy(live)
    changed["spec"]["replicas"] = 5
    out = update(live, changed)
    assert owned(out, "editor") == '{"f:spec":{"f:replicas":{}}}'
    assert '"f:replicas"' not in owned(out, "kubectl")
    assert entries(out)["editor"]["time"] == T2


def test_an_update_that_changes_nothing_records_nothing() -> None:
    live = stored(do_apply(None, deployment(replicas=2)))
    assert update(live, copy.deepcopy(live)) == live


def test_an_updater_that_changes_everything_another_owned_removes_that_entry() -> None:
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    live = stored(do_apply(None, dict(config, spec={"replicas": 1})))
    changed = copy.deepcopy(live)
    changed["spec"]["replicas"] = 2
    assert set(entries(update(live, changed))) == {"editor"}


def test_an_existing_object_without_managed_fields_is_not_tracked_by_updates() -> None:
    live = stored(deployment(replicas=1))
    changed = copy.deepcopy(live)
    changed["spec"]["replicas"] = 2
    assert "managedFields" not in update(live, changed)["metadata"]


def test_a_single_empty_entry_resets_managed_fields() -> None:
    live = stored(do_apply(None, deployment(replicas=2)))
    changed = copy.deepcopy(live)
    changed["metadata"]["managedFields"] = [{}]
    assert "managedFields" not in update(live, changed)["metadata"]


def test_managed_fields_sent_by_the_client_are_kept() -> None:
    live = stored(do_apply(None, deployment(replicas=2)))
    changed = copy.deepcopy(live)
    changed["metadata"]["managedFields"][0]["manager"] = "renamed"
    out = update(live, changed)
    assert set(entries(out)) == {"renamed"}


def test_status_updates_are_owned_under_the_status_subresource() -> None:
    live = stored(do_apply(None, deployment()))
    changed = copy.deepcopy(live)
    changed["status"] = {"replicas": 1, "conditions": [{"type": "Available", "status": "True"}]}
    out = update(live, changed, manager="kube-controller-manager", subresource="status")
    entry = entries(out)["kube-controller-manager"]
    assert entry["subresource"] == "status"
    assert compact(entry["fieldsV1"]) == (
        '{"f:status":{"f:conditions":{".":{},"k:{\\"type\\":\\"Available\\"}":{".":{},'
        '"f:status":{},"f:type":{}}},"f:replicas":{}}}'
    )
    main = update(live, changed)
    assert "f:status" not in compact(main["metadata"]["managedFields"])


def test_more_than_ten_updaters_are_merged_into_ancient_changes() -> None:
    live = stored(do_apply(None, deployment()))
    for i in range(11):
        changed = copy.deepcopy(live)
        changed["metadata"].setdefault("annotations", {})[f"a{i}"] = "x"
        live = update(live, changed, manager=f"m{i:02}", now=f"2024-05-01T12:00:{i:02}Z")
    names = set(entries(live))
    assert "ancient-changes" in names and "m00" not in names and "m01" not in names
    assert len([n for n in names if n != "kubectl"]) == 10


# -- manager names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        ("kubectl/v1.37.1 (linux/amd64) kubernetes/abc", "kubectl"),
        ("OpenAPI-Generator/33.1.0/python", "OpenAPI-Generator"),
        ("kube-scheduler/v1.37.0 (linux/amd64) kubernetes/abc/leader", "kube-scheduler"),
        ("", ""),
    ],
)  # fmt: skip
def test_the_default_manager_is_the_user_agent_up_to_its_first_slash(
    user_agent: str, expected: str
) -> None:
    assert manager_from_user_agent(user_agent) == expected


def test_an_explicit_field_manager_wins_over_the_user_agent() -> None:
    assert manager_from_user_agent("kubectl/v1.37.1", "kubectl-client-side-apply") == (
        "kubectl-client-side-apply"
    )
