"""Secrets: `type` is selectable, and service-account-token secrets get their token.

Upstream's tokens controller fills a `kubernetes.io/service-account-token` Secret with a
legacy token for the service account its annotation names; here the API server does it
on create, because it holds the signing key: `data.token`, `data["ca.crt"]`,
`data.namespace`, and the service account's uid annotation.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import orjson

from openeks.kube.api import errors
from openeks.kube.apiserver.strategy import Strategy

Obj = dict[str, Any]

SA_TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_NAME = "kubernetes.io/service-account.name"
SA_UID = "kubernetes.io/service-account.uid"

TokenMinter = Callable[[Obj, str], str]
"""(service account, secret name) -> legacy token."""


def _b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


class SecretStrategy(Strategy):
    extra_fields = ("type",)
    mint: TokenMinter | None = None
    ca_pem: bytes = b""

    def fields(self, obj: Obj) -> dict[str, str]:
        out = super().fields(obj)
        out["type"] = obj.get("type", "")
        return out

    async def before_create(self, obj: Obj, dry_run: bool) -> None:
        if obj.get("type") != SA_TOKEN_TYPE or self.mint is None or self.registry is None:
            return
        m = obj["metadata"]
        sa_name = (m.get("annotations") or {}).get(SA_NAME, "")
        if not sa_name:
            raise errors.invalid(
                "Secret",
                "",
                m.get("name", ""),
                [
                    errors.Cause(
                        "FieldValueRequired", "Required value", f"metadata.annotations[{SA_NAME}]"
                    )
                ],
            )
        key = self.registry.for_storage("core/serviceaccounts").key(m["namespace"], sa_name)
        kv = await self.registry.store.get(key)
        if kv is None:
            return  # upstream's tokens controller would delete the secret later
        sa = orjson.loads(kv.value)
        m.setdefault("annotations", {})[SA_UID] = sa["metadata"]["uid"]
        data = obj.setdefault("data", {})
        data["token"] = _b64(self.mint(sa, m["name"]))
        data["ca.crt"] = _b64(self.ca_pem)
        data["namespace"] = _b64(m["namespace"])
