"""`EksService`: the EKS API as the AWS edge calls it, one method per operation.

Each method only picks the arguments its operation needs and hands over to the module
that owns the concern (`clusters`, `updates`, `versions`, `tags`, `access`,
`associations`, `policies`), moto-style: the edge has parsed and validated the request
against botocore's `eks` model, and serialises the returned dict with it.
"""

from __future__ import annotations

from typing import Any

from openeks.aws.eks import (
    access,
    associations,
    clusters,
    configupdates,
    fargate,
    nodegroups,
    nodegroupupdates,
    policies,
    tags,
    updates,
    versions,
)
from openeks.aws.service import MethodDispatch, RequestContext, load_model
from openeks.region.identity import Identities
from openeks.region.state import RegionState
from openeks.region.zones import Region

Doc = dict[str, Any]


class EksService(MethodDispatch):
    """The EKS API over the region's documents (see `openeks.aws.eks.documents`)."""

    model = load_model("eks")

    def __init__(
        self,
        state: RegionState,
        identities: Identities | None = None,
        region: Region | None = None,
        *,
        served: versions.Versions | None = None,
    ) -> None:
        """`identities` and `region` are the region's (the account and the region name
        also come with every request's context); `served` overrides the Kubernetes
        versions offered (tests)."""
        self.state = state
        self.identities = identities
        self.region = region
        self.versions = served or versions.Versions.served()

    # -- clusters ------------------------------------------------------------------------
    async def create_cluster(self, params: Doc, context: RequestContext) -> Doc:
        return await clusters.create_cluster(self.state, self.versions, params, context)

    async def describe_cluster(self, params: Doc, context: RequestContext) -> Doc:
        return await clusters.describe_cluster(self.state, params)

    async def list_clusters(self, params: Doc, context: RequestContext) -> Doc:
        return await clusters.list_clusters(self.state, params)

    async def delete_cluster(self, params: Doc, context: RequestContext) -> Doc:
        return await clusters.delete_cluster(self.state, params)

    async def describe_cluster_versions(self, params: Doc, context: RequestContext) -> Doc:
        return versions.describe_cluster_versions(self.versions, params)

    # -- updates -------------------------------------------------------------------------
    async def update_cluster_version(self, params: Doc, context: RequestContext) -> Doc:
        return await updates.update_cluster_version(self.state, self.versions, params)

    async def update_cluster_config(self, params: Doc, context: RequestContext) -> Doc:
        return await configupdates.update_cluster_config(self.state, params, context)

    async def list_updates(self, params: Doc, context: RequestContext) -> Doc:
        return await updates.list_updates(self.state, params)

    async def describe_update(self, params: Doc, context: RequestContext) -> Doc:
        return await updates.describe_update(self.state, params)

    # -- tags ----------------------------------------------------------------------------
    async def tag_resource(self, params: Doc, context: RequestContext) -> Doc:
        return await tags.tag_resource(self.state, params, context)

    async def untag_resource(self, params: Doc, context: RequestContext) -> Doc:
        return await tags.untag_resource(self.state, params, context)

    async def list_tags_for_resource(self, params: Doc, context: RequestContext) -> Doc:
        return await tags.list_tags_for_resource(self.state, params, context)

    # -- access entries ------------------------------------------------------------------
    async def create_access_entry(self, params: Doc, context: RequestContext) -> Doc:
        return await access.create_access_entry(self.state, params, context)

    async def describe_access_entry(self, params: Doc, context: RequestContext) -> Doc:
        return await access.describe_access_entry(self.state, params)

    async def list_access_entries(self, params: Doc, context: RequestContext) -> Doc:
        return await access.list_access_entries(self.state, params)

    async def update_access_entry(self, params: Doc, context: RequestContext) -> Doc:
        return await access.update_access_entry(self.state, params)

    async def delete_access_entry(self, params: Doc, context: RequestContext) -> Doc:
        await access.delete_access_entry(self.state, params)
        return {}

    # -- access policies -----------------------------------------------------------------
    async def list_access_policies(self, params: Doc, context: RequestContext) -> Doc:
        return policies.list_access_policies(params)

    async def associate_access_policy(self, params: Doc, context: RequestContext) -> Doc:
        return await associations.associate_access_policy(self.state, params)

    async def disassociate_access_policy(self, params: Doc, context: RequestContext) -> Doc:
        await associations.disassociate_access_policy(self.state, params)
        return {}

    async def list_associated_access_policies(self, params: Doc, context: RequestContext) -> Doc:
        return await associations.list_associated_access_policies(self.state, params)

    # -- node groups ---------------------------------------------------------------------
    async def create_nodegroup(self, params: Doc, context: RequestContext) -> Doc:
        return await nodegroups.create_nodegroup(self.state, self.versions, params, context)

    async def describe_nodegroup(self, params: Doc, context: RequestContext) -> Doc:
        return await nodegroups.describe_nodegroup(self.state, params)

    async def list_nodegroups(self, params: Doc, context: RequestContext) -> Doc:
        return await nodegroups.list_nodegroups(self.state, params)

    async def delete_nodegroup(self, params: Doc, context: RequestContext) -> Doc:
        return await nodegroups.delete_nodegroup(self.state, params)

    async def update_nodegroup_config(self, params: Doc, context: RequestContext) -> Doc:
        return await nodegroupupdates.update_nodegroup_config(self.state, params)

    async def update_nodegroup_version(self, params: Doc, context: RequestContext) -> Doc:
        return await nodegroupupdates.update_nodegroup_version(self.state, self.versions, params)

    # -- Fargate profiles ----------------------------------------------------------------
    async def create_fargate_profile(self, params: Doc, context: RequestContext) -> Doc:
        return await fargate.create_fargate_profile(self.state, params, context)

    async def describe_fargate_profile(self, params: Doc, context: RequestContext) -> Doc:
        return await fargate.describe_fargate_profile(self.state, params)

    async def list_fargate_profiles(self, params: Doc, context: RequestContext) -> Doc:
        return await fargate.list_fargate_profiles(self.state, params)

    async def delete_fargate_profile(self, params: Doc, context: RequestContext) -> Doc:
        return await fargate.delete_fargate_profile(self.state, params)
