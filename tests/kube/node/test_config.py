"""Node agent settings: kubelet's --node-labels and --register-with-taints syntax and errors."""

from __future__ import annotations

import argparse
import base64
from pathlib import Path

import pytest

from openeks.kube.node.config import (
    NodeConfig,
    add_arguments,
    config_from_args,
    parse_labels,
    parse_taints,
)


def test_labels_parse_like_kubelet_node_labels() -> None:
    assert parse_labels("") == {}
    assert parse_labels("team=blue, tier = web ,empty=") == {
        "team": "blue",
        "tier": "web",
        "empty": "",
    }
    assert parse_labels("node.kubernetes.io/lifecycle=spot") == {
        "node.kubernetes.io/lifecycle": "spot"
    }


def test_a_pair_without_equals_is_malformed() -> None:
    with pytest.raises(ValueError, match=r"^malformed pair, expect string=string$"):
        parse_labels("team=blue,oops")


def test_labels_a_kubelet_may_not_set_are_refused() -> None:
    with pytest.raises(ValueError) as e:
        parse_labels("node-role.kubernetes.io/worker=,app.kubernetes.io/name=x")
    assert str(e.value).startswith(
        "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: "
        "[app.kubernetes.io/name node-role.kubernetes.io/worker]\n"
        "--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix "
        "(kubelet.kubernetes.io, node.kubernetes.io)"
    )


def test_invalid_label_keys_and_values_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^invalid node labels: 'bad key!' - name part must"):
        parse_labels("bad key!=x")
    with pytest.raises(ValueError, match="'-nope' - a valid label must be"):
        parse_labels("ok=-nope")


def test_taints_parse_with_and_without_values() -> None:
    assert parse_taints("dedicated=gpu:NoSchedule,spot:NoExecute,x=y:PreferNoSchedule") == [
        {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
        {"key": "spot", "effect": "NoExecute"},
        {"key": "x", "value": "y", "effect": "PreferNoSchedule"},
    ]
    assert parse_taints("") == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("k=v:Sometimes", "invalid taint effect: Sometimes, unsupported taint effect"),
        ("k", "invalid taint spec: k"),
        ("a=b=c:NoSchedule", "invalid taint spec: a=b=c:NoSchedule"),
        ("a:b:c", "invalid taint spec: a:b:c"),
        ("bad key:NoSchedule", "invalid taint spec: bad key:NoSchedule, name part must"),
        (
            "k=v:NoSchedule,k=w:NoSchedule",
            "duplicated taints with the same key and effect: {k w NoSchedule <nil>}",
        ),
    ],
)
def test_bad_taints_get_upstream_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_taints(spec)
    assert str(e.value).startswith(message)


def test_the_region_defaults_to_the_zone_without_its_letter() -> None:
    config = NodeConfig(client=None, name="n", zone="eu-west-3b")  # type: ignore[arg-type]
    assert config.resolved_region == "eu-west-3"
    assert NodeConfig(client=None, name="n", zone="local").resolved_region == "local"  # type: ignore[arg-type]
    assert config.lease_renew_interval == 10.0


def _kubeconfig(path: Path) -> Path:
    ca = base64.b64encode(b"not-a-real-ca").decode()
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n"
        f"    certificate-authority-data: {ca}\n"
        "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"
        "users:\n- name: u\n  user:\n    token: abc\n"
    )
    return path


def test_the_command_line_builds_a_config(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--kubeconfig",
            str(_kubeconfig(tmp_path / "kc")),
            "--name",
            "ip-10-0-1-5",
            "--zone",
            "us-west-2c",
            "--instance-type",
            "c5.large",
            "--runtime",
            "simulated",
            "--labels",
            "team=blue",
            "--taints",
            "spot:NoSchedule",
            "--pod-cidr",
            "10.244.3.0/24",
            "--address",
            "127.0.0.5",
            "--port",
            "10250",
        ]
    )
    config = config_from_args(args)
    assert config.name == "ip-10-0-1-5"
    assert config.client.server == "https://127.0.0.1:6443"
    assert config.client.ca_data == b"not-a-real-ca"
    assert config.resolved_region == "us-west-2"
    assert config.instance_type == "c5.large"
    assert config.runtime == "simulated"
    assert config.labels == {"team": "blue"}
    assert config.taints == [{"key": "spot", "effect": "NoSchedule"}]
    assert config.data_dir == Path(".openeks/node/ip-10-0-1-5")
    assert (config.pod_cidr, config.address, config.port) == ("10.244.3.0/24", "127.0.0.5", 10250)


def test_the_command_line_rejects_bad_labels(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--kubeconfig", str(_kubeconfig(tmp_path / "kc")), "--name", "n", "--labels", "x"]
    )
    with pytest.raises(ValueError, match="malformed pair"):
        config_from_args(args)
