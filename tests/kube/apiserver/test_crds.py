"""Custom resources with real kubectl: define, serve, validate, print, scale, delete."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Size
      type: integer
      jsonPath: .spec.size
    - name: Color
      type: string
      jsonPath: .spec.color
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1, maximum: 10}
              color: {type: string, enum: [red, blue], default: red}
              replicas: {type: integer}
          status:
            type: object
            properties:
              replicas: {type: integer}
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"""


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with ApiServerProcess(tmp_path_factory.mktemp("crds")) as api:
        k = Kubectl(api.kubeconfig, tmp_path_factory.mktemp("home"))
        k("apply", "-f", "-", input=CRD)
        k.run("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s")
        yield k


def widget(name: str, spec: str) -> str:
    return f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: {name}}}\nspec: {spec}\n"


def test_custom_resources_are_created_listed_and_printed(kubectl: Kubectl) -> None:
    assert "widget.example.com/small created" in kubectl(
        "apply", "-f", "-", input=widget("small", "{size: 3}")
    )
    table = kubectl("get", "widgets")
    assert table.splitlines()[0].split() == ["NAME", "SIZE", "COLOR", "AGE"]
    assert table.splitlines()[1].split()[:3] == ["small", "3", "red"], "the default fills color"
    assert "small" in kubectl("get", "wd")
    assert "widget.example.com/small" in kubectl("get", "all")
    resources = kubectl("api-resources", "--api-group=example.com")
    assert "widgets" in resources and "wd" in resources
    explained = kubectl("explain", "widgets.spec")
    assert "size" in explained and "color" in explained


def test_invalid_custom_resources_are_422_with_the_schema_path(kubectl: Kubectl) -> None:
    too_big = kubectl.fails("apply", "-f", "-", input=widget("big", "{size: 11}"))
    assert (
        "spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"
        in too_big.stderr
    )
    wrong = kubectl.fails("apply", "-f", "-", input=widget("pink", "{size: 2, color: pink}"))
    assert 'spec.color: Unsupported value: "pink": supported values: "red", "blue"' in wrong.stderr
    missing = kubectl.fails("apply", "-f", "-", input=widget("none", "{color: red}"))
    assert "spec.size: Required value" in missing.stderr
    typed = kubectl.fails("apply", "-f", "-", input=widget("typed", '{size: "three"}'))
    assert "spec.size in body must be of type integer" in typed.stderr
    unknown = kubectl.fails("apply", "-f", "-", input=widget("extra", "{size: 2, shape: round}"))
    assert 'unknown field "spec.shape"' in unknown.stderr


def test_status_and_scale_subresources(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=widget("scaled", "{size: 2, replicas: 1}"))
    assert "scaled" in kubectl("scale", "widget", "scaled", "--replicas=4")
    assert kubectl("get", "widget", "scaled", "-o", "jsonpath={.spec.replicas}") == "4"
    kubectl(
        "patch",
        "widget",
        "scaled",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"replicas":4}}',
    )
    got = json.loads(kubectl("get", "widget", "scaled", "-o", "json"))
    assert got["status"]["replicas"] == 4 and got["metadata"]["generation"] == 2


def test_other_versions_are_served_from_the_same_objects(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=widget("versioned", "{size: 5}"))
    beta = json.loads(kubectl("get", "widgets.v1beta1.example.com", "versioned", "-o", "json"))
    assert beta["apiVersion"] == "example.com/v1beta1" and beta["spec"]["size"] == 5


def test_deleting_the_crd_removes_its_objects(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=widget("doomed", "{size: 1}"))
    kubectl("delete", "crd", "widgets.example.com", "--timeout=60s")
    deadline = time.monotonic() + 10
    while "widgets" in kubectl("api-resources"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    kubectl("apply", "-f", "-", input=CRD)
    kubectl.run("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s")
    assert "doomed" not in kubectl("get", "widgets", "-A")


def test_custom_resources_are_served_again_after_a_restart(
    tmp_path: pytest.TempPathFactory,
) -> None:
    api = ApiServerProcess(tmp_path / "kube")  # type: ignore[operator]
    api.start()
    try:
        k = Kubectl(api.kubeconfig, tmp_path / "home")  # type: ignore[operator]
        k("apply", "-f", "-", input=CRD)
        k.run("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s")
        k("apply", "-f", "-", input=widget("kept", "{size: 4}"))
        api.stop(kill=True)
        api.start()
        assert k("get", "widget", "kept", "-o", "jsonpath={.spec.size}") == "4"
    finally:
        api.stop()
