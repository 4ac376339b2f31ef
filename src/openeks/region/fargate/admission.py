"""The Fargate mutating webhook: pods that match a Fargate profile go to the Fargate scheduler.

EKS installs a mutating admission webhook in every cluster with Fargate profiles; on pod
creation it finds the profile the pod matches (`selectors.match_profile`: namespace and
labels, wildcards, first profile by name unless the pod names one) and sets
`spec.schedulerName: fargate-scheduler` plus the label
`eks.amazonaws.com/fargate-profile: <profile>`. Pods of DaemonSets are left alone (a
DaemonSet is never placed on Fargate), as are pods already bound to a node or asking for
another scheduler by name.

`review` answers an `admission.k8s.io/v1` AdmissionReview; `configuration` is the
MutatingWebhookConfiguration the region installs in the cluster for it (failure policy
Ignore, as EKS's: a region that cannot be reached must not stop pod creation).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import orjson

from openeks.region.fargate.selectors import PROFILE_LABEL, match_profile, usable
from openeks.region.fargate.support import SCHEDULER_NAME, is_daemonset_pod

Doc = dict[str, Any]
WEBHOOK_NAME = "0500-amazon-eks-fargate-mutation.amazonaws.com"
DEFAULT_SCHEDULER = "default-scheduler"


def patch_for(pod: Doc, profiles: Iterable[Doc]) -> list[Doc]:
    """The JSON patch that sends `pod` to Fargate, or [] when no profile takes it."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName") or is_daemonset_pod(pod):
        return []
    if spec.get("schedulerName") not in (None, "", DEFAULT_SCHEDULER, SCHEDULER_NAME):
        return []
    profile = match_profile(usable(profiles), pod)
    if profile is None:
        return []
    ops: list[Doc] = [{"op": "add", "path": "/spec/schedulerName", "value": SCHEDULER_NAME}]
    if (pod.get("metadata") or {}).get("labels") is None:
        ops.append({"op": "add", "path": "/metadata/labels", "value": {}})
    ops.append(
        {
            "op": "add",
            "path": "/metadata/labels/" + PROFILE_LABEL.replace("~", "~0").replace("/", "~1"),
            "value": profile["fargateProfileName"],
        }
    )
    return ops


def review(request_body: Doc, profiles: Iterable[Doc]) -> Doc:
    """An AdmissionReview response for an AdmissionReview request."""
    request = request_body.get("request") or {}
    response: Doc = {"uid": request.get("uid", ""), "allowed": True}
    pod = request.get("object")
    if request.get("operation") == "CREATE" and isinstance(pod, dict):
        pod = {**pod, "metadata": {**(pod.get("metadata") or {})}}
        pod["metadata"].setdefault("namespace", request.get("namespace", ""))
        ops = patch_for(pod, profiles)
        if ops:
            response["patchType"] = "JSONPatch"
            response["patch"] = base64.b64encode(orjson.dumps(ops)).decode()
    return {
        "apiVersion": request_body.get("apiVersion", "admission.k8s.io/v1"),
        "kind": "AdmissionReview",
        "response": response,
    }


def configuration(url: str, ca_pem: bytes) -> Doc:
    """The MutatingWebhookConfiguration that sends pod creations to `url`."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": WEBHOOK_NAME},
        "webhooks": [
            {
                "name": WEBHOOK_NAME,
                "clientConfig": {"url": url, "caBundle": base64.b64encode(ca_pem).decode()},
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["pods"],
                        "scope": "Namespaced",
                    }
                ],
                "failurePolicy": "Ignore",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": 5,
            }
        ],
    }
