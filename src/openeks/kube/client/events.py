"""Recording Events about objects, aggregated the way client-go's recorder does.

The first occurrence of (object, type, reason, message) creates a core/v1 Event; repeats
bump its `count` and `lastTimestamp` instead of creating new ones. Recording never
raises: events are best effort, a failure is logged.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import EVENTS
from openeks.kube.client.rest import Client

log = logging.getLogger(__name__)

Obj = dict[str, Any]
_CACHE_SIZE = 4096


def reference(obj: Obj) -> Obj:
    m = obj.get("metadata") or {}
    ref = {
        "kind": obj.get("kind", ""),
        "namespace": m.get("namespace", ""),
        "name": m.get("name", ""),
        "uid": m.get("uid", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "resourceVersion": m.get("resourceVersion", ""),
    }
    return {k: v for k, v in ref.items() if v}


class EventRecorder:
    def __init__(self, client: Client, component: str, host: str = "") -> None:
        self.client = client
        self.component = component
        self.host = host
        self._seen: OrderedDict[tuple[str, ...], tuple[str, str, int]] = OrderedDict()

    async def event(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        ref = reference(obj)
        namespace = ref.get("namespace") or "default"
        key = (ref.get("uid", ""), ref.get("name", ""), type_, reason, message)
        now = meta.rfc3339(meta.now())
        try:
            seen = self._seen.get(key)
            if seen is not None:
                name, ns, count = seen
                patch = {"count": count + 1, "lastTimestamp": now}
                try:
                    await self.client.patch(EVENTS, name, patch, ns)
                    self._remember(key, (name, ns, count + 1))
                    return
                except ApiError as e:
                    if e.code != 404:
                        raise
            name = f"{ref.get('name', 'unknown')}.{secrets.token_hex(8)}"
            body = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": ref,
                "reason": reason,
                "message": message,
                "type": type_,
                "source": {
                    "component": self.component,
                    **({"host": self.host} if self.host else {}),
                },
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "reportingComponent": self.component,
                "reportingInstance": self.host or self.component,
            }
            await self.client.create(EVENTS, body)
            self._remember(key, (name, namespace, 1))
        except ApiError as e:
            log.debug("could not record event %s/%s: %s", reason, message, e)

    def _remember(self, key: tuple[str, ...], value: tuple[str, str, int]) -> None:
        self._seen[key] = value
        self._seen.move_to_end(key)
        while len(self._seen) > _CACHE_SIZE:
            self._seen.popitem(last=False)
