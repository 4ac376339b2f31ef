"""Node group updates: UpdateNodegroupConfig and UpdateNodegroupVersion.

Both record an Update (`updates/<cluster>/<id>`, type ConfigUpdate or VersionUpdate,
status InProgress, `"openeks": {"nodegroup": <name>, ...}`) and set the node group
UPDATING; the region's node group controller does the work and then marks the update
Successful or Failed and the node group ACTIVE (or DEGRADED). ListUpdates and
DescribeUpdate with `nodegroupName` (`updates`) show them.

- A configuration update (scaling, labels, taints, updateConfig, nodeRepairConfig) is
  written into the node group at once: the document always holds the desired
  configuration, which the controller converges to (add or drain nodes, relabel).
- A version update (version, releaseVersion, launchTemplate version) sets
  `openeks.desiredVersion`, `desiredReleaseVersion` and `desiredLaunchTemplate`; the
  controller replaces the nodes and then sets `version`, `releaseVersion` and
  `launchTemplate` (`force` is kept in the update's `openeks.force`). Without a version
  the node group stays on its minor and takes that minor's latest release; the target may
  not lead the cluster nor go back.

EKS's rules: no update while the node group is not ACTIVE or DEGRADED or has an update in
progress, version updates only while the cluster is ACTIVE, and a repeated request with
the same `clientRequestToken` answers the update it made.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from openeks.aws.eks import errors, nodegroupvalidation, shapes
from openeks.aws.eks.documents import NODEGROUPS, UPDATES, children, load_cluster, now_iso, scoped
from openeks.aws.eks.nodegroups import launch_template, load_nodegroup
from openeks.aws.eks.nodegroupvalidation import Names
from openeks.aws.eks.updates import new_update, replayed
from openeks.aws.eks.versions import Versions
from openeks.region.state import Missing, RegionState

Doc = dict[str, Any]
Apply = Callable[[Doc], None]
UPDATABLE = ("ACTIVE", "DEGRADED")


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def _check_updatable(state: RegionState, nodegroup: Doc) -> None:
    cluster, name = nodegroup["clusterName"], nodegroup["nodegroupName"]
    for record in await children(state, UPDATES, cluster):
        update = record.value
        if (update.get("openeks") or {}).get("nodegroup") == name and (
            update.get("status") == "InProgress"
        ):
            raise errors.nodegroup_update_in_progress(cluster, name, update["id"])
    _still_updatable(nodegroup)


def _still_updatable(nodegroup: Doc) -> None:
    if nodegroup.get("status") not in UPDATABLE:
        raise errors.nodegroup_not_updatable(
            nodegroup["clusterName"], nodegroup["nodegroupName"], str(nodegroup.get("status"))
        )


async def _record(
    state: RegionState, params: Doc, kind: str, update_params: list[Doc], apply: Apply, **extra: Any
) -> Doc:
    """Write the update, then move the node group to UPDATING with `apply`'s changes;
    take the update back if the node group changed in between."""
    cluster, name = params["clusterName"], params["nodegroupName"]
    update = new_update(kind, update_params, "InProgress", params)
    update["openeks"].update(nodegroup=name, **extra)
    await state.create(UPDATES, scoped(cluster, update["id"]), update)

    def change(doc: Doc) -> Doc:
        _still_updatable(doc)
        apply(doc)
        doc["status"] = "UPDATING"
        doc["modifiedAt"] = now_iso()
        doc.setdefault("openeks", {})["updateId"] = update["id"]
        return doc

    try:
        await state.mutate(NODEGROUPS, scoped(cluster, name), change)
    except (errors.AwsError, Missing) as failure:
        await state.delete(UPDATES, scoped(cluster, update["id"]))
        if isinstance(failure, Missing):
            raise errors.nodegroup_not_found(cluster, name) from None
        raise
    return {"update": shapes.update(update)}


# -- UpdateNodegroupConfig -----------------------------------------------------------


def _label_change(current: Doc, request: Doc, names: Names) -> tuple[list[Doc], Apply]:
    added = dict(request.get("addOrUpdateLabels") or {})
    removed = list(dict.fromkeys(request.get("removeLabels") or ()))
    both = sorted(set(added) & set(removed))
    if both:
        # (openeks wording)
        raise names.invalid(f"The labels {both} are both added and removed")
    nodegroupvalidation.check_labels(added, names)
    labels = {k: v for k, v in (current.get("labels") or {}).items() if k not in removed}
    labels.update(added)
    update_params = []
    if added:
        update_params.append({"type": "LabelsToAdd", "value": _compact(added)})
    if removed:
        update_params.append({"type": "LabelsToRemove", "value": _compact(removed)})

    def apply(doc: Doc) -> None:
        doc["labels"] = labels

    return update_params, apply


def _taint_change(current: Doc, request: Doc, names: Names) -> tuple[list[Doc], Apply]:
    added = nodegroupvalidation.check_taints(request.get("addOrUpdateTaints") or (), names)
    removed = list(request.get("removeTaints") or ())
    gone = {(t.get("key"), t.get("effect")) for t in removed}
    gone_keys = {t.get("key") for t in removed if not t.get("effect")}
    kept = {
        nodegroupvalidation.taint_id(t): t
        for t in current.get("taints") or ()
        if nodegroupvalidation.taint_id(t) not in gone and t.get("key") not in gone_keys
    }
    kept.update({nodegroupvalidation.taint_id(t): t for t in added})
    taints = nodegroupvalidation.check_taints(kept.values(), names)
    update_params = []
    if added:
        update_params.append({"type": "TaintsToAdd", "value": _compact(added)})
    if removed:
        update_params.append({"type": "TaintsToRemove", "value": _compact(removed)})

    def apply(doc: Doc) -> None:
        doc["taints"] = taints

    return update_params, apply


def _sizing_change(current: Doc, params: Doc, names: Names) -> tuple[list[Doc], Apply]:
    """scalingConfig, updateConfig and nodeRepairConfig."""
    update_params: list[Doc] = []
    changes: Doc = {}
    scaling = params.get("scalingConfig")
    if scaling is not None:
        changes["scalingConfig"] = nodegroupvalidation.updated_scaling(
            current["scalingConfig"], scaling, names
        )
        for member, param in (("minSize", "MinSize"), ("maxSize", "MaxSize")):
            if scaling.get(member) is not None:
                update_params.append({"type": param, "value": str(scaling[member])})
        if scaling.get("desiredSize") is not None:
            update_params.append({"type": "DesiredSize", "value": str(scaling["desiredSize"])})
    config = params.get("updateConfig")
    if config is not None:
        changes["updateConfig"] = nodegroupvalidation.update_config(
            config, current.get("updateConfig"), names
        )
        for member, param in (
            ("maxUnavailable", "MaxUnavailable"),
            ("maxUnavailablePercentage", "MaxUnavailablePercentage"),
            ("updateStrategy", "UpdateStrategy"),
        ):
            if config.get(member) is not None:
                update_params.append({"type": param, "value": str(config[member])})
    repair = params.get("nodeRepairConfig")
    if repair is not None:
        changes["nodeRepairConfig"] = dict(repair)
        enabled = str(bool(repair.get("enabled"))).lower()
        update_params.append({"type": "NodeRepairEnabled", "value": enabled})

    def apply(doc: Doc) -> None:
        doc.update(changes)

    return update_params, apply


def _config_change(current: Doc, params: Doc, names: Names) -> tuple[list[Doc], Apply]:
    parts = [_sizing_change(current, params, names)]
    if params.get("labels") is not None:
        parts.append(_label_change(current, params["labels"], names))
    if params.get("taints") is not None:
        parts.append(_taint_change(current, params["taints"], names))

    def apply(doc: Doc) -> None:
        for _, part in parts:
            part(doc)

    return [p for update_params, _ in parts for p in update_params], apply


async def update_nodegroup_config(state: RegionState, params: Doc) -> Doc:
    cluster, name = params["clusterName"], params["nodegroupName"]
    names = Names(cluster, name)
    nodegroup = (await load_nodegroup(state, cluster, name)).value
    earlier = await replayed(state, cluster, params)
    if earlier is not None:
        return {"update": shapes.update(earlier)}
    if params.get("warmPoolConfig") is not None:
        raise names.invalid("warmPoolConfig is not supported by openeks")
    await _check_updatable(state, nodegroup)
    update_params, apply = _config_change(nodegroup, params, names)
    if not update_params:
        # (openeks wording)
        raise names.invalid("The request specifies no configuration to update")
    return await _record(state, params, "ConfigUpdate", update_params, apply)


# -- UpdateNodegroupVersion ----------------------------------------------------------


async def _template_change(state: RegionState, nodegroup: Doc, requested: Doc, names: Names) -> Doc:
    """The launch template (same template, another version) a version update moves to."""
    current = nodegroup.get("launchTemplate")
    if not current:
        # (openeks wording)
        raise names.invalid(
            f"Nodegroup {names.nodegroup} was not created with a launch template; a launch "
            "template cannot be given in a version update"
        )
    shown, _ = await launch_template(state, requested, names)
    if shown["id"] != current.get("id"):
        # (openeks wording)
        raise names.invalid(
            f"The launch template {requested.get('id') or requested.get('name')} is not the one "
            f"of nodegroup {names.nodegroup} ({current.get('name')})"
        )
    return shown


async def _version_target(
    state: RegionState, versions: Versions, cluster: Doc, nodegroup: Doc, params: Doc
) -> tuple[str, str, Doc | None]:
    """(version, release version, launch template) the node group moves to."""
    names = Names(cluster["name"], nodegroup["nodegroupName"])
    release = params.get("releaseVersion")
    version = params.get("version") or (
        nodegroupvalidation.release_minor(release) if release else None
    )
    version = version or str(nodegroup["version"])
    nodegroupvalidation.check_version(
        version, str(cluster["version"]), versions, names, lowest=str(nodegroup["version"])
    )
    nodegroupvalidation.check_ami_version(str(nodegroup.get("amiType")), version, names)
    release = nodegroupvalidation.check_release(release, version, names)
    template = None
    if params.get("launchTemplate"):
        template = await _template_change(state, nodegroup, params["launchTemplate"], names)
    unchanged = (
        version == nodegroup["version"]
        and release == nodegroup.get("releaseVersion")
        and (template is None or template == nodegroup.get("launchTemplate"))
    )
    if unchanged:
        # (openeks wording)
        raise names.invalid(
            f"Nodegroup {names.nodegroup} is already at version {version} and release "
            f"version {release}"
        )
    return version, release, template


async def update_nodegroup_version(state: RegionState, versions: Versions, params: Doc) -> Doc:
    cluster_name, name = params["clusterName"], params["nodegroupName"]
    cluster = (await load_cluster(state, cluster_name)).value
    nodegroup = (await load_nodegroup(state, cluster_name, name)).value
    earlier = await replayed(state, cluster_name, params)
    if earlier is not None:
        return {"update": shapes.update(earlier)}
    if cluster.get("status") != "ACTIVE":
        raise errors.cluster_not_ready(cluster_name, name)
    await _check_updatable(state, nodegroup)
    version, release, template = await _version_target(state, versions, cluster, nodegroup, params)
    update_params = [
        {"type": "Version", "value": version},
        {"type": "ReleaseVersion", "value": release},
    ]
    if template is not None:
        update_params += [
            {"type": "LaunchTemplateName", "value": str(template["name"])},
            {"type": "LaunchTemplateVersion", "value": str(template["version"])},
        ]

    def apply(doc: Doc) -> None:
        private = doc.setdefault("openeks", {})
        private["desiredVersion"] = version
        private["desiredReleaseVersion"] = release
        if template is not None:
            private["desiredLaunchTemplate"] = template

    force = bool(params.get("force"))
    return await _record(state, params, "VersionUpdate", update_params, apply, force=force)
