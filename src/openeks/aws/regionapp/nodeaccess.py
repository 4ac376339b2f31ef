"""Letting a node group's role join its cluster, as EKS does when it creates the group.

API authentication modes: an access entry of type EC2_LINUX for the node role (username
`system:node:{{EC2PrivateDNSName}}`, group `system:nodes`), unless one exists.
CONFIG_MAP mode: a `mapRoles` item in `kube-system/aws-auth` for the role with the same
username and the groups `system:bootstrappers` and `system:nodes`, unless the role is
already mapped. Self-managed nodes get neither: their owners add the entry or mapping,
and instances whose role has none are refused (see `region.instances.controller`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import yaml

from openeks.aws.eks import access
from openeks.aws.eks.documents import ACCESS_ENTRIES, entry_doc_name
from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, load_kubeconfig
from openeks.kube.client.resources import CONFIGMAPS as CONFIG_MAPS
from openeks.region.state import Exists, RegionState

Doc = dict[str, Any]
NODE_USERNAME = "system:node:{{EC2PrivateDNSName}}"


class NodeAccess:
    def __init__(self, state: RegionState, data_dir: Path) -> None:
        self.state = state
        self.data_dir = data_dir

    async def grant(self, cluster: str, role_arn: str) -> None:
        record = await self.state.get("clusters", cluster)
        if record is None:
            return
        doc = record.value
        if access.uses_api(doc):
            entry = access.new_entry(doc, role_arn, entry_type="EC2_LINUX")
            with contextlib.suppress(Exists):
                await self.state.create(ACCESS_ENTRIES, entry_doc_name(cluster, role_arn), entry)
        else:
            await self._map_role(cluster, role_arn)

    async def _map_role(self, cluster: str, role_arn: str) -> None:
        kubeconfig = self.data_dir / "clusters" / cluster / "admin.kubeconfig"
        item = {
            "rolearn": role_arn,
            "username": NODE_USERNAME,
            "groups": ["system:bootstrappers", "system:nodes"],
        }
        async with Client(load_kubeconfig(kubeconfig)) as client:
            for _ in range(5):
                try:
                    found: Doc | None = await client.get(
                        CONFIG_MAPS, "aws-auth", namespace="kube-system"
                    )
                except ApiError as e:
                    if e.code != 404:
                        raise
                    found = None
                data = (found or {}).get("data") or {}
                roles = yaml.safe_load(data.get("mapRoles") or "[]") or []
                if any(isinstance(r, dict) and r.get("rolearn") == role_arn for r in roles):
                    return
                data = {**data, "mapRoles": yaml.safe_dump([*roles, item], sort_keys=False)}
                try:
                    if found is None:
                        body = {"metadata": {"name": "aws-auth", "namespace": "kube-system"}}
                        await client.create(CONFIG_MAPS, {**body, "data": data}, "kube-system")
                    else:
                        await client.update(CONFIG_MAPS, {**found, "data": data})
                    return
                except ApiError as e:
                    if e.code != 409:
                        raise
