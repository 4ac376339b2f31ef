"""Server-side Table printing checked against the cells upstream's printers produce.

Expected values were derived by reading upstream's `pkg/printers/internalversion`
printers, `duration.HumanDuration`, `resource.Quantity` and the apiextensions table
convertor; the last test renders tables through the real `kubectl` binary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from openeks.kube.api.printers import (
    InvalidTableOptions,
    TableConversionError,
    column_definitions,
    table_for,
)
from openeks.kube.api.printers.common import human_duration
from openeks.kube.api.printers.labels import format_label_selector
from openeks.kube.api.printers.quantity import canonical_quantity

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
SECOND = 1_000_000_000


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def obj_meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "creationTimestamp": ago(minutes=5), **extra}


def cells(group: str, resource: str, obj: dict[str, Any]) -> list[Any]:
    row = table_for(group, resource, [obj], now=NOW)["rows"][0]
    return list(row["cells"])


def headers(group: str, resource: str) -> list[tuple[str, str, int]]:
    return [(c["name"], c["type"], c["priority"]) for c in column_definitions(group, resource)]


# --- shared formatting ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-2, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (1, "1s"),
        (70, "70s"),
        (119, "119s"),
        (120, "2m"),
        (190, "3m10s"),
        (600, "10m"),
        (70 * 60, "70m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 30 * 60, "3h30m"),
        (47 * 3600, "47h"),
        (49 * 3600, "2d1h"),
        (48 * 3600, "2d"),
        ((8 * 24 + 2) * 3600, "8d"),
        (367 * 24 * 3600, "367d"),
        ((365 * 2 * 24 + 25) * 3600, "2y1d"),
        ((365 * 8 * 24 + 2) * 3600, "8y"),
    ],
)
def test_human_duration_matches_apimachinery(seconds: int, expected: str) -> None:
    assert human_duration(seconds * SECOND) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1024Mi", "1Gi"),
        ("1536Mi", "1536Mi"),
        ("1.5Gi", "1536Mi"),
        ("2048Ki", "2Mi"),
        ("1000Ki", "1000Ki"),
        ("100Gi", "100Gi"),
        ("0.1Ki", "102400m"),
        ("0.5", "500m"),
        ("1000m", "1"),
        ("1.5", "1500m"),
        ("2000", "2k"),
        ("1500", "1500"),
        ("10G", "10G"),
        ("1e3", "1e3"),
        ("12e6", "12e6"),
        ("0.5n", "1n"),
        ("-1Gi", "-1Gi"),
        ("0", "0"),
        (5, "5"),
        (None, "0"),
        ("bogus", "bogus"),
    ],
)
def test_quantities_print_in_canonical_form(raw: Any, expected: str) -> None:
    assert canonical_quantity(raw) == expected


def test_label_selectors_print_sorted_by_key_with_sorted_value_sets() -> None:
    selector = {
        "matchLabels": {"tier": "fe", "app": "web"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "debug", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "NotIn", "values": ["b"]},
            {"key": "canary", "operator": "Exists"},
        ],
    }
    assert format_label_selector(selector) == (
        "app=web,canary,!debug,env in (dev,prod),tier=fe,zone notin (b)"
    )


def test_empty_missing_and_invalid_selectors_print_placeholders() -> None:
    assert format_label_selector(None) == "<none>"
    assert format_label_selector({}) == "<none>"
    assert format_label_selector({"matchExpressions": [{"key": "a", "operator": "Is"}]}) == (
        "<error>"
    )
    bad_in = {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}
    assert format_label_selector(bad_in) == "<error>"


# --- pods ----------------------------------------------------------------------------


def pod(status: dict[str, Any], spec: dict[str, Any] | None = None, /, **meta: Any) -> dict:
    return {
        "metadata": obj_meta("web-0", **meta),
        "spec": spec or {"containers": [{"name": "app"}]},
        "status": status,
    }


def running(name: str = "app", *, ready: bool = True, restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {}}}


def test_pod_columns_match_upstream_including_wide_ones() -> None:
    assert headers("", "pods") == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Status", "string", 0),
        ("Restarts", "string", 0),
        ("Age", "string", 0),
        ("IP", "string", 1),
        ("Node", "string", 1),
        ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1),
    ]
    assert column_definitions("", "pods")[0]["format"] == "name"


def test_running_pod_prints_every_cell_of_the_wide_table() -> None:
    obj = pod(
        {"phase": "Running", "podIP": "10.244.1.7", "containerStatuses": [running()]},
        {"containers": [{"name": "app"}], "nodeName": "node-1"},
    )
    assert cells("", "pods", obj) == [
        "web-0",
        "1/1",
        "Running",
        "0",
        "5m",
        "10.244.1.7",
        "node-1",
        "<none>",
        "<none>",
    ]


def test_crash_looping_container_shows_its_reason_and_last_restart_age() -> None:
    crashing = {
        "name": "sidecar",
        "ready": False,
        "restartCount": 3,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(minutes=2, seconds=5)}},
    }
    obj = pod(
        {"phase": "Running", "containerStatuses": [running(restarts=1), crashing]},
        {"containers": [{"name": "app"}, {"name": "sidecar"}]},
    )
    assert cells("", "pods", obj)[1:4] == ["1/2", "CrashLoopBackOff", "4 (2m5s ago)"]


def test_restarts_without_a_termination_record_print_the_bare_count() -> None:
    obj = pod({"phase": "Running", "containerStatuses": [running(restarts=5)]})
    assert cells("", "pods", obj)[3] == "5"


def test_succeeded_pod_is_completed_and_carries_the_completed_row_condition() -> None:
    done = {"name": "app", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}
    obj = pod({"phase": "Succeeded", "containerStatuses": [done]})
    row = table_for("", "pods", [obj], now=NOW)["rows"][0]
    assert row["cells"][1:4] == ["0/1", "Completed", "0"]
    assert row["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]


def test_evicted_pod_shows_the_pod_reason_and_the_failed_condition() -> None:
    obj = pod({"phase": "Failed", "reason": "Evicted", "message": "low on memory"})
    row = table_for("", "pods", [obj], now=NOW)["rows"][0]
    assert row["cells"][2] == "Evicted"
    assert row["conditions"][0]["reason"] == "Failed"
    assert row["conditions"][0]["message"] == "The pod failed."


@pytest.mark.parametrize(
    ("terminated", "expected"),
    [
        ({"exitCode": 137, "signal": 9}, "Signal:9"),
        ({"exitCode": 2}, "ExitCode:2"),
        ({"exitCode": 1, "reason": "Error"}, "Error"),
        ({"exitCode": 137, "reason": "OOMKilled"}, "OOMKilled"),
    ],
)
def test_terminated_containers_report_reason_signal_or_exit_code(
    terminated: dict[str, Any], expected: str
) -> None:
    status = {"name": "app", "state": {"terminated": terminated}}
    obj = pod({"phase": "Running", "containerStatuses": [status]})
    assert cells("", "pods", obj)[2] == expected


def test_completed_container_next_to_a_running_one_reads_running_or_not_ready() -> None:
    done = {"name": "job", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}
    spec = {"containers": [{"name": "app"}, {"name": "job"}]}
    statuses = [running(), done]
    ready = pod(
        {
            "phase": "Running",
            "containerStatuses": statuses,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
        spec,
    )
    not_ready = pod({"phase": "Running", "containerStatuses": statuses}, spec)
    assert cells("", "pods", ready)[1:3] == ["1/2", "Running"]
    assert cells("", "pods", not_ready)[1:3] == ["1/2", "NotReady"]


INIT_SPEC = {
    "initContainers": [{"name": "init-a"}, {"name": "init-b"}],
    "containers": [{"name": "app"}],
}
FINISHED_INIT = {"name": "init-a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}


@pytest.mark.parametrize(
    ("second_init", "expected"),
    [
        ({"name": "init-b", "state": {"running": {}}}, "Init:1/2"),
        ({"name": "init-b", "state": {"waiting": {"reason": "PodInitializing"}}}, "Init:1/2"),
        (
            {"name": "init-b", "state": {"waiting": {"reason": "ImagePullBackOff"}}},
            ("Init:ImagePullBackOff"),
        ),
        (
            {"name": "init-b", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}},
            ("Init:Error"),
        ),
        ({"name": "init-b", "state": {"terminated": {"exitCode": 3}}}, "Init:ExitCode:3"),
        (
            {"name": "init-b", "state": {"terminated": {"exitCode": 1, "signal": 15}}},
            ("Init:Signal:15"),
        ),
    ],
)
def test_initializing_pods_name_the_first_unfinished_init_container(
    second_init: dict[str, Any], expected: str
) -> None:
    obj = pod(
        {
            "phase": "Pending",
            "initContainerStatuses": [FINISHED_INIT, second_init],
            "containerStatuses": [
                {"name": "app", "state": {"waiting": {"reason": "PodInitializing"}}}
            ],
        },
        INIT_SPEC,
    )
    assert cells("", "pods", obj)[1:3] == ["0/1", expected]


def test_init_container_restarts_count_while_the_pod_initializes() -> None:
    crashing = {
        "name": "init-a",
        "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(minutes=1)}},
    }
    obj = pod({"phase": "Pending", "initContainerStatuses": [crashing]}, INIT_SPEC)
    assert cells("", "pods", obj)[1:4] == ["0/1", "Init:CrashLoopBackOff", "4 (60s ago)"]


def test_started_sidecar_init_containers_count_as_ready_containers() -> None:
    spec = {
        "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
        "containers": [{"name": "app"}],
    }
    sidecar = {
        "name": "proxy",
        "ready": True,
        "started": True,
        "restartCount": 2,
        "state": {"running": {}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(hours=3)}},
    }
    obj = pod(
        {
            "phase": "Running",
            "conditions": [{"type": "Initialized", "status": "True"}],
            "initContainerStatuses": [sidecar],
            "containerStatuses": [running(restarts=1)],
        },
        spec,
    )
    assert cells("", "pods", obj)[1:4] == ["2/2", "Running", "3 (3h ago)"]


def test_deleted_pods_are_terminating_unless_finished_or_on_a_lost_node() -> None:
    deleting = {"deletionTimestamp": ago(seconds=10)}
    live = pod({"phase": "Running", "containerStatuses": [running()]}, **deleting)
    lost = pod({"phase": "Running", "reason": "NodeLost"}, **deleting)
    done = pod(
        {
            "phase": "Succeeded",
            "containerStatuses": [
                {"name": "app", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}
            ],
        },
        **deleting,
    )
    assert cells("", "pods", live)[2] == "Terminating"
    assert cells("", "pods", lost)[2] == "Unknown"
    assert cells("", "pods", done)[2] == "Completed"


def test_scheduling_gated_pods_say_so() -> None:
    obj = pod(
        {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
            ],
        }
    )
    assert cells("", "pods", obj)[1:3] == ["0/1", "SchedulingGated"]


def test_readiness_gates_nominated_node_and_dual_stack_ips_in_the_wide_cells() -> None:
    obj = pod(
        {
            "phase": "Running",
            "podIPs": [{"ip": "fd00::7"}, {"ip": "10.0.0.7"}],
            "nominatedNodeName": "node-2",
            "conditions": [
                {"type": "example.com/lb", "status": "True"},
                {"type": "example.com/dns", "status": "False"},
            ],
        },
        {
            "containers": [{"name": "app"}],
            "readinessGates": [
                {"conditionType": "example.com/lb"},
                {"conditionType": "example.com/dns"},
            ],
        },
    )
    assert cells("", "pods", obj)[5:] == ["fd00::7", "<none>", "node-2", "1/2"]


# --- other core resources ------------------------------------------------------------


def node(**changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {
            "name": "node-1",
            "creationTimestamp": ago(days=20),
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "kubernetes.io/role": "worker",
                "kubernetes.io/os": "linux",
            },
        },
        "spec": {},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [
                {"type": "Hostname", "address": "node-1"},
                {"type": "InternalIP", "address": "192.168.1.10"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.37.1",
                "osImage": "Debian GNU/Linux 13 (trixie)",
                "kernelVersion": "6.12.0",
                "containerRuntimeVersion": "containerd://2.1.0",
            },
        },
    }
    obj.update(changes)
    return obj


def test_node_prints_status_roles_version_and_system_info() -> None:
    assert cells("", "nodes", node()) == [
        "node-1",
        "Ready",
        "control-plane,worker",
        "20d",
        "v1.37.1",
        "192.168.1.10",
        "<none>",
        "Debian GNU/Linux 13 (trixie)",
        "6.12.0",
        "containerd://2.1.0",
    ]


def test_cordoned_and_unhealthy_nodes() -> None:
    cordoned = node(spec={"unschedulable": True})
    assert cells("", "nodes", cordoned)[1] == "Ready,SchedulingDisabled"
    sick = node(status={"conditions": [{"type": "Ready", "status": "Unknown"}]})
    assert cells("", "nodes", sick)[1:3] == ["NotReady", "control-plane,worker"]
    blank = node(metadata={"name": "bare"}, status={})
    assert cells("", "nodes", blank)[1:] == [
        "Unknown",
        "<none>",
        "<unknown>",
        "",
        "<none>",
        "<none>",
        "<unknown>",
        "<unknown>",
        "<unknown>",
    ]


def service(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": obj_meta("web"), "spec": spec, "status": status or {}}


def test_cluster_ip_service_prints_ports_and_selector() -> None:
    obj = service(
        {
            "type": "ClusterIP",
            "clusterIP": "10.96.12.4",
            "clusterIPs": ["10.96.12.4"],
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            "selector": {"app": "web", "tier": "front"},
        }
    )
    assert cells("", "services", obj) == [
        "web",
        "ClusterIP",
        "10.96.12.4",
        "<none>",
        "80/TCP,53/UDP",
        "5m",
        "app=web,tier=front",
    ]


def test_load_balancer_external_ip_is_pending_until_the_balancer_reports() -> None:
    spec = {
        "type": "LoadBalancer",
        "clusterIPs": ["10.96.0.10"],
        "ports": [{"port": 80, "nodePort": 30001, "protocol": "TCP"}, {"port": 443}],
    }
    assert cells("", "services", service(spec))[2:5] == [
        "10.96.0.10",
        "<pending>",
        "80:30001/TCP,443/TCP",
    ]
    ready = {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}, {"ip": "203.0.113.9"}]}}
    assert cells("", "services", service(spec, ready))[3] == "203.0.113.9,lb.example.com"
    with_external = {**spec, "externalIPs": ["198.51.100.1"]}
    assert cells("", "services", service(with_external, ready))[3] == (
        "203.0.113.9,lb.example.com,198.51.100.1"
    )


def test_headless_external_name_and_defaulted_services() -> None:
    headless = service({"clusterIP": "None", "clusterIPs": ["None"], "selector": {"a": "b"}})
    assert cells("", "services", headless)[1:5] == ["ClusterIP", "None", "<none>", "<none>"]
    external = service({"type": "ExternalName", "externalName": "db.example.com"})
    assert cells("", "services", external)[1:5] == [
        "ExternalName",
        "<none>",
        "db.example.com",
        "<none>",
    ]
    node_port = service({"type": "NodePort", "clusterIP": "10.0.0.3", "externalIPs": ["1.2.3.4"]})
    assert cells("", "services", node_port)[2:4] == ["10.0.0.3", "1.2.3.4"]
    assert cells("", "services", node_port)[6] == "<none>"


def test_endpoints_show_three_addresses_then_a_count_of_the_rest() -> None:
    obj: dict[str, Any] = {
        "metadata": obj_meta("web"),
        "subsets": [
            {
                "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
            },
            {"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 8080}]},
        ],
    }
    assert cells("", "endpoints", obj)[1] == "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more..."
    ipv6 = {"metadata": obj_meta("v6"), "subsets": obj["subsets"][1:]}
    assert cells("", "endpoints", ipv6)[1] == "[fd00::1]:8080"
    headless = {"metadata": obj_meta("h"), "subsets": [{"addresses": [{"ip": "10.0.0.9"}]}]}
    assert cells("", "endpoints", headless)[1] == "10.0.0.9"
    assert cells("", "endpoints", {"metadata": obj_meta("none")})[1] == "<none>"


def test_namespaces_config_maps_secrets_and_service_accounts() -> None:
    ns = {"metadata": {"name": "prod", "creationTimestamp": ago(days=400)}}
    assert cells("", "namespaces", ns) == ["prod", "Active", "400d"]
    ns["status"] = {"phase": "Terminating"}
    assert cells("", "namespaces", ns)[1] == "Terminating"
    cm = {"metadata": obj_meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert cells("", "configmaps", cm) == ["cfg", 3, "5m"]
    secret = {"metadata": obj_meta("tls"), "type": "kubernetes.io/tls", "data": {"a": "", "b": ""}}
    assert cells("", "secrets", secret) == ["tls", "kubernetes.io/tls", 2, "5m"]
    assert cells("", "secrets", {"metadata": obj_meta("plain")})[1:3] == ["Opaque", 0]
    sa = {"metadata": obj_meta("default"), "secrets": [{"name": "default-token"}]}
    assert cells("", "serviceaccounts", sa) == ["default", 1, "5m"]


def test_replication_controller_prints_counts_containers_and_map_selector() -> None:
    rc = {
        "metadata": obj_meta("frontend"),
        "spec": {
            "replicas": 3,
            "selector": {"app": "frontend"},
            "template": {
                "spec": {
                    "containers": [
                        {"name": "php", "image": "php:8"},
                        {"name": "redis", "image": "redis:7"},
                    ]
                }
            },
        },
        "status": {"replicas": 3, "readyReplicas": 2},
    }
    assert cells("", "replicationcontrollers", rc) == [
        "frontend",
        3,
        3,
        2,
        "5m",
        "php,redis",
        "php:8,redis:7",
        "app=frontend",
    ]


def test_resource_quota_splits_requests_from_limits_in_canonical_quantities() -> None:
    quota = {
        "metadata": obj_meta("compute"),
        "status": {
            "hard": {
                "pods": "10",
                "requests.cpu": "1",
                "requests.memory": "1024Mi",
                "limits.memory": "2Gi",
                "limits.cpu": "2000m",
            },
            "used": {"pods": "2", "requests.cpu": "500m", "requests.memory": "512Mi"},
        },
    }
    assert cells("", "resourcequotas", quota) == [
        "compute",
        "pods: 2/10, requests.cpu: 500m/1, requests.memory: 512Mi/1Gi",
        "limits.cpu: 0/2, limits.memory: 0/2Gi",
        "5m",
    ]


def test_limit_ranges_roles_and_crds_use_the_default_name_and_created_at_table() -> None:
    for group, resource in [
        ("", "limitranges"),
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
        ("example.com", "widgets"),
    ]:
        assert headers(group, resource) == [("Name", "string", 0), ("Created At", "date", 0)]
    role = {"metadata": {"name": "reader", "creationTimestamp": "2024-01-02T05:04:05.5+02:00"}}
    assert cells("rbac.authorization.k8s.io", "roles", role) == ["reader", "2024-01-02T03:04:05Z"]
    assert cells("", "limitranges", {"metadata": {"name": "x"}}) == ["x", "0001-01-01T00:00:00Z"]


def test_default_table_of_an_empty_list_has_null_rows() -> None:
    assert table_for("", "limitranges", [], now=NOW, list_meta={})["rows"] is None
    assert table_for("", "pods", [], now=NOW, list_meta={})["rows"] == []


# --- events --------------------------------------------------------------------------


def test_core_event_prints_object_source_and_trimmed_message() -> None:
    event = {
        "metadata": obj_meta("web-0.17c1"),
        "involvedObject": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff",
        "type": "Warning",
        "message": " Back-off restarting failed container\n",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(hours=2),
        "lastTimestamp": ago(seconds=30),
        "count": 12,
    }
    assert cells("", "events", event) == [
        "30s",
        "Warning",
        "BackOff",
        "pod/web-0",
        "spec.containers{app}",
        "kubelet, node-1",
        "Back-off restarting failed container",
        "120m",
        12,
        "web-0.17c1",
    ]
    assert [c["name"] for c in column_definitions("", "events")][:4] == [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
    ]


def test_new_style_events_fall_back_to_event_time_series_and_reporting_controller() -> None:
    singleton = {
        "metadata": obj_meta("n.1"),
        "involvedObject": {"kind": "Node"},
        "eventTime": "2024-05-01T11:59:00.123456Z",
        "reportingComponent": "scheduler",
        "reportingInstance": "scheduler-1",
        "type": "Normal",
        "reason": "Scheduled",
    }
    assert cells("", "events", singleton)[:9] == [
        "59s",  # 59.876s truncates, as Go's duration arithmetic does
        "Normal",
        "Scheduled",
        "node",
        "",
        "scheduler, scheduler-1",
        "",
        "59s",
        1,
    ]
    series = {**singleton, "series": {"count": 7, "lastObservedTime": ago(seconds=5)}}
    assert cells("", "events", series)[0] == "5s"
    assert cells("", "events", series)[8] == 7


def test_events_k8s_io_events_print_like_core_events() -> None:
    event = {
        "metadata": obj_meta("web.1"),
        "regarding": {"kind": "Deployment", "name": "web"},
        "note": "Scaled up replica set web-7d to 3",
        "reason": "ScalingReplicaSet",
        "type": "Normal",
        "reportingController": "deployment-controller",
        "eventTime": None,
        "deprecatedFirstTimestamp": ago(minutes=15),
        "deprecatedLastTimestamp": ago(minutes=15),
        "deprecatedCount": 1,
    }
    assert cells("events.k8s.io", "events", event) == [
        "15m",
        "Normal",
        "ScalingReplicaSet",
        "deployment/web",
        "",
        "deployment-controller",
        "Scaled up replica set web-7d to 3",
        "15m",
        1,
        "web.1",
    ]


def test_core_shaped_events_served_through_events_k8s_io_print_unchanged() -> None:
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": obj_meta("web.2"),
        "involvedObject": {"kind": "Pod", "name": "web"},
        "message": "Pulled",
        "count": 2,
        "lastTimestamp": ago(seconds=3),
    }
    assert cells("events.k8s.io", "events", event)[:4] == ["3s", "", "", "pod/web"]
    assert cells("events.k8s.io", "events", event)[6:9] == ["Pulled", "<unknown>", 2]


# --- volumes -------------------------------------------------------------------------


def test_bound_claim_shows_volume_capacity_and_access_modes() -> None:
    pvc = {
        "metadata": obj_meta("data"),
        "spec": {
            "volumeName": "pvc-123",
            "storageClassName": "gp3",
            "resources": {"requests": {"storage": "1Gi"}},
        },
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "1024Mi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
        },
    }
    assert cells("", "persistentvolumeclaims", pvc) == [
        "data",
        "Bound",
        "pvc-123",
        "1Gi",
        "RWO,RWX",
        "gp3",
        "<unset>",
        "5m",
        "Filesystem",
    ]


def test_pending_claim_hides_capacity_and_prefers_the_beta_class_annotation() -> None:
    pvc = {
        "metadata": obj_meta(
            "scratch", annotations={"volume.beta.kubernetes.io/storage-class": "legacy"}
        ),
        "spec": {"storageClassName": "gp3", "volumeMode": "Block"},
    }
    assert cells("", "persistentvolumeclaims", pvc) == [
        "scratch",
        "Pending",
        "",
        "",
        "",
        "legacy",
        "<unset>",
        "5m",
        "Block",
    ]
    pvc["metadata"]["deletionTimestamp"] = ago(seconds=1)
    assert cells("", "persistentvolumeclaims", pvc)[1] == "Terminating"


def test_persistent_volume_prints_claim_policy_and_reason() -> None:
    pv = {
        "metadata": {"name": "pv-1", "creationTimestamp": ago(hours=30)},
        "spec": {
            "capacity": {"storage": "10737418240"},
            "accessModes": ["ReadWriteOncePod", "ReadOnlyMany"],
            "persistentVolumeReclaimPolicy": "Delete",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "gp3",
            "volumeAttributesClassName": "fast",
        },
        "status": {"phase": "Released", "reason": "Reclaiming"},
    }
    assert cells("", "persistentvolumes", pv) == [
        "pv-1",
        "10737418240",
        "ROX,RWOP",
        "Delete",
        "Released",
        "default/data",
        "gp3",
        "fast",
        "Reclaiming",
        "30h",
        "Filesystem",
    ]
    bare = {"metadata": {"name": "pv-2"}, "spec": {"capacity": {"storage": "5Gi"}}}
    assert cells("", "persistentvolumes", bare)[1:9] == [
        "5Gi",
        "",
        "Retain",
        "Pending",
        "",
        "",
        "<unset>",
        "",
    ]


def storage_class(name: str, created: str, default: str | None = None) -> dict[str, Any]:
    annotations = (
        {} if default is None else {"storageclass.kubernetes.io/is-default-class": default}
    )
    return {
        "metadata": {"name": name, "creationTimestamp": created, "annotations": annotations},
        "provisioner": "ebs.csi.aws.com",
    }


def test_storage_class_defaults_and_expansion() -> None:
    sc = storage_class("gp2", ago(days=3), "true")
    assert cells("storage.k8s.io", "storageclasses", sc) == [
        "gp2 (default)",
        "ebs.csi.aws.com",
        "Delete",
        "Immediate",
        False,
        "3d",
    ]
    sc.update(reclaimPolicy="Retain", volumeBindingMode="WaitForFirstConsumer")
    sc["allowVolumeExpansion"] = True
    sc["metadata"]["annotations"] = {}
    assert cells("storage.k8s.io", "storageclasses", sc) == [
        "gp2",
        "ebs.csi.aws.com",
        "Retain",
        "WaitForFirstConsumer",
        True,
        "3d",
    ]


def test_only_the_newest_annotated_default_class_of_a_list_is_marked_default() -> None:
    classes = [
        storage_class("old", ago(days=9), "true"),
        storage_class("new-b", ago(days=1), "true"),
        storage_class("new-a", ago(days=1)),
        storage_class("beta", ago(hours=1), "false"),
    ]
    classes[2]["metadata"]["annotations"] = {
        "storageclass.beta.kubernetes.io/is-default-class": "true"
    }
    rows = table_for("storage.k8s.io", "storageclasses", classes, now=NOW, list_meta={})["rows"]
    assert [row["cells"][0] for row in rows] == ["old", "new-b", "new-a (default)", "beta"]


# --- apps ----------------------------------------------------------------------------


def template(*containers: tuple[str, str]) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": n, "image": i} for n, i in containers]}}


def test_deployment_prints_ready_fraction_and_label_selector() -> None:
    deployment = {
        "metadata": obj_meta("web"),
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}],
            },
            "template": template(("nginx", "nginx:1.27"), ("exporter", "prom/exporter")),
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert cells("apps", "deployments", deployment) == [
        "web",
        "2/3",
        3,
        2,
        "5m",
        "nginx,exporter",
        "nginx:1.27,prom/exporter",
        "app=web,track notin (canary)",
    ]
    assert headers("apps", "deployments")[1:4] == [
        ("Ready", "string", 0),
        ("Up-to-date", "string", 0),
        ("Available", "string", 0),
    ]


def test_deployment_defaults_replicas_and_flags_invalid_selectors() -> None:
    deployment = {
        "metadata": obj_meta("odd"),
        "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Bad"}]}},
    }
    assert cells("apps", "deployments", deployment)[1:4] == ["0/1", 0, 0]
    assert cells("apps", "deployments", deployment)[7] == "<invalid>"
    deployment["spec"] = {}
    assert cells("apps", "deployments", deployment)[7] == ""


def test_replica_sets_stateful_sets_and_daemon_sets() -> None:
    rs = {
        "metadata": obj_meta("web-7d9f"),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(("nginx", "nginx")),
        },
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    assert cells("apps", "replicasets", rs) == [
        "web-7d9f",
        2,
        2,
        1,
        "5m",
        "nginx",
        "nginx",
        "app=web",
    ]
    sts = {"metadata": obj_meta("db"), "spec": {"template": template(("pg", "postgres:17"))}}
    assert cells("apps", "statefulsets", sts) == ["db", "0/1", "5m", "pg", "postgres:17"]
    ds = {
        "metadata": obj_meta("fluentd"),
        "spec": {
            "selector": {},
            "template": {
                "spec": {
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [{"name": "f", "image": "fluentd"}],
                }
            },
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert cells("apps", "daemonsets", ds) == [
        "fluentd",
        3,
        3,
        2,
        3,
        2,
        "kubernetes.io/os=linux",
        "5m",
        "f",
        "fluentd",
        "<none>",
    ]


def test_controller_revisions_name_their_controller_by_group_kind() -> None:
    owner = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "fluentd", "controller": True}
    revision = {
        "metadata": obj_meta(
            "fluentd-5d8",
            ownerReferences=[{"apiVersion": "v1", "kind": "Pod", "name": "ignored"}, owner],
        ),
        "revision": 4,
    }
    assert cells("apps", "controllerrevisions", revision) == [
        "fluentd-5d8",
        "daemonset.apps/fluentd",
        4,
        "5m",
    ]
    orphan = {"metadata": obj_meta("lone"), "revision": 1}
    assert cells("apps", "controllerrevisions", orphan)[1] == "<none>"
    owner["apiVersion"] = "a/b/c"
    with pytest.raises(TableConversionError):
        cells("apps", "controllerrevisions", revision)


# --- batch ---------------------------------------------------------------------------


def job(spec: dict[str, Any], status: dict[str, Any], **meta: Any) -> dict[str, Any]:
    base_spec = {"template": template(("pi", "perl:5"))}
    return {"metadata": obj_meta("pi", **meta), "spec": {**base_spec, **spec}, "status": status}


def test_completed_job_reports_completions_and_duration() -> None:
    done = job(
        {"completions": 3, "parallelism": 2, "selector": {"matchLabels": {"job-name": "pi"}}},
        {
            "succeeded": 3,
            "startTime": ago(minutes=5),
            "completionTime": ago(minutes=2, seconds=30),
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    )
    assert cells("batch", "jobs", done) == [
        "pi",
        "Complete",
        "3/3",
        "2m30s",
        "5m",
        "pi",
        "perl:5",
        "job-name=pi",
    ]


def test_job_status_precedence_and_work_queue_completions() -> None:
    running = job({"parallelism": 3}, {"startTime": ago(seconds=40), "active": 3})
    assert cells("batch", "jobs", running)[1:4] == ["Running", "0/1 of 3", "40s"]
    single = job({}, {"succeeded": 0})
    assert cells("batch", "jobs", single)[1:4] == ["Running", "0/1", ""]
    failed = job(
        {"completions": 1},
        {
            "conditions": [
                {"type": "FailureTarget", "status": "True"},
                {"type": "Failed", "status": "True"},
            ]
        },
    )
    assert cells("batch", "jobs", failed)[1] == "Failed"
    suspended = job({}, {"conditions": [{"type": "Suspended", "status": "True"}]})
    assert cells("batch", "jobs", suspended)[1] == "Suspended"
    target = job({}, {"conditions": [{"type": "FailureTarget", "status": "True"}]})
    assert cells("batch", "jobs", target)[1] == "FailureTarget"
    deleting = job(
        {},
        {"conditions": [{"type": "Suspended", "status": "True"}]},
        **{"deletionTimestamp": ago(seconds=1)},
    )
    assert cells("batch", "jobs", deleting)[1] == "Terminating"


def test_cron_job_prints_schedule_suspend_active_and_last_schedule() -> None:
    cron = {
        "metadata": obj_meta("backup"),
        "spec": {
            "schedule": "*/5 * * * *",
            "timeZone": "Etc/UTC",
            "jobTemplate": {"spec": {"template": template(("b", "restic"))}},
        },
        "status": {"active": [{"name": "backup-1"}], "lastScheduleTime": ago(seconds=75)},
    }
    assert cells("batch", "cronjobs", cron) == [
        "backup",
        "*/5 * * * *",
        "Etc/UTC",
        "False",
        1,
        "75s",
        "5m",
        "b",
        "restic",
        "<none>",
    ]
    cron["spec"].pop("timeZone")
    cron["spec"]["suspend"] = True
    cron["status"] = {}
    assert cells("batch", "cronjobs", cron)[2:6] == ["<none>", "True", 0, "<none>"]
    assert headers("batch", "cronjobs")[3] == ("Suspend", "boolean", 0)


# --- rbac, coordination, discovery, policy, admission, certificates ------------------


def test_role_bindings_list_subjects_by_kind_in_the_wide_columns() -> None:
    binding = {
        "metadata": obj_meta("readers"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "namespace": "ci", "name": "runner"},
            {"kind": "User", "name": "bob"},
        ],
    }
    expected = ["readers", "ClusterRole/view", "5m", "alice, bob", "devs", "ci/runner"]
    assert cells("rbac.authorization.k8s.io", "rolebindings", binding) == expected
    assert cells("rbac.authorization.k8s.io", "clusterrolebindings", binding) == expected
    assert column_definitions("rbac.authorization.k8s.io", "clusterrolebindings")[3][
        "description"
    ] == ("Users in the clusterRoleBinding")


def test_leases_endpoint_slices_and_disruption_budgets() -> None:
    lease = {"metadata": obj_meta("kube-scheduler"), "spec": {"holderIdentity": "cp-1_abc"}}
    assert cells("coordination.k8s.io", "leases", lease) == ["kube-scheduler", "cp-1_abc", "5m"]
    assert cells("coordination.k8s.io", "leases", {"metadata": obj_meta("x")})[1] == ""
    eps = {
        "metadata": obj_meta("web-abc"),
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80}, {"name": "metrics"}, {}],
        "endpoints": [
            {"addresses": ["10.0.0.1", "10.0.0.2"]},
            {"addresses": ["10.0.0.3"]},
            {"addresses": ["10.0.0.4"]},
        ],
    }
    assert cells("discovery.k8s.io", "endpointslices", eps) == [
        "web-abc",
        "IPv4",
        "80,metrics,*",
        "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...",
        "5m",
    ]
    empty = {"metadata": obj_meta("empty"), "addressType": "IPv6"}
    assert cells("discovery.k8s.io", "endpointslices", empty)[2:4] == ["<unset>", "<unset>"]
    pdb = {
        "metadata": obj_meta("web"),
        "spec": {"minAvailable": 2},
        "status": {"disruptionsAllowed": 1},
    }
    assert cells("policy", "poddisruptionbudgets", pdb) == ["web", "2", "N/A", 1, "5m"]
    pdb["spec"] = {"maxUnavailable": "25%"}
    assert cells("policy", "poddisruptionbudgets", pdb)[1:3] == ["N/A", "25%"]


def test_webhook_configurations_count_their_webhooks() -> None:
    config = {
        "metadata": {"name": "gatekeeper", "creationTimestamp": ago(days=1)},
        "webhooks": [{"name": "a.example.com"}, {"name": "b.example.com"}],
    }
    for resource in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
        assert cells("admissionregistration.k8s.io", resource, config) == ["gatekeeper", 2, "24h"]


def test_certificate_signing_requests_summarise_their_conditions() -> None:
    csr = {
        "metadata": {"name": "csr-x", "creationTimestamp": ago(seconds=20)},
        "spec": {
            "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
            "username": "system:node:node-1",
            "expirationSeconds": 3600,
        },
        "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "LS0t"},
    }
    assert cells("certificates.k8s.io", "certificatesigningrequests", csr) == [
        "csr-x",
        "20s",
        "kubernetes.io/kube-apiserver-client-kubelet",
        "system:node:node-1",
        "60m",
        "Approved,Issued",
    ]
    csr["spec"] = {}
    csr["status"] = {"conditions": [{"type": "Denied"}, {"type": "Approved"}, {"type": "Failed"}]}
    assert cells("certificates.k8s.io", "certificatesigningrequests", csr)[2:] == [
        "<none>",
        "",
        "<none>",
        "Denied,Failed",
    ]
    csr["status"] = {}
    assert cells("certificates.k8s.io", "certificatesigningrequests", csr)[5] == "Pending"


# --- custom resources ----------------------------------------------------------------

CRD_COLUMNS: list[dict[str, Any]] = [
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
    },
    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
    {"name": "Ratio", "type": "number", "jsonPath": ".status.ratio", "priority": 1},
    {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused"},
    {"name": "Image", "type": "string", "jsonPath": ".spec.image", "description": "The image."},
    {"name": "Labels", "type": "string", "jsonPath": ".spec.selector"},
    {"name": "Count", "type": "string", "jsonPath": ".status.count"},
    {"name": "Last Backup", "type": "date", "jsonPath": ".status.lastBackup"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def widget(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": obj_meta("w1"),
        "spec": {"replicas": 2.7, "paused": False, "selector": {"b": "<2>", "a": 1}, **spec},
        "status": {
            "conditions": [
                {"type": "Synced", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "ratio": 1,
            "count": 7,
            "lastBackup": "not-a-time",
        },
    }


def test_custom_resource_columns_follow_their_json_paths_and_types() -> None:
    table = table_for("example.com", "widgets", [widget()], now=NOW, crd_columns=CRD_COLUMNS)
    assert [(c["name"], c["type"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Replicas", "integer", 0),
        ("Ratio", "number", 1),
        ("Paused", "boolean", 0),
        ("Image", "string", 0),
        ("Labels", "string", 0),
        ("Count", "string", 0),
        ("Last Backup", "date", 0),
        ("Age", "date", 0),
    ]
    assert table["columnDefinitions"][1]["description"] == (
        "Custom resource definition column (in JSONPath format): "
        '.status.conditions[?(@.type=="Ready")].status'
    )
    assert table["columnDefinitions"][5]["description"] == "The image."
    assert table["rows"][0]["cells"] == [
        "w1",
        "True",
        2,
        1.0,
        False,
        None,
        '{"a":1,"b":"\\u003c2\\u003e"}',
        "7",
        "<invalid>",
        "5m",
    ]


def test_custom_resource_null_values_and_type_mismatches() -> None:
    obj = widget(image=None, replicas="three", paused="no")
    row = table_for("example.com", "widgets", [obj], now=NOW, crd_columns=CRD_COLUMNS)["rows"][0]
    assert row["cells"][2] == None  # noqa: E711 - a string in an integer column is null
    assert row["cells"][4] is None
    assert row["cells"][5] == "<no value>"


def test_custom_resources_without_columns_get_an_age_column() -> None:
    table = table_for("example.com", "widgets", [widget()], now=NOW, crd_columns=[])
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"][0]["cells"] == ["w1", "5m"]


def test_custom_resource_columns_stop_at_the_first_unparsable_path() -> None:
    columns = [CRD_COLUMNS[1], {"name": "Bad", "type": "string", "jsonPath": ".spec[oops"}]
    columns.append(CRD_COLUMNS[3])
    assert [c["name"] for c in column_definitions("example.com", "widgets", columns)] == [
        "Name",
        "Replicas",
    ]


# --- the Table envelope --------------------------------------------------------------


def test_list_tables_carry_list_metadata_and_partial_object_metadata_rows() -> None:
    objects = [pod({"phase": "Pending"}), pod({"phase": "Pending"})]
    objects[1]["metadata"]["name"] = "web-1"
    table = table_for(
        "",
        "pods",
        objects,
        now=NOW,
        list_meta={"resourceVersion": "812", "continue": "abc", "remainingItemCount": 40},
    )
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert table["metadata"] == {
        "resourceVersion": "812",
        "continue": "abc",
        "remainingItemCount": 40,
    }
    assert table["rows"][1]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": objects[1]["metadata"],
    }
    assert "conditions" not in table["rows"][0]
    assert list(table) == ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]


def test_single_object_tables_carry_the_object_resource_version() -> None:
    obj = pod({"phase": "Pending"}, resourceVersion="77")
    assert table_for("", "pods", [obj], now=NOW)["metadata"] == {"resourceVersion": "77"}
    assert table_for("", "pods", [obj], now=NOW, list_meta={})["metadata"] == {}


def test_include_object_selects_full_objects_metadata_or_nothing() -> None:
    obj = pod({"phase": "Pending"})
    full = table_for("", "pods", [obj], now=NOW, include_object="Object")
    assert full["rows"][0]["object"] is obj
    none = table_for("", "pods", [obj], now=NOW, include_object="None")
    assert none["rows"][0]["object"] is None
    blank = table_for("", "pods", [obj], now=NOW, include_object="")
    assert blank["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    with pytest.raises(InvalidTableOptions, match='Unsupported value: "Everything"'):
        table_for("", "pods", [obj], now=NOW, include_object="Everything")


def test_watch_events_after_the_first_omit_column_definitions() -> None:
    obj = pod({"phase": "Pending"})
    assert table_for("", "pods", [obj], now=NOW)["columnDefinitions"]
    assert table_for("", "pods", [obj], now=NOW, no_headers=True)["columnDefinitions"] is None


def test_partial_object_metadata_always_carries_a_creation_timestamp() -> None:
    obj = {"metadata": {"name": "bare"}}
    row = table_for("", "configmaps", [obj], now=NOW)["rows"][0]
    assert row["object"]["metadata"] == {"name": "bare", "creationTimestamp": None}
    assert obj["metadata"] == {"name": "bare"}


def test_a_naive_now_is_read_as_utc() -> None:
    obj = {"metadata": obj_meta("cfg")}
    naive = NOW.replace(tzinfo=None)
    assert table_for("", "configmaps", [obj], now=naive)["rows"][0]["cells"][2] == "5m"


def test_column_definitions_are_fresh_copies() -> None:
    column_definitions("", "pods")[0]["name"] = "Changed"
    assert column_definitions("", "pods")[0]["name"] == "Name"


# --- through kubectl -----------------------------------------------------------------

KUBECTL = Path(sys.executable).parent / "kubectl"


@pytest.fixture
def fake_api_server() -> Iterator[tuple[str, dict[str, list[dict[str, Any]]]]]:
    """A discovery-only API server whose pod and deployment lists are Tables."""
    store: dict[str, list[dict[str, Any]]] = {"pods": [], "deployments": []}
    groups = {"": ("v1", "pods", "Pod"), "apps": ("apps/v1", "deployments", "Deployment")}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            if path == "/api":
                body: Any = {"kind": "APIVersions", "versions": ["v1"]}
            elif path == "/apis":
                version = {"groupVersion": "apps/v1", "version": "v1"}
                apps = {"name": "apps", "versions": [version], "preferredVersion": version}
                body = {"kind": "APIGroupList", "apiVersion": "v1", "groups": [apps]}
            elif path in ("/api/v1", "/apis/apps/v1"):
                gv, resource, kind = groups["" if path == "/api/v1" else "apps"]
                entry = {"name": resource, "namespaced": True, "kind": kind, "verbs": ["list"]}
                body = {"kind": "APIResourceList", "groupVersion": gv, "resources": [entry]}
            else:
                resource = path.rsplit("/", 1)[-1]
                group = "apps" if path.startswith("/apis/apps") else ""
                body = table_for(
                    group,
                    resource,
                    store[resource],
                    now=datetime.now(UTC),
                    list_meta={"resourceVersion": "9"},
                )
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", store
    finally:
        server.shutdown()
        server.server_close()


def kubectl(server: str, home: Path, *args: str) -> str:
    config = home / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
        "users: [{name: u, user: {}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]\n"
        "current-context: x\n"
    )
    env = {**os.environ, "KUBECONFIG": str(config), "HOME": str(home)}
    done = subprocess.run(
        [str(KUBECTL), *args], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    return done.stdout


@pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl is not installed in the venv")
def test_kubectl_renders_the_tables_like_a_real_cluster(
    fake_api_server: tuple[str, dict[str, list[dict[str, Any]]]], tmp_path: Path
) -> None:
    server, store = fake_api_server
    created = (datetime.now(UTC) - timedelta(days=2, hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = {"name": "app", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}
    store["pods"] = [
        {
            "metadata": {"name": "batch-x", "creationTimestamp": created},
            "spec": {"containers": [{"name": "app"}], "nodeName": "node-1"},
            "status": {"phase": "Succeeded", "podIP": "10.0.0.4", "containerStatuses": [done]},
        }
    ]
    store["deployments"] = [
        {
            "metadata": {"name": "web", "creationTimestamp": created},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"readyReplicas": 3, "updatedReplicas": 3, "availableReplicas": 3},
        }
    ]
    assert kubectl(server, tmp_path, "get", "pods").splitlines() == [
        "NAME      READY   STATUS      RESTARTS   AGE",
        "batch-x   0/1     Completed   0          2d3h",
    ]
    wide = kubectl(server, tmp_path, "get", "pods", "-o", "wide").splitlines()
    assert wide[0].split() == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED",
        "NODE",
        "READINESS",
        "GATES",
    ]
    assert wide[1].split() == [
        "batch-x",
        "0/1",
        "Completed",
        "0",
        "2d3h",
        "10.0.0.4",
        "node-1",
        "<none>",
        "<none>",
    ]
    assert kubectl(server, tmp_path, "get", "deployments", "--no-headers").split() == [
        "web",
        "3/3",
        "3",
        "3",
        "2d3h",
    ]
