"""ConfigMaps, Secrets and service account tokens the node agent reads for its pods.

Objects are fetched with GETs and cached for a few seconds, like upstream's TTL-based
configMap/secret manager, rather than watched: a node reads only the handful of objects
its pods name, and a thousand simulated nodes in one process must not each hold a watch
per object. The pod workers re-read them every resync interval, which is how mounted
configMaps and secrets follow their sources.

Tokens for projected `serviceAccountToken` sources come from the TokenRequest API
(`serviceaccounts/<name>/token`), bound to the pod, and are renewed after 80 % of their
lifetime as kubelet renews them. If the API server does not offer TokenRequest, the
token file is left out of the volume.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import CONFIGMAPS, SECRETS, SERVICEACCOUNTS
from openeks.kube.client.rest import Client
from openeks.kube.node.envvars import Sources

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class ConfigSource:
    def __init__(self, client: Client, ttl: float = 2.0) -> None:
        self.client = client
        self.ttl = ttl
        self._cache: dict[tuple[str, str, str], tuple[float, Obj | None]] = {}
        self._tokens: dict[tuple[str, str, str, int], tuple[float, str]] = {}
        self._token_api_missing_until = 0.0

    async def _get(self, kind: str, namespace: str, name: str) -> Obj | None:
        key = (kind, namespace, name)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        res = CONFIGMAPS if kind == "configmap" else SECRETS
        try:
            obj: Obj | None = await self.client.get(res, name, namespace)
        except ApiError as e:
            if e.code != 404:
                raise
            obj = None
        self._cache[key] = (now + self.ttl, obj)
        return obj

    async def fetch(self, namespace: str, configmaps: set[str], secrets: set[str]) -> Sources:
        """The named objects of one namespace (None for the ones that do not exist)."""
        sources = Sources(namespace)
        for name in sorted(n for n in configmaps if n):
            sources.configmaps[name] = await self._get("configmap", namespace, name)
        for name in sorted(n for n in secrets if n):
            sources.secrets[name] = await self._get("secret", namespace, name)
        return sources

    async def token(
        self, pod: Obj, service_account: str, audience: str, expiration: int
    ) -> str | None:
        """A pod-bound token for `service_account`, or None when none can be had."""
        m = pod["metadata"]
        key = (m["uid"], service_account, audience, expiration)
        cached = self._tokens.get(key)
        now = time.time()
        if cached is not None and cached[0] > now:
            return cached[1]
        if now < self._token_api_missing_until:
            return None
        spec: Obj = {
            "expirationSeconds": expiration,
            "boundObjectRef": {
                "kind": "Pod",
                "apiVersion": "v1",
                "name": m["name"],
                "uid": m["uid"],
            },
        }
        if audience:
            spec["audiences"] = [audience]
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
        try:
            answer = await self.client.create(
                SERVICEACCOUNTS, body, m["namespace"], subresource="token", name=service_account
            )
        except ApiError as e:
            if e.code in (404, 405):
                self._token_api_missing_until = now + 600
            log.debug("token request for %s/%s failed: %s", m["namespace"], m["name"], e)
            return None
        token = str((answer.get("status") or {}).get("token") or "")
        if not token:
            return None
        self._tokens[key] = (now + expiration * 0.8, token)
        return token

    def forget_pod(self, uid: str) -> None:
        for key in [k for k in self._tokens if k[0] == uid]:
            del self._tokens[key]
