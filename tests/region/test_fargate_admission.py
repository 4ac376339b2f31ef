"""The Fargate mutating webhook's decisions and its AdmissionReview answers."""

from __future__ import annotations

import base64
import json
from typing import Any

from openeks.region.fargate.admission import configuration, patch_for, review

PROFILES = [
    {"fargateProfileName": "b-web", "status": "ACTIVE",
     "selectors": [{"namespace": "web", "labels": {"tier": "front*"}}]},
    {"fargateProfileName": "a-any", "status": "ACTIVE", "selectors": [{"namespace": "web"}]},
    {"fargateProfileName": "c-new", "status": "CREATING", "selectors": [{"namespace": "jobs"}]},
]  # fmt: skip


def pod(namespace: str = "web", labels: dict[str, str] | None = None, **spec: Any) -> Any:
    meta: dict[str, Any] = {"name": "p", "namespace": namespace}
    if labels is not None:
        meta["labels"] = labels
    return {"metadata": meta, "spec": {"containers": [{"name": "c", "image": "x"}], **spec}}


def test_a_matching_pod_goes_to_the_first_profile_by_name() -> None:
    label = "/metadata/labels/eks.amazonaws.com~1fargate-profile"
    assert patch_for(pod(labels={"tier": "frontend"}), PROFILES) == [
        {"op": "add", "path": "/spec/schedulerName", "value": "fargate-scheduler"},
        {"op": "add", "path": label, "value": "a-any"},
    ]


def test_a_pod_naming_its_profile_gets_it_and_labels_are_created_when_missing() -> None:
    named = pod(labels={"tier": "frontend", "eks.amazonaws.com/fargate-profile": "b-web"})
    assert patch_for(named, PROFILES)[-1]["value"] == "b-web"
    ops = patch_for(pod(), PROFILES)
    assert {"op": "add", "path": "/metadata/labels", "value": {}} in ops


def test_pods_left_alone() -> None:
    daemon = pod()
    daemon["metadata"]["ownerReferences"] = [{"kind": "DaemonSet", "name": "d", "uid": "u"}]
    assert patch_for(daemon, PROFILES) == []
    assert patch_for(pod(namespace="other"), PROFILES) == []
    assert patch_for(pod(namespace="jobs"), PROFILES) == []  # profile not ACTIVE yet
    assert patch_for(pod(nodeName="n1"), PROFILES) == []
    assert patch_for(pod(schedulerName="my-scheduler"), PROFILES) == []


def test_review_answers_with_a_base64_json_patch_for_creations_only() -> None:
    request = {"uid": "123", "operation": "CREATE", "namespace": "web",
               "object": {"metadata": {"name": "p"}, "spec": {"containers": []}}}  # fmt: skip
    answer = review({"apiVersion": "admission.k8s.io/v1", "request": request}, PROFILES)
    response = answer["response"]
    assert response["uid"] == "123" and response["allowed"] is True
    assert response["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(response["patch"]))[0]["value"] == "fargate-scheduler"
    update = review({"request": {**request, "operation": "UPDATE"}}, PROFILES)["response"]
    assert "patch" not in update and update["allowed"] is True


def test_the_webhook_configuration_ignores_failures() -> None:
    config = configuration("https://127.100.0.9:8443/x", b"PEM")
    hook = config["webhooks"][0]
    assert hook["failurePolicy"] == "Ignore"
    assert base64.b64decode(hook["clientConfig"]["caBundle"]) == b"PEM"
    assert hook["rules"][0]["resources"] == ["pods"]
