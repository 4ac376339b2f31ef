"""A node group version update: every node replaced by one running the new image.

The phases EKS documents for managed node group updates:

1. Scale up: launch max(2 x the group's zones, maxUnavailable) new instances (the
   surge) and wait until they are Ready nodes.
2. Cordon every old node, so nothing new lands there.
3. Upgrade: drain at most maxUnavailable old nodes at a time (PodDisruptionBudgets
   respected; `PodEvictionFailure` after the drain timeout unless `force`), terminate
   them, and launch replacements until the new nodes reach the desired size.
4. Scale down: remove the new nodes beyond the desired size.

The new image is the one the group's target version and release stand for
(`members.image_id` of the group as it will be).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from openeks.kube.client import Client
from openeks.region.nodegroups import members as m
from openeks.region.nodegroups.drain import cordon

if TYPE_CHECKING:
    from openeks.region.nodegroups.controller import NodegroupController

Doc = dict[str, Any]


def max_unavailable(group: Doc, desired: int) -> int:
    config = group.get("updateConfig") or {}
    if config.get("maxUnavailable"):
        return int(config["maxUnavailable"])
    if config.get("maxUnavailablePercentage"):
        return max(1, math.floor(desired * int(config["maxUnavailablePercentage"]) / 100))
    return 1


def target(group: Doc) -> Doc:
    """The group as it will be once the update succeeded."""
    private = group.get("openeks") or {}
    return {
        **group,
        "version": private.get("desiredVersion", group.get("version")),
        "releaseVersion": private.get("desiredReleaseVersion", group.get("releaseVersion")),
    }


async def roll(controller: NodegroupController, group: Doc, client: Client, update: Doc) -> None:
    force = bool((update.get("openeks") or {}).get("force"))
    desired = group["scalingConfig"]["desiredSize"]
    new_group = target(group)
    image = m.image_id(new_group)
    members = await controller.members(group)
    old = [i for i in members if m.tag(i, m.IMAGE_TAG) != image]
    new = [i for i in members if m.tag(i, m.IMAGE_TAG) == image]
    batch = max_unavailable(group, desired)
    zones = {i["Placement"]["AvailabilityZone"] for i in members} or {""}
    surge = max(2 * len(zones), batch) - len(new) if old else 0
    if surge > 0:
        new += await controller.launch(new_group, surge, image)
        await _wait(controller, client, group, new)
    for instance in old:
        await cordon(client, instance["PrivateDnsName"])
    while old:
        taken, old = old[:batch], old[batch:]
        await controller.remove(client, taken, controller.drain_timeout, force=force)
        missing = desired - len(new)
        if missing > 0:
            new += await controller.launch(new_group, min(missing, len(taken)), image)
            await _wait(controller, client, group, new)
    if len(new) > desired:
        extra = m.scale_in_order(new)[: len(new) - desired]
        await controller.remove(client, extra, controller.drain_timeout, force=force)


async def _wait(
    controller: NodegroupController, client: Client, group: Doc, new: list[Doc]
) -> None:
    names = {i["PrivateDnsName"] for i in new}
    if not await controller.wait_ready(client, group, names, controller.ready_timeout):
        raise TimeoutError(
            f"new nodes did not become Ready within {controller.ready_timeout:.0f} s"
        )
