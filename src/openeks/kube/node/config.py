"""The node agent's settings, and the command-line flags that fill them.

`NodeConfig` is read once at the entry point and passed down; nothing below reads the
environment or the command line. The `--labels` and `--taints` syntaxes and their error
messages are kubelet's (`--node-labels` is a `MapStringString`, `--register-with-taints`
uses `pkg/util/taints`), so a node group definition written for EKS parses the same here,
and labels in the `kubernetes.io` namespaces that a kubelet may not set itself are
refused with kubelet's message.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openeks.kube.api.formats import is_label_value, is_qualified_name
from openeks.kube.client.config import ClientConfig, load_kubeconfig

RUNTIMES = ("runc", "simulated")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

# pkg/kubelet/apis: what a kubelet may label its own Node with in kubernetes.io namespaces.
KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
KUBELET_LABELS = (
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/instance-type",
    "beta.kubernetes.io/os",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "kubernetes.io/arch",
    "kubernetes.io/hostname",
    "kubernetes.io/os",
    "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
)

Obj = dict[str, Any]


@dataclass
class NodeConfig:
    """One node agent. Every field but `client` and `name` has a working default."""

    client: ClientConfig
    """How to reach the API server; its CA also authenticates callers of our HTTPS API."""
    name: str
    """The Node's name (also its `kubernetes.io/hostname` label)."""
    zone: str = ""
    """Availability zone, e.g. `us-east-1a` (label `topology.kubernetes.io/zone`)."""
    region: str = ""
    """Region; empty means the zone without its letter (`us-east-1a` → `us-east-1`)."""
    instance_type: str = "m5.large"
    """An EC2 instance type from `instancetypes.INSTANCE_TYPES`: capacity and max pods."""
    runtime: str = "runc"
    """`runc` (real containers) or `simulated` (no processes, like KWOK)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Extra labels set at registration (`--labels`)."""
    taints: list[Obj] = field(default_factory=list)
    """Taints set at registration (`--taints`); a restart does not re-apply them."""
    data_dir: Path = Path("/var/lib/openeks/node")
    """Pod directories (volumes, state checkpoints), container logs, serving certificate."""
    pod_cidr: str = ""
    """The node's pod CIDR (`spec.podCIDR`); the runtime takes pod IPs from it."""
    address: str = "127.0.0.1"
    """The node's InternalIP, and where its HTTPS API listens."""
    port: int = 0
    """Port of the HTTPS API (0: pick a free one)."""
    max_pods: int | None = None
    """Pods this node accepts; None means the instance type's ENI limit, as on EKS."""
    capacity: dict[str, str] = field(default_factory=dict)
    """cpu/memory overriding the instance type's (a Fargate node is sized to its pod);
    allocatable is then the same, nothing reserved."""
    lease_seconds: int = 40
    """`leaseDurationSeconds` of the node Lease; it is renewed every quarter of that."""
    status_interval: float = 10.0
    """How often node status is computed (upstream nodeStatusUpdateFrequency)."""
    status_report_interval: float = 300.0
    """Unchanged node status is re-posted this often (upstream nodeStatusReportFrequency);
    a change is posted at once."""
    serve: bool = True
    """Run the HTTPS API (logs, exec). Simulated fleets turn it off."""
    cluster_dns: list[str] = field(default_factory=list)
    """Nameservers for ClusterFirst pods; empty means the host's resolv.conf."""
    cluster_domain: str = "cluster.local"
    pleg_interval: float = 1.0
    """How often container states are polled when the runtime does not push them."""
    resync_interval: float = 60.0
    """How often each pod is re-synced without a trigger (configMap/secret volumes are
    refreshed then, as upstream does within its sync period)."""
    provider_id: str = ""
    """`spec.providerID`; empty means `openeks:///<zone>/<name>`."""
    start_jitter: float = 0.0
    """Spread the first lease renewal over this many seconds (many nodes in one process)."""
    node_events: bool = True
    """Record kubelet's start-up Events on the Node (Starting, NodeReady, ...)."""
    proxy: bool | None = None
    """Run the service proxy (kube-proxy, iptables mode; `proxy/`). None means on for the
    runc runtime and off for simulated nodes, whose pods have no network (`--no-proxy`)."""

    @property
    def resolved_region(self) -> str:
        if self.region:
            return self.region
        if self.zone and self.zone[-1].isalpha() and self.zone[:-1][-1:].isdigit():
            return self.zone[:-1]
        return self.zone

    @property
    def proxy_enabled(self) -> bool:
        return self.runtime == "runc" if self.proxy is None else self.proxy

    @property
    def lease_renew_interval(self) -> float:
        """Upstream renews at a quarter of the lease duration (10 s for 40 s)."""
        return self.lease_seconds / 4


# -- labels --------------------------------------------------------------------------------


def parse_labels(text: str) -> dict[str, str]:
    """`k=v,k2=v2` as kubelet's `--node-labels` reads it, then validated like kubelet."""
    labels: dict[str, str] = {}
    if not text:
        return labels
    for pair in text.split(","):
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError("malformed pair, expect string=string")
        labels[key.strip()] = value.strip()
    validate_node_labels(labels)
    return labels


def _label_namespace(key: str) -> str:
    prefix, sep, _ = key.partition("/")
    return prefix if sep else ""


def _is_kubernetes_label(key: str) -> bool:
    ns = _label_namespace(key)
    return any(ns == d or ns.endswith("." + d) for d in ("kubernetes.io", "k8s.io"))


def _is_kubelet_label(key: str) -> bool:
    if key in KUBELET_LABELS:
        return True
    ns = _label_namespace(key)
    return any(ns == d or ns.endswith("." + d) for d in KUBELET_LABEL_NAMESPACES)


