"""The Kubernetes scheduler: a plugin framework like upstream's, its in-tree plugins, the
node-info cache, the scheduling queue, and the scheduling loop with asynchronous binding.

Layout: `framework/` (interfaces, statuses, runtime, registry, profiles), `plugins/`
(one module per plugin), `cache.py`, `queue.py`, `schedule_one.py`, `eventhandlers.py`,
`reporting.py`, and `server.py` (SchedulerConfig, Scheduler) as the entry point.
"""

from openeks.kube.scheduler.server import Scheduler, SchedulerConfig

__all__ = ["Scheduler", "SchedulerConfig"]
