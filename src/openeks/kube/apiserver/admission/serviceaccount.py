"""ServiceAccount admission: every pod runs as a service account, with its token mounted.

As upstream's plugin: a pod without `serviceAccountName` gets `default`; the account must
exist (403 otherwise, upstream's message); unless automounting is off (on the pod or the
account), the pod gets the projected `kube-api-access-<random>` volume — a bound token
(`serviceAccountToken`, 3607 s, refreshed by the node agent), the cluster CA from the
`kube-root-ca.crt` ConfigMap and the namespace from the downward API — mounted read-only
at /var/run/secrets/kubernetes.io/serviceaccount in every container.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from openeks.kube.api import errors, meta
from openeks.kube.apiserver.admission.base import AdmissionRequest
from openeks.kube.apiserver.registry import Registry

Obj = dict[str, Any]

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_EXPIRATION = 3607


def access_volume(name: str) -> Obj:
    return {
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION, "path": "token"}},
                {
                    "configMap": {
                        "name": "kube-root-ca.crt",
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
        },
    }


class ServiceAccountAdmission:
    name = "ServiceAccount"

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def _account(self, namespace: str, name: str) -> Obj | None:
        key = self.registry.for_storage("core/serviceaccounts").key(namespace, name)
        cached = self.registry.cache.cache("/registry/core/serviceaccounts/").objects.get(key)
        if cached is not None:
            return cached
        kv = await self.registry.store.get(key)
        return None if kv is None else orjson.loads(kv.value)

    async def _wait_for_default(self, namespace: str, seconds: float = 3.0) -> Obj | None:
        """A namespace made a moment ago gets its `default` account from a controller a
        moment later; wait briefly rather than fail the first pod (upstream's plugin
        also looks again before refusing)."""
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
            account = await self._account(namespace, "default")
            if account is not None:
                return account
        return None

    async def mutate(self, req: AdmissionRequest) -> None:
        if (
            req.operation != "CREATE"
            or not req.is_kind("", "Pod")
            or req.subresource
            or req.obj is None
        ):
            return
        pod = req.obj
        spec = pod.setdefault("spec", {})
        if (pod["metadata"].get("annotations") or {}).get("kubernetes.io/config.mirror"):
            return
        account_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = account_name
        spec.pop("serviceAccount", None)
        account = await self._account(req.namespace, account_name)
        if account is None and account_name == "default":
            account = await self._wait_for_default(req.namespace)
        if account is None:
            pod_name = meta.name_of(pod) or pod["metadata"].get("generateName", "")
            raise errors.ApiError(
                f'pods "{pod_name}" is forbidden: '
                f"error looking up service account {req.namespace}/{account_name}: "
                f'serviceaccount "{account_name}" not found',
                403,
                "Forbidden",
                name=meta.name_of(pod),
                kind="pods",
            )
        automount = spec.get("automountServiceAccountToken")
        if automount is None:
            automount = account.get("automountServiceAccountToken", True)
        if not automount:
            return
        containers = [
            *(spec.get("initContainers") or []),
            *(spec.get("containers") or []),
        ]
        if any(
            vm.get("mountPath") == MOUNT_PATH
            for c in containers
            for vm in c.get("volumeMounts") or ()
        ):
            return
        volume = access_volume(meta.generate_name("kube-api-access-"))
        spec.setdefault("volumes", []).append(volume)
        mount = {"name": volume["name"], "readOnly": True, "mountPath": MOUNT_PATH}
        for container in containers:
            container.setdefault("volumeMounts", []).append(dict(mount))