def validate_node_labels(labels: dict[str, str]) -> None:
    """kubelet's ValidateKubeletFlags checks on --node-labels; raises ValueError."""
    unknown = sorted(k for k in labels if _is_kubernetes_label(k) and not _is_kubelet_label(k))
    if unknown:
        raise ValueError(
            "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: "
            f"[{' '.join(unknown)}]\n--node-labels in the 'kubernetes.io' namespace must begin "
            f"with an allowed prefix ({', '.join(KUBELET_LABEL_NAMESPACES)}) or be in the "
            f"specifically allowed set ({', '.join(KUBELET_LABELS)})"
        )
    problems = []
    for key, value in labels.items():
        if errs := is_qualified_name(key):
            problems.append(f"'{key}' - {', '.join(errs)}")
        if errs := is_label_value(value):
            problems.append(f"'{value}' - {', '.join(errs)}")
    if problems:
        raise ValueError(f"invalid node labels: {'; '.join(problems)}")


# -- taints --------------------------------------------------------------------------------


def parse_taint(spec: str) -> Obj:
    """`key=value:Effect` or `key:Effect`, as pkg/util/taints parseTaint reads it."""
    parts = spec.split(":")
    value = ""
    if len(parts) == 1:
        key, effect = parts[0], ""
    elif len(parts) == 2:
        effect = parts[1]
        if effect not in TAINT_EFFECTS:
            raise ValueError(f"invalid taint effect: {effect}, unsupported taint effect")
        kv = parts[0].split("=")
        if len(kv) > 2:
            raise ValueError(f"invalid taint spec: {spec}")
        key = kv[0]
        if len(kv) == 2:
            value = kv[1]
            if errs := is_label_value(value):
                raise ValueError(f"invalid taint spec: {spec}, {'; '.join(errs)}")
    else:
        raise ValueError(f"invalid taint spec: {spec}")
    if errs := is_qualified_name(key):
        raise ValueError(f"invalid taint spec: {spec}, {'; '.join(errs)}")
    taint: Obj = {"key": key, "effect": effect}
    if value:
        taint["value"] = value
    return taint


def _capacity(cpu: str, memory: str) -> dict[str, str]:
    return {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}


def parse_taints(text: str) -> list[Obj]:
    """A comma-separated list of taints; each needs an effect, (key, effect) pairs unique."""
    taints: list[Obj] = []
    if not text:
        return taints
    seen: set[tuple[str, str]] = set()
    for spec in text.split(","):
        taint = parse_taint(spec)
        if not taint["effect"]:
            raise ValueError(f"invalid taint spec: {spec}")
        ident = (taint["key"], taint["effect"])
        if ident in seen:
            raise ValueError(
                "duplicated taints with the same key and effect: "
                f"{{{taint['key']} {taint.get('value', '')} {taint['effect']} <nil>}}"
            )
        seen.add(ident)
        taints.append(taint)
    return taints


# -- command line --------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `openeks kube node`."""
    parser.add_argument("--kubeconfig", required=True, type=Path, help="how to reach the API")
    parser.add_argument("--name", required=True, help="the Node's name")
    parser.add_argument("--zone", default="", help="availability zone, e.g. us-east-1a")
    parser.add_argument("--region", default="", help="region (default: derived from --zone)")
    parser.add_argument("--instance-type", default="m5.large", help="EC2 instance type")
    parser.add_argument("--runtime", choices=RUNTIMES, default="runc")
    parser.add_argument("--labels", default="", help="k=v,k2=v2 (as kubelet --node-labels)")
    parser.add_argument(
        "--taints", default="", help="k=v:NoSchedule,k2:NoExecute (as --register-with-taints)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="state directory (default .openeks/node/NAME)"
    )
    parser.add_argument("--pod-cidr", default="", help="the node's pod CIDR")
    parser.add_argument("--address", default="127.0.0.1", help="InternalIP and HTTPS address")
    parser.add_argument("--port", type=int, default=0, help="HTTPS port (0: any free port)")
    parser.add_argument("--max-pods", type=int, default=None, help="default: the ENI limit")
    parser.add_argument("--cpu", default="", help="cpu capacity, overriding the instance type's")
    parser.add_argument(
        "--memory", default="", help="memory capacity (e.g. 2Gi), overriding the instance type's"
    )
    parser.add_argument(
        "--cluster-dns", default="", help="comma-separated nameserver IPs for ClusterFirst pods"
    )
    parser.add_argument(
        "--no-proxy", action="store_true", help="do not run the service proxy (kube-proxy)"
    )


def config_from_args(args: argparse.Namespace) -> NodeConfig:
    """Build a NodeConfig from parsed flags; raises ValueError on bad labels or taints."""
    data_dir = args.data_dir or Path(".openeks") / "node" / args.name
    return NodeConfig(
        client=load_kubeconfig(args.kubeconfig),
        name=args.name,
        zone=args.zone,
        region=getattr(args, "region", ""),
        instance_type=args.instance_type,
        runtime=args.runtime,
        labels=parse_labels(args.labels),
        taints=parse_taints(args.taints),
        data_dir=Path(data_dir),
        pod_cidr=args.pod_cidr,
        address=args.address,
        port=args.port,
        max_pods=getattr(args, "max_pods", None),
        capacity=_capacity(getattr(args, "cpu", ""), getattr(args, "memory", "")),
        cluster_dns=[s for s in (getattr(args, "cluster_dns", "") or "").split(",") if s],
        proxy=False if getattr(args, "no_proxy", False) else None,
    )
