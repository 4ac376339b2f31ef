"""A managed node group's instances: which are its own, what a new one looks like, where
it goes, and which of them are Ready nodes.

A node group is an Auto Scaling group of instances tagged like EKS tags them
(`eks:cluster-name`, `eks:nodegroup-name`, `aws:autoscaling:groupName`,
`kubernetes.io/cluster/<cluster>=owned`). New instances go to the group's subnet whose
zone has fewest members (the ASG's zone balancing); scale-in takes from the fullest zone,
newest first. Their user data is a NodeConfig naming the cluster with the node labels
EKS sets (`eks.amazonaws.com/nodegroup`, `eks.amazonaws.com/nodegroup-image`,
`eks.amazonaws.com/capacityType`) plus the group's labels and taints; the image (AMI)
stands for the group's Kubernetes version and release.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from openeks.kube.client import Client
from openeks.kube.client.resources import NODES
from openeks.region.instances.userdata import render
from openeks.region.vpc.documents import tag_map

Doc = dict[str, Any]
LIVE = ("pending", "running")
IMAGE_TAG = "openeks:image"
TAINT_EFFECTS = {
    "NO_SCHEDULE": "NoSchedule",
    "NO_EXECUTE": "NoExecute",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
}


def tag(doc: Doc, key: str) -> str | None:
    return tag_map(doc.get("Tags")).get(key)


def image_id(group: Doc) -> str:
    """The AMI a group's nodes run: one per AMI type, Kubernetes version and release."""
    release = group.get("releaseVersion") or group.get("version")
    seed = f"{group.get('amiType')}/{group.get('version')}/{release}"
    return "ami-" + hashlib.sha256(seed.encode()).hexdigest()[:17]


def asg_name(group: Doc) -> str:
    groups = (group.get("resources") or {}).get("autoScalingGroups") or []
    if groups:
        return str(groups[0]["name"])
    return f"eks-{group['nodegroupName']}-{group['nodegroupArn'].rsplit('/', 1)[-1]}"


def node_labels(group: Doc, image: str) -> dict[str, str]:
    labels = {
        "eks.amazonaws.com/nodegroup": group["nodegroupName"],
        "eks.amazonaws.com/nodegroup-image": image,
        "eks.amazonaws.com/capacityType": group.get("capacityType") or "ON_DEMAND",
    }
    labels.update(group.get("labels") or {})
    return labels


def node_taints(group: Doc) -> list[str]:
    out = []
    for taint in group.get("taints") or ():
        effect = TAINT_EFFECTS.get(taint.get("effect", ""), taint.get("effect", ""))
        value = taint.get("value")
        key = taint["key"] if value in (None, "") else f"{taint['key']}={value}"
        out.append(f"{key}:{effect}")
    return out


def user_data(group: Doc, image: str) -> str:
    return render(group["clusterName"], node_labels(group, image), node_taints(group))


def instance_tags(group: Doc, image: str) -> dict[str, str]:
    tags = {
        "eks:cluster-name": group["clusterName"],
        "eks:nodegroup-name": group["nodegroupName"],
        f"kubernetes.io/cluster/{group['clusterName']}": "owned",
        "Name": f"{group['clusterName']}-{group['nodegroupName']}-Node",
        IMAGE_TAG: image,
    }
    if (group.get("openeks") or {}).get("runtime") == "simulated":
        tags["openeks.io/runtime"] = "simulated"
    return tags


def service_tags(group: Doc) -> dict[str, str]:
    """The tags Auto Scaling puts on its instances itself (`aws:` keys users may not)."""
    return {"aws:autoscaling:groupName": asg_name(group)}


def is_member(instance: Doc, group: Doc) -> bool:
    return (
        tag(instance, "eks:cluster-name") == group["clusterName"]
        and tag(instance, "eks:nodegroup-name") == group["nodegroupName"]
        and tag(instance, "aws:autoscaling:groupName") == asg_name(group)
    )


def live(instances: list[Doc]) -> list[Doc]:
    return [i for i in instances if i["State"]["Name"] in LIVE]


def next_subnet(group: Doc, members: list[Doc], subnets: dict[str, str]) -> str:
    """The group subnet in the zone with fewest members (`subnets`: id → zone)."""
    per_zone = Counter(subnets.get(i["SubnetId"], "") for i in members)
    choices = [s for s in group["subnets"] if s in subnets]
    return min(choices, key=lambda s: (per_zone[subnets[s]], choices.index(s)))


def spread(group: Doc, members: list[Doc], subnets: dict[str, str], count: int) -> dict[str, int]:
    """How many of `count` new instances go to each group subnet: one by one to the
    zone with fewest members, as `next_subnet` would place them."""
    per_zone = Counter(subnets.get(i["SubnetId"], "") for i in members)
    choices = [s for s in group["subnets"] if s in subnets]
    placed: dict[str, int] = {}
    for _ in range(count):
        subnet = min(choices, key=lambda s: (per_zone[subnets[s]], choices.index(s)))
        per_zone[subnets[subnet]] += 1
        placed[subnet] = placed.get(subnet, 0) + 1
    return placed


def refusals(members: list[Doc]) -> dict[str, str]:
    """Instance id → why it may not join, for members whose join was refused."""
    out = {}
    for instance in members:
        join = (instance.get("openeks") or {}).get("join") or {}
        if join.get("status") == "refused":
            out[instance["InstanceId"]] = str(join.get("reason") or "")
    return out


def scale_in_order(members: list[Doc]) -> list[Doc]:
    """Members to remove first: from the fullest zone, newest first, round by round."""
    by_zone: dict[str, list[Doc]] = {}
    for m in sorted(members, key=lambda i: i.get("LaunchTime", ""), reverse=True):
        by_zone.setdefault(m["Placement"]["AvailabilityZone"], []).append(m)
    order: list[Doc] = []
    while any(by_zone.values()):
        zone = max(by_zone, key=lambda z: len(by_zone[z]))
        order.append(by_zone[zone].pop(0))
    return order


async def ready_nodes(client: Client, group: Doc) -> set[str]:
    listed = await client.list(
        NODES, label_selector=f"eks.amazonaws.com/nodegroup={group['nodegroupName']}"
    )
    ready = set()
    for node in listed.get("items") or ():
        conditions = (node.get("status") or {}).get("conditions") or ()
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            ready.add(node["metadata"]["name"])
    return ready
