"""User data as EKS AMIs read it: bootstrap.sh scripts, NodeConfig documents, MIME."""

from __future__ import annotations

import pytest

from openeks.region.instances.controller import pod_block_prefix
from openeks.region.instances.userdata import JoinRequest, parse, render


def test_an_al2_bootstrap_script_names_the_cluster_labels_taints_and_max_pods() -> None:
    script = (
        "#!/bin/bash\nset -ex\n/etc/eks/bootstrap.sh prod --b64-cluster-ca abc "
        "--kubelet-extra-args '--node-labels=team=a,tier=web "
        "--register-with-taints=dedicated=a:NoSchedule --max-pods=20'\n"
    )
    assert parse(script) == JoinRequest(
        "prod", {"team": "a", "tier": "web"}, ("dedicated=a:NoSchedule",), 20
    )


def test_use_max_pods_false_means_kubelets_default() -> None:
    assert parse("/etc/eks/bootstrap.sh dev --use-max-pods false") == JoinRequest(
        "dev", {}, (), 110
    )


def test_rendered_nodeconfig_parses_back_the_same() -> None:
    text = render("prod", {"eks.amazonaws.com/nodegroup": "ng"}, ["k=v:NoExecute"], 17)
    assert text.startswith("MIME-Version: 1.0")
    assert parse(text) == JoinRequest(
        "prod", {"eks.amazonaws.com/nodegroup": "ng"}, ("k=v:NoExecute",), 17
    )


def test_a_bare_nodeconfig_document_is_understood() -> None:
    document = (
        "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"
        "spec:\n  cluster:\n    name: c1\n  kubelet:\n    flags: ['--node-labels=a=b']\n"
    )
    assert parse(document) == JoinRequest("c1", {"a": "b"})


@pytest.mark.parametrize("text", ["", "#!/bin/bash\necho hello\n", "just: yaml\n", "{bad"])
def test_user_data_naming_no_cluster_joins_nothing(text: str) -> None:
    assert parse(text) is None


@pytest.mark.parametrize(("max_pods", "prefix"), [(17, 27), (29, 27), (30, 26), (110, 25)])
def test_pod_blocks_hold_max_pods_plus_network_gateway_and_broadcast(
    max_pods: int, prefix: int
) -> None:
    assert pod_block_prefix(max_pods) == prefix
