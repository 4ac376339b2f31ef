"""The Pod Security Standards checks give upstream's reasons and details, in its order."""

from __future__ import annotations

from typing import Any

import pytest

from openeks.kube.api import podsecurity as ps

Obj = dict[str, Any]
LATEST_RESTRICTED = ps.LevelVersion(ps.RESTRICTED)
LATEST_BASELINE = ps.LevelVersion(ps.BASELINE)

RESTRICTED_OK: Obj = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "c",
            "image": "nginx",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
}


def detail(lv: ps.LevelVersion, spec: Obj, meta: Obj | None = None) -> str:
    return ps.check_pod(lv, meta or {}, spec).forbidden_detail()


def test_a_bare_pod_violates_restricted_with_upstreams_message() -> None:
    spec = {"containers": [{"name": "c", "image": "nginx"}]}
    assert detail(LATEST_RESTRICTED, spec) == (
        'allowPrivilegeEscalation != false (container "c" must set '
        "securityContext.allowPrivilegeEscalation=false), "
        'unrestricted capabilities (container "c" must set '
        'securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to '
        '"RuntimeDefault" or "Localhost")'
    )
    assert ps.check_pod(LATEST_BASELINE, {}, spec).allowed


def test_a_restricted_pod_passes_every_level() -> None:
    for level in ps.LEVELS:
        assert ps.check_pod(ps.LevelVersion(level), {}, RESTRICTED_OK).allowed


def test_baseline_violations_come_first_in_check_id_order() -> None:
    spec = {
        "hostNetwork": True,
        "hostPID": True,
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
        "containers": [
            {
                "name": "c",
                "image": "nginx",
                "ports": [{"containerPort": 80, "hostPort": 8080}, {"hostPort": 443}],
                "securityContext": {"privileged": True, "capabilities": {"add": ["NET_ADMIN"]}},
            }
        ],
    }
    assert detail(LATEST_BASELINE, spec) == (
        'non-default capabilities (container "c" must not include "NET_ADMIN" in '
        "securityContext.capabilities.add), host namespaces (hostNetwork=true, hostPID=true), "
        'hostPath volumes (volume "root"), hostPort (container "c" uses hostPorts 443, 8080), '
        'privileged (container "c" must not set securityContext.privileged=true)'
    )
    restricted = ps.check_pod(LATEST_RESTRICTED, {}, spec)
    assert restricted.reasons == [
        "host namespaces",
        "hostPort",
        "privileged",
        "allowPrivilegeEscalation != false",
        "unrestricted capabilities",
        "restricted volume types",
        "runAsNonRoot != true",
        "seccompProfile",
    ]
    assert 'volume "root" uses restricted volume type "hostPath"' in restricted.details[5]


@pytest.mark.parametrize(
    ("spec", "reason", "text"),
    [
        (
            {"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": []},
            "seccompProfile",
            'pod must not set securityContext.seccompProfile.type to "Unconfined"',
        ),
        (
            {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}},
            "forbidden sysctls",
            "kernel.msgmax",
        ),
        (
            {"containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}]},
            "procMount",
            'container "a" must not set securityContext.procMount to "Unmasked"',
        ),
        (
            {"containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "x"}}}]},
            "seLinuxOptions",
            'container "a" set forbidden securityContext.seLinuxOptions: type "x"',
        ),
        (
            {"securityContext": {"seLinuxOptions": {"user": "u", "role": "r"}}},
            "seLinuxOptions",
            "pod set forbidden securityContext.seLinuxOptions: user may not be set; "
            "role may not be set",
        ),
        (
            {
                "containers": [
                    {"name": "a", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}
                ]
            },
            "forbidden AppArmor profile",
            'container "a" must not set AppArmor profile type to "Unconfined"',
        ),
        (
            {"securityContext": {"windowsOptions": {"hostProcess": True}}},
            "hostProcess",
            "pod must not set securityContext.windowsOptions.hostProcess=true",
        ),
        (
            {"containers": [{"name": "a", "livenessProbe": {"httpGet": {"host": "10.0.0.1"}}}]},
            "probe or lifecycle host",
            'container "a" uses probe or lifecycle host "10.0.0.1"',
        ),
    ],
)
def test_baseline_checks(spec: Obj, reason: str, text: str) -> None:
    result = ps.check_pod(LATEST_BASELINE, {}, spec)
    assert result.reasons == [reason]
    assert result.details == [text]


def test_apparmor_annotations_are_checked_too() -> None:
    meta = {"annotations": {"container.apparmor.security.beta.kubernetes.io/a": "unconfined"}}
    result = ps.check_pod(LATEST_BASELINE, meta, {"containers": [{"name": "a"}]})
    assert result.details == [
        "annotation must not set AppArmor profile type to "
        '"container.apparmor.security.beta.kubernetes.io/a="unconfined""'
    ]


def test_restricted_details_for_explicit_bad_values() -> None:
    spec = {
        "securityContext": {"runAsNonRoot": False, "runAsUser": 0},
        "initContainers": [{"name": "init", "securityContext": {"runAsUser": 0}}],
        "containers": [
            {
                "name": "c",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN", "NET_BIND_SERVICE"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            }
        ],
        "volumes": [{"name": "cfg", "configMap": {"name": "x"}}, {"name": "n", "nfs": {}}],
    }
    result = ps.check_pod(LATEST_RESTRICTED, {}, spec)
    assert dict(zip(result.reasons, result.details, strict=True)) == {
        "allowPrivilegeEscalation != false": 'container "init" must set '
        "securityContext.allowPrivilegeEscalation=false",
        "unrestricted capabilities": 'container "init" must set securityContext.capabilities.'
        'drop=["ALL"]; container "c" must not include "SYS_ADMIN" in '
        "securityContext.capabilities.add",
        "restricted volume types": 'volume "n" uses restricted volume type "nfs"',
        "runAsNonRoot != true": "pod must not set securityContext.runAsNonRoot=false",
        "runAsUser=0": 'pod and container "init" must not set runAsUser=0',
        "seccompProfile": 'pod or container "init" must set securityContext.seccompProfile.type '
        'to "RuntimeDefault" or "Localhost"',
    }


def test_versions_select_check_revisions() -> None:
    spec = {
        "containers": [{"name": "c", "securityContext": {"capabilities": {"add": ["NET_RAW"]}}}]
    }
    # capabilities_restricted exists from v1.22; before it, the baseline check applies.
    old = ps.check_pod(ps.LevelVersion(ps.RESTRICTED, (1, 21)), {}, spec)
    assert "non-default capabilities" in old.reasons
    assert "unrestricted capabilities" not in old.reasons
    new = ps.check_pod(ps.LevelVersion(ps.RESTRICTED, (1, 22)), {}, spec)
    assert "unrestricted capabilities" in new.reasons
    # the probe host check is 1.34+
    probe = {"containers": [{"name": "a", "readinessProbe": {"tcpSocket": {"host": "h"}}}]}
    assert ps.check_pod(ps.LevelVersion(ps.BASELINE, (1, 33)), {}, probe).allowed
    assert not ps.check_pod(ps.LevelVersion(ps.BASELINE, (1, 34)), {}, probe).allowed
    # a sysctl made safe in 1.37
    sysctl = {"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_notsent_lowat"}]}}
    assert not ps.check_pod(ps.LevelVersion(ps.BASELINE, (1, 36)), {}, sysctl).allowed
    assert ps.check_pod(LATEST_BASELINE, {}, sysctl).allowed


