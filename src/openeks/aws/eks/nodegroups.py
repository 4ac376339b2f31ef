"""Managed node groups on the API side: CreateNodegroup, DescribeNodegroup,
ListNodegroups, DeleteNodegroup (updates are in `nodegroupupdates`).

The backend runs no instances. CreateNodegroup checks the request as EKS does
(`nodegroupvalidation`) and writes `nodegroups/<cluster>/<name>`: the Nodegroup shape
with EKS's defaults filled in and status CREATING, plus the private
`"openeks": {requestToken, requestHash, runtime, desiredVersion, desiredReleaseVersion}`.
The region's node group controller launches the instances (`resources.autoScalingGroups`
names the group `eks-<nodegroup>-<uuid>`, the uuid of the ARN), moves the status to
ACTIVE or DEGRADED (with `health.issues`), and carries out DELETING: DeleteNodegroup
only sets the status (a second DeleteNodegroup answers the node group as it is); the
controller drains and terminates the nodes and removes the document and its updates.

EKS's rules: the cluster must be ACTIVE ("Cluster 'x' is not in ACTIVE status"), names are
unique per cluster ("NodeGroup already exists with name x and cluster name y"), and a
repeated request with the same `clientRequestToken` answers the node group as it is now.
A node group created while its cluster is being deleted is taken back.

Launch templates are EC2 documents (`launchtemplates/<name>`, versions in
`openeks.versions`); a node group names one by id or name, and its instance type and
image then come from the template: instance types in both places, a disk size or remote
access next to a template are refused, as EKS refuses them.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from typing import Any

from botocore.model import Shape

from openeks.aws.eks import errors, nodegroupvalidation, shapes
from openeks.aws.eks.documents import (
    CLUSTERS,
    NODEGROUPS,
    load_cluster,
    now_iso,
    random_hex,
    request_hash,
    scoped,
)
from openeks.aws.eks.nodegroupvalidation import Names
from openeks.aws.eks.pagination import page
from openeks.aws.eks.versions import Versions
from openeks.aws.service import RequestContext, load_model
from openeks.region.state import Exists, Missing, Record, RegionState
from openeks.region.vpc import templates
from openeks.region.vpc.errors import Ec2Error

Doc = dict[str, Any]


@functools.cache
def _nodegroup_shape() -> Shape:
    return load_model("eks").shape_for("Nodegroup")


def render(doc: Doc) -> Doc:
    """The Nodegroup as boto3 shows it (private members dropped, timestamps parsed)."""
    result: Doc = shapes.render(_nodegroup_shape(), doc)
    return result


def nodegroup_arn(region: str, account: str, cluster: str, name: str, ident: str) -> str:
    return f"arn:aws:eks:{region}:{account}:nodegroup/{cluster}/{name}/{ident}"


async def load_nodegroup(state: RegionState, cluster: str, name: str) -> Record:
    """The node group, which must exist (as must its cluster)."""
    await load_cluster(state, cluster)
    record = await state.get(NODEGROUPS, scoped(cluster, name))
    if record is None:
        raise errors.nodegroup_not_found(cluster, name)
    return record


# -- launch templates ----------------------------------------------------------------


async def launch_template(state: RegionState, spec: Doc, names: Names) -> tuple[Doc, Doc]:
    """({id, name, version} as the node group shows it, that version's template data).
    EC2's sentences for a missing template or version are passed through, as EKS passes
    EC2's through for subnets."""
    ident, name = spec.get("id"), spec.get("name")
    if bool(ident) == bool(name):
        raise names.invalid(
            "You must specify either the launch template ID or the launch template name in "
            "the request, but not both."
        )
    try:
        template = await templates.find_template(state, template_id=ident, name=name)
        version = templates.resolve(template, spec.get("version"))
    except Ec2Error as failure:
        raise names.invalid(failure.message) from None
    shown = {
        "name": template["LaunchTemplateName"],
        "version": str(version["VersionNumber"]),
        "id": template["LaunchTemplateId"],
    }
    return shown, dict(version.get("LaunchTemplateData") or {})


# -- CreateNodegroup -----------------------------------------------------------------


async def _compute(state: RegionState, params: Doc, names: Names) -> Doc:
    """instanceTypes, amiType, diskSize, launchTemplate and remoteAccess as stored."""
    types = list(params.get("instanceTypes") or ())
    ami_type = params.get("amiType")
    disk_size = params.get("diskSize")
    remote = params.get("remoteAccess")
    template = None
    if params.get("launchTemplate"):
        if disk_size is not None:
            raise names.invalid("Disk size must be specified within the launch template.")
        if remote is not None:
            raise names.invalid(
                "Remote access configuration cannot be specified with a launch template."
            )
        template, data = await launch_template(state, params["launchTemplate"], names)
        if data.get("InstanceType") and types:
            raise names.refused("Cannot specify instance types in launch template and API request")
        if data.get("ImageId"):
            if ami_type not in (None, "CUSTOM"):
                # (openeks wording)
                raise names.invalid(
                    "amiType must not be specified when the launch template names an AMI"
                )
            ami_type = "CUSTOM"
        if data.get("InstanceType"):
            types = [str(data["InstanceType"])]
    elif ami_type == "CUSTOM":
        # (openeks wording)
        raise names.invalid("amiType CUSTOM needs a launch template that names an AMI")
    ami_type = ami_type or nodegroupvalidation.DEFAULT_AMI_TYPE
    types = types or [nodegroupvalidation.DEFAULT_INSTANCE_TYPE]
    nodegroupvalidation.check_instance_types(types, ami_type, names)
    if template is None:
        disk_size = nodegroupvalidation.DEFAULT_DISK_SIZE if disk_size is None else disk_size
        nodegroupvalidation.check_disk_size(disk_size, names)
    return {
        "instanceTypes": types,
        "amiType": ami_type,
        "diskSize": disk_size,
        "launchTemplate": template,
        "remoteAccess": remote,
    }


async def _checked(
    state: RegionState, versions: Versions, cluster: Doc, params: Doc, context: RequestContext
) -> Doc:
    """Every member of a new node group that takes checking."""
    names = Names(cluster["name"], params["nodegroupName"])
    nodegroupvalidation.check_unsupported(params, names)
    await nodegroupvalidation.check_node_role(state, params["nodeRole"], context.account_id, names)
    subnets = list(params.get("subnets") or ())
    vpc_id = str((cluster.get("resourcesVpcConfig") or {}).get("vpcId") or "")
    await nodegroupvalidation.check_subnets(state, subnets, vpc_id, names, context.request_id)
    release = params.get("releaseVersion")
    version = params.get("version") or (
        nodegroupvalidation.release_minor(release) if release else None
    )
    version = version or str(cluster["version"])
    nodegroupvalidation.check_version(version, str(cluster["version"]), versions, names)
    computed = await _compute(state, params, names)
    nodegroupvalidation.check_ami_version(computed["amiType"], version, names)
    labels = dict(params.get("labels") or {})
    nodegroupvalidation.check_labels(labels, names)
    return {
        **computed,
        "subnets": subnets,
        "version": version,
        "releaseVersion": nodegroupvalidation.check_release(release, version, names),
        "scalingConfig": nodegroupvalidation.creation_scaling(params.get("scalingConfig"), names),
        "labels": labels,
        "taints": nodegroupvalidation.check_taints(params.get("taints") or (), names),
        "updateConfig": nodegroupvalidation.update_config(params.get("updateConfig"), None, names),
        "runtime": nodegroupvalidation.runtime(labels, params.get("tags") or {}, names),
    }


def _document(params: Doc, checked: Doc, context: RequestContext) -> Doc:
    cluster, name = params["clusterName"], params["nodegroupName"]
    ident = str(uuid.uuid4())
    created = now_iso()
    resources: Doc = {"autoScalingGroups": [{"name": f"eks-{name}-{ident}"}]}
    if checked["remoteAccess"] and not checked["remoteAccess"].get("sourceSecurityGroups"):
        resources["remoteAccessSecurityGroup"] = f"sg-{random_hex(17)}"
    doc: Doc = {
        "nodegroupName": name,
        "nodegroupArn": nodegroup_arn(context.region, context.account_id, cluster, name, ident),
        "clusterName": cluster,
        "version": checked["version"],
        "releaseVersion": checked["releaseVersion"],
        "createdAt": created,
        "modifiedAt": created,
        "status": "CREATING",
        "capacityType": params.get("capacityType") or nodegroupvalidation.DEFAULT_CAPACITY_TYPE,
        "scalingConfig": checked["scalingConfig"],
        "instanceTypes": checked["instanceTypes"],
        "subnets": checked["subnets"],
        "remoteAccess": checked["remoteAccess"],
        "amiType": checked["amiType"],
        "nodeRole": params["nodeRole"],
        "labels": checked["labels"],
        "taints": checked["taints"],
        "resources": resources,
        "diskSize": checked["diskSize"],
        "health": {"issues": []},
        "updateConfig": checked["updateConfig"],
        "nodeRepairConfig": params.get("nodeRepairConfig") or {"enabled": False},
        "launchTemplate": checked["launchTemplate"],
        "tags": dict(params.get("tags") or {}),
        "openeks": {
            "requestToken": params.get("clientRequestToken"),
            "requestHash": request_hash(params),
            "runtime": checked["runtime"],
            "desiredVersion": checked["version"],
            "desiredReleaseVersion": checked["releaseVersion"],
        },
    }
    return {key: value for key, value in doc.items() if value is not None}


def _replays(existing: Doc, params: Doc) -> bool:
    private = existing.get("openeks") or {}
    token = params.get("clientRequestToken")
    return bool(token) and (
        private.get("requestToken") == token and private.get("requestHash") == request_hash(params)
    )


async def _take_back_if_cluster_leaves(state: RegionState, cluster: str, name: str) -> None:
    """A DeleteCluster that raced this create wins: remove the node group again."""
    record = await state.get(CLUSTERS, cluster)
    if record is not None and record.value.get("status") != "DELETING":
        return
    with contextlib.suppress(Missing):
        await state.delete(NODEGROUPS, scoped(cluster, name))
    if record is None:
        raise errors.cluster_not_found(cluster)
    raise errors.cluster_not_ready(cluster, name)


async def create_nodegroup(
    state: RegionState, versions: Versions, params: Doc, context: RequestContext
) -> Doc:
    cluster_name, name = params["clusterName"], params["nodegroupName"]
    cluster = (await load_cluster(state, cluster_name)).value
    existing = await state.get(NODEGROUPS, scoped(cluster_name, name))
    if existing is not None:
        if _replays(existing.value, params):
            return {"nodegroup": render(existing.value)}
        raise errors.nodegroup_exists(cluster_name, name)
    if cluster.get("status") != "ACTIVE":
        raise errors.cluster_not_ready(cluster_name, name)
    checked = await _checked(state, versions, cluster, params, context)
    doc = _document(params, checked, context)
    try:
        await state.create(NODEGROUPS, scoped(cluster_name, name), doc)
    except Exists:
        raise errors.nodegroup_exists(cluster_name, name) from None
    await _take_back_if_cluster_leaves(state, cluster_name, name)
    return {"nodegroup": render(doc)}


# -- DescribeNodegroup, ListNodegroups, DeleteNodegroup ------------------------------


async def describe_nodegroup(state: RegionState, params: Doc) -> Doc:
    record = await load_nodegroup(state, params["clusterName"], params["nodegroupName"])
    return {"nodegroup": render(record.value)}


async def list_nodegroups(state: RegionState, params: Doc) -> Doc:
    cluster = params["clusterName"]
    await load_cluster(state, cluster)
    names = sorted(r.name.split("/", 1)[1] for r in await state.list(NODEGROUPS, f"{cluster}/"))
    items, token = page(
        names,
        lambda name: name,
        f"nodegroups/{cluster}",
        params.get("maxResults"),
        params.get("nextToken"),
    )
    result: Doc = {"nodegroups": items}
    if token:
        result["nextToken"] = token
    return result


async def delete_nodegroup(state: RegionState, params: Doc) -> Doc:
    cluster, name = params["clusterName"], params["nodegroupName"]
    await load_nodegroup(state, cluster, name)

    def change(doc: Doc) -> Doc:
        if doc.get("status") != "DELETING":
            doc["status"] = "DELETING"
            doc["modifiedAt"] = now_iso()
        return doc

    try:
        deleted = await state.mutate(NODEGROUPS, scoped(cluster, name), change)
    except Missing:
        raise errors.nodegroup_not_found(cluster, name) from None
    return {"nodegroup": render(deleted.value)}
