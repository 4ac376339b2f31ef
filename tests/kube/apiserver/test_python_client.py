"""The official `kubernetes` Python client against a running API server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.support.apiserver import ApiServerProcess

ROOT_CA = "kube-root-ca.crt"


@pytest.fixture(scope="module")
def api(apiserver: ApiServerProcess) -> Iterator[client.ApiClient]:
    with client.ApiClient(
        config.new_client_from_config(str(apiserver.kubeconfig)).configuration
    ) as api_client:
        yield api_client


def _deployment(name: str, replicas: int = 1) -> client.V1Deployment:
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels={"app": name}),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": name}),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="c", image="busybox:1.36")]
                ),
            ),
        ),
    )


def test_create_replace_patch_scale_and_delete_a_deployment(
    api: client.ApiClient, namespace: str
) -> None:
    apps = client.AppsV1Api(api)
    created = apps.create_namespaced_deployment(namespace, _deployment("pyweb"))
    assert created.metadata.uid and created.spec.replicas == 1
    assert created.spec.strategy.type == "RollingUpdate"
    created.spec.template.spec.containers[0].image = "busybox:1.37"
    replaced = apps.replace_namespaced_deployment("pyweb", namespace, created)
    assert replaced.metadata.generation == 2
    scaled = apps.patch_namespaced_deployment_scale("pyweb", namespace, {"spec": {"replicas": 3}})
    assert scaled.spec.replicas == 3
    assert apps.read_namespaced_deployment_scale("pyweb", namespace).spec.replicas == 3
    assert apps.read_namespaced_deployment("pyweb", namespace).spec.replicas == 3
    apps.delete_namespaced_deployment("pyweb", namespace)
    with pytest.raises(ApiException) as missing:
        apps.read_namespaced_deployment("pyweb", namespace)
    assert missing.value.status == 404


def test_list_then_watch_sees_every_change(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="before"), data={"a": "1"})
    )
    listed = core.list_namespaced_config_map(namespace)
    # Every namespace also holds kube-root-ca.crt (published by the API server here).
    assert [c.metadata.name for c in listed.items if c.metadata.name != ROOT_CA] == ["before"]
    seen: list[tuple[str, str]] = []
    w = watch.Watch()

    def consume() -> None:
        for event in w.stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=listed.metadata.resource_version,
            timeout_seconds=20,
        ):
            if event["object"].metadata.name == ROOT_CA:
                continue
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) >= 3:
                w.stop()

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.5)
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="after"), data={"a": "1"})
    )
    core.patch_namespaced_config_map("after", namespace, {"data": {"a": "2"}})
    core.delete_namespaced_config_map("before", namespace)
    thread.join(30)
    assert seen == [("ADDED", "after"), ("MODIFIED", "after"), ("DELETED", "before")]


def test_conflicting_update_is_409(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    cm = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cas"), data={"a": "1"})
    )
    core.patch_namespaced_config_map("cas", namespace, {"data": {"a": "2"}})
    cm.data = {"a": "3"}
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("cas", namespace, cm)
    assert conflict.value.status == 409
    assert '"reason":"Conflict"' in conflict.value.body.replace(" ", "")


def test_paginated_list_returns_every_item_once(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    for i in range(25):
        core.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"page-{i:02d}"))
        )
    names: list[str] = []
    token = None
    while True:
        page = core.list_namespaced_config_map(namespace, limit=10, _continue=token)
        names += [c.metadata.name for c in page.items if c.metadata.name != ROOT_CA]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count is not None
    assert names == [f"page-{i:02d}" for i in range(25)]
