"""Helpers the workload controllers share, ports of `pkg/controller` utilities.

Generic (any controller may use them; pure, or given a `Client`):

- `pods` — readiness, availability, activity, the deletion ranking, pods from templates.
- `podcontrol` — creating/deleting a controller's pods with upstream's events.
- `ownership` — controller references, informer indexes, the adopt/release dance
  (ControllerRefManager).
- `expectations` — what a controller waits to see before acting again.
- `hashing` — FNV hashes, `SafeEncodeString`, Go's JSON encoding, template hashes.
- `revisions` — ControllerRevision history (StatefulSets, DaemonSets).
- `intstr` — int-or-percent values (`maxSurge: 25%`) as upstream scales them.
- `batch` — the slow-start batches creations go in.
- `scheduling` — node selectors, node affinity and taints as the scheduler judges them.

Specific to one workload, kept here so each controller module stays readable:
`stateful` and `stateful_control` (StatefulSet pod identity, storage, pod control),
`daemon` and `daemon_history` (DaemonSet placement, rolling arithmetic, history).
"""
