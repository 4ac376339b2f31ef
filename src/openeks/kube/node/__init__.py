"""The node agent (our kubelet): registers a Node, heartbeats, runs the pods bound to it."""
