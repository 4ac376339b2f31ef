"""The control-loop runtime shared by Kubernetes controllers and region controllers.

watch → enqueue(key) → worker → reconcile(key): `WorkQueue` deduplicates keys, hands
each key to one worker at a time and re-queues failures with per-key exponential
back-off; `run_workers` is the worker loop. Nothing here knows what a key means.
"""

from openeks.runtime.controller import Requeue, run_workers
from openeks.runtime.workqueue import WorkQueue

__all__ = ["Requeue", "WorkQueue", "run_workers"]
