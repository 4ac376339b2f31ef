"""Which Fargate profile a pod matches: namespaces and labels with `*` and `?`, every
selector label required, the first profile by name, the pod's own choice, DaemonSets and
unsupported pods."""

from __future__ import annotations

from typing import Any

import pytest

from openeks.region.fargate.selectors import (
    PROFILE_LABEL,
    match_profile,
    profile_label,
    selector_matches,
    usable,
    wildcard_match,
)
from openeks.region.fargate.support import (
    is_daemonset_pod,
    unsupported_message,
    unsupported_reasons,
)


def profile(name: str, *selectors: dict[str, Any], status: str = "ACTIVE") -> dict[str, Any]:
    return {"fargateProfileName": name, "selectors": list(selectors), "status": status}


def pod(namespace: str = "default", **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": namespace, "labels": labels}, "spec": {}}


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("prod", "prod", True),
        ("prod", "Prod", False),
        ("prod*", "prod", True),
        ("prod*", "prod-metrics", True),
        ("*dev", "team-dev", True),
        ("*dev", "dev-team", False),
        ("value?", "valuea", True),
        ("value?", "value", False),
        ("value?", "value-a", False),
        ("frontend*?", "frontend", False),
        ("frontend*?", "frontend1", True),
        ("a.c", "abc", False),
        ("[ab]", "a", False),
        ("[ab]", "[ab]", True),
        ("*", "", True),
    ],
)
def test_wildcards_are_star_and_question_mark_only(pattern: str, text: str, expected: bool) -> None:
    assert wildcard_match(pattern, text) is expected


def test_a_selector_needs_its_namespace_and_every_label() -> None:
    selector = {"namespace": "web-*", "labels": {"tier": "front", "app": "shop"}}
    assert selector_matches(selector, "web-1", {"tier": "front", "app": "shop", "x": "y"})
    assert not selector_matches(selector, "web-1", {"tier": "front"})
    assert not selector_matches(selector, "api", {"tier": "front", "app": "shop"})
    assert selector_matches({"namespace": "web-*"}, "web-2", {})


def test_label_keys_and_values_take_wildcards() -> None:
    selector = {"namespace": "*", "labels": {"key?": "value?"}}
    assert selector_matches(selector, "any", {"keya": "valuea"})
    assert selector_matches(selector, "any", {"other": "x", "keyb": "valueb"})
    assert not selector_matches(selector, "any", {"keya": "value"})
    assert not selector_matches(selector, "any", {"key": "valuea"})


def test_the_first_matching_profile_by_name_wins() -> None:
    profiles = [
        profile("prod-workload", {"namespace": "serverless"}),
        profile("beta-workload", {"namespace": "server*"}),
        profile("alpha-other", {"namespace": "elsewhere"}),
    ]
    chosen = match_profile(profiles, pod("serverless"))
    assert chosen is not None and chosen["fargateProfileName"] == "beta-workload"
    assert profile_label(chosen) == {PROFILE_LABEL: "beta-workload"}
    assert match_profile(profiles, pod("default")) is None


def test_any_selector_of_a_profile_may_match() -> None:
    profiles = [profile("fp", {"namespace": "a"}, {"namespace": "b", "labels": {"run": "fg"}})]
    assert match_profile(profiles, pod("b", run="fg")) is not None
    assert match_profile(profiles, pod("b")) is None


def test_the_pod_label_names_its_profile_if_it_matches() -> None:
    profiles = [
        profile("a-first", {"namespace": "serverless"}),
        profile("z-last", {"namespace": "serverless"}),
        profile("other", {"namespace": "jobs"}),
    ]
    named = match_profile(profiles, pod("serverless", **{PROFILE_LABEL: "z-last"}))
    assert named is not None and named["fargateProfileName"] == "z-last"
    assert match_profile(profiles, pod("serverless", **{PROFILE_LABEL: "other"})) is None
    gone = match_profile(profiles, pod("serverless", **{PROFILE_LABEL: "deleted"}))
    assert gone is not None and gone["fargateProfileName"] == "a-first"


def test_only_active_profiles_are_usable() -> None:
    profiles = [
        profile("creating", {"namespace": "*"}, status="CREATING"),
        profile("deleting", {"namespace": "*"}, status="DELETING"),
        profile("live", {"namespace": "*"}),
    ]
    assert [p["fargateProfileName"] for p in usable(profiles)] == ["live"]


def test_daemonset_pods_never_match() -> None:
    daemon = pod("serverless")
    daemon["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "controller": True}
    ]
    assert is_daemonset_pod(daemon)
    assert match_profile([profile("fp", {"namespace": "*"})], daemon) is None


def test_unsupported_pods_get_eks_reasons_in_order() -> None:
    bad = pod("serverless")
    bad["spec"] = {
        "hostNetwork": True,
        "containers": [
            {
                "name": "c",
                "securityContext": {"privileged": True},
                "ports": [{"containerPort": 80, "hostPort": 80}],
            }
        ],
        "volumes": [{"name": "data", "hostPath": {"path": "/data"}}],
    }
    assert unsupported_reasons(bad) == [
        "fields not supported: HostNetwork",
        "invalid SecurityContext fields: Privileged",
        "port contains HostIP or HostPort",
        "volumes not supported: data is of an unsupported volume Type",
    ]
    assert unsupported_message(bad) == (
        "Pod not supported on Fargate: fields not supported: HostNetwork, invalid "
        "SecurityContext fields: Privileged, port contains HostIP or HostPort, volumes not "
        "supported: data is of an unsupported volume Type"
    )


def test_ordinary_pods_are_supported() -> None:
    fine = pod("serverless")
    fine["spec"] = {
        "containers": [{"name": "c", "ports": [{"containerPort": 80}]}],
        "initContainers": [{"name": "i", "securityContext": {"privileged": False}}],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    assert unsupported_reasons(fine) == [] and unsupported_message(fine) is None
    init_privileged = pod()
    init_privileged["spec"] = {"initContainers": [{"securityContext": {"privileged": True}}]}
    assert unsupported_reasons(init_privileged) == ["invalid SecurityContext fields: Privileged"]
