"""The node agent (our kubelet): registers a Node, heartbeats, runs the pods bound to it.

`run_node(config)` runs one agent (what `openeks kube node` calls); `NodeAgent` is the
agent itself; `fleet.run_fleet` hosts many simulated nodes in one process.
"""

from openeks.kube.node.agent import NodeAgent
from openeks.kube.node.config import NodeConfig
from openeks.kube.node.main import run_node

__all__ = ["NodeAgent", "NodeConfig", "run_node"]
