"""Helpers shared by the lifecycle controllers (namespace, garbage collector, job, cronjob,
node lifecycle, endpoints, endpoint slices, disruption).

Pure logic lives here so it can be unit-tested without an API server: cron schedules,
taints and tolerations, node health, PDB arithmetic, endpoint ports, job bookkeeping.
The few I/O helpers (discovery, metadata-only list/watch, the namespace content
deleter) talk to the API server only through `openeks.kube.client`.
"""