def test_user_namespace_pods_are_relaxed_from_1_35() -> None:
    spec = {
        **RESTRICTED_OK,
        "hostUsers": False,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
    }
    spec["containers"] = [
        {
            **RESTRICTED_OK["containers"][0],
            "securityContext": {
                **RESTRICTED_OK["containers"][0]["securityContext"],
                "runAsUser": 0,
                "procMount": "Unmasked",
            },
        }
    ]
    assert ps.check_pod(ps.LevelVersion(ps.RESTRICTED, (1, 34)), {}, spec).reasons == [
        "procMount",
        "runAsNonRoot != true",
        "runAsUser=0",
    ]
    assert ps.check_pod(LATEST_RESTRICTED, {}, spec).reasons == ["procMount"]
    assert ps.check_pod(LATEST_BASELINE, {}, spec).allowed


def test_windows_pods_are_exempt_from_linux_only_restricted_checks() -> None:
    spec = {
        "os": {"name": "windows"},
        "securityContext": {"runAsNonRoot": True},
        "containers": [{"name": "w"}],
    }
    assert ps.check_pod(LATEST_RESTRICTED, {}, spec).allowed


def test_labels_parse_into_a_policy() -> None:
    policy, errs = ps.policy_for(
        {
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/enforce-version": "v1.30",
            "pod-security.kubernetes.io/warn": "restricted",
        }
    )
    assert not errs
    assert str(policy.enforce) == "baseline:v1.30"
    assert str(policy.warn) == "restricted:latest"
    assert str(policy.audit) == "privileged:latest"
    assert ps.policy_for({})[0].fully_privileged()


def test_an_enforce_level_without_a_warn_level_also_warns() -> None:
    label = ps.LABEL_PREFIX
    policy, _ = ps.policy_for({label + "enforce": "baseline", label + "enforce-version": "v1.22"})
    assert str(policy.warn) == "baseline:v1.22"
    policy, _ = ps.policy_for({label + "enforce": "baseline", label + "warn-version": "v1.23"})
    assert str(policy.warn) == "baseline:v1.23"
    policy, _ = ps.policy_for({label + "enforce": "baseline", label + "warn": "privileged"})
    assert str(policy.warn) == "privileged:latest"
    policy, errs = ps.policy_for({label + "enforce": "baseline", label + "warn": "foo"})
    assert str(policy.warn) == "privileged:latest" and errs


def test_bad_labels_fail_closed_for_enforce_and_open_for_warn() -> None:
    policy, errs = ps.policy_for(
        {
            "pod-security.kubernetes.io/enforce": "strict",
            "pod-security.kubernetes.io/warn": "strict",
            "pod-security.kubernetes.io/audit-version": "1.25",
        }
    )
    assert policy.enforce.level == ps.RESTRICTED
    assert policy.warn.level == ps.PRIVILEGED
    assert [str(e) for e in errs] == [
        'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": '
        "must be one of privileged, baseline, restricted",
        'metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "1.25": '
        'must be "latest" or "v1.x"',
        'metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "strict": '
        "must be one of privileged, baseline, restricted",
    ]
