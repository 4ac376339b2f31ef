"""What an instance's user data asks of it: which cluster to join, with which kubelet flags.

EKS-optimised AMIs read their user data at boot, and so do our instances. Two forms are
understood, as the two AMI families use them:

- AL2's shell script calling `/etc/eks/bootstrap.sh <cluster> [options]`, where
  `--kubelet-extra-args '--node-labels=k=v,... --register-with-taints=k=v:Effect,...'`
  carries labels and taints (and `--max-pods=N`, `--use-max-pods false` are honoured).
- AL2023's `NodeConfig` document (`apiVersion: node.eks.aws/v1alpha1`), on its own or as
  the `application/node.eks.aws` part of a MIME multi-part message (the form managed
  node groups write): `spec.cluster.name`, `spec.kubelet.flags`,
  `spec.kubelet.config.maxPods`.

`render` writes the MIME form for the node groups the region launches, so managed and
self-managed instances take the same path. Anything else (no cluster named) is a plain
EC2 instance that joins nothing.
"""

from __future__ import annotations

import email
import email.policy
import shlex
from dataclasses import dataclass, field
from typing import Any

import yaml

NODECONFIG_TYPE = "application/node.eks.aws"
BOUNDARY = "//"


@dataclass(frozen=True)
class JoinRequest:
    cluster: str
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[str, ...] = ()
    """In kubelet's `--register-with-taints` form, `key=value:Effect`."""
    max_pods: int | None = None


def parse(user_data: str) -> JoinRequest | None:
    """The join request in `user_data`, or None when it names no cluster."""
    text = user_data.strip()
    if not text:
        return None
    if text.startswith(("MIME-Version", "Content-Type")):
        for part in _mime_parts(text):
            found = parse(part)
            if found is not None:
                return found
        return None
    if text.startswith("#!") or "bootstrap.sh" in text:
        return _from_script(text)
    return _from_nodeconfig(text)


def render(
    cluster: str, labels: dict[str, str], taints: list[str], max_pods: int | None = None
) -> str:
    """A MIME multi-part user data with one NodeConfig, as managed node groups write it."""
    flags = []
    if labels:
        flags.append("--node-labels=" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())))
    if taints:
        flags.append("--register-with-taints=" + ",".join(taints))
    spec: dict[str, Any] = {"cluster": {"name": cluster}, "kubelet": {"flags": flags}}
    if max_pods is not None:
        spec["kubelet"]["config"] = {"maxPods": max_pods}
    document = yaml.safe_dump(
        {"apiVersion": "node.eks.aws/v1alpha1", "kind": "NodeConfig", "spec": spec},
        sort_keys=False,
    )
    return (
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"\n\n'
        f"--{BOUNDARY}\nContent-Type: {NODECONFIG_TYPE}\n\n---\n{document}\n--{BOUNDARY}--\n"
    )


def _mime_parts(text: str) -> list[str]:
    message = email.message_from_string(text, policy=email.policy.default)
    parts = message.walk() if message.is_multipart() else iter([message])
    out = []
    for part in parts:
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out.append(payload.decode(errors="replace"))
    return out


def _from_nodeconfig(text: str) -> JoinRequest | None:
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return None
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != "NodeConfig":
            continue
        spec = doc.get("spec") or {}
        name = (spec.get("cluster") or {}).get("name")
        if not isinstance(name, str) or not name:
            continue
        kubelet = spec.get("kubelet") or {}
        request = _from_flags(name, [str(f) for f in kubelet.get("flags") or ()])
        max_pods = (kubelet.get("config") or {}).get("maxPods")
        if isinstance(max_pods, int):
            request = JoinRequest(request.cluster, request.labels, request.taints, max_pods)
        return request
    return None


def _from_script(text: str) -> JoinRequest | None:
    for line in text.replace("\\\n", " ").splitlines():
        if "bootstrap.sh" not in line:
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        at = next((i for i, w in enumerate(words) if w.endswith("bootstrap.sh")), None)
        if at is None or at + 1 >= len(words):
            continue
        return _bootstrap_args(words[at + 1 :])
    return None


def _bootstrap_args(args: list[str]) -> JoinRequest:
    cluster = args[0]
    flags: list[str] = []
    max_pods: int | None = None
    use_max_pods = True
    i = 1
    while i < len(args):
        option = args[i]
        value = args[i + 1] if i + 1 < len(args) else ""
        if option == "--kubelet-extra-args":
            flags += value.split()
            i += 2
        elif option == "--use-max-pods":
            use_max_pods = value.lower() != "false"
            i += 2
        elif option.startswith("--") and "=" not in option:
            i += 2
        else:
            i += 1
    request = _from_flags(cluster, flags)
    for flag in flags:
        if flag.startswith("--max-pods="):
            max_pods = _int(flag.split("=", 1)[1])
    if not use_max_pods and max_pods is None:
        max_pods = 110
    return JoinRequest(request.cluster, request.labels, request.taints, max_pods)


def _from_flags(cluster: str, flags: list[str]) -> JoinRequest:
    labels: dict[str, str] = {}
    taints: list[str] = []
    for flag in flags:
        name, _, value = flag.partition("=")
        if name == "--node-labels":
            for pair in filter(None, value.split(",")):
                key, _, label = pair.partition("=")
                labels[key] = label
        elif name == "--register-with-taints":
            taints += [t for t in value.split(",") if t]
    return JoinRequest(cluster, labels, tuple(taints))


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
