"""The Auto Scaling side of a node group: launching and terminating its instances in bulk.

A node group of a thousand simulated nodes is launched and removed as a whole, so the
EC2 calls are batched: new instances are spread over the group's zones first
(`members.spread`), then launched in calls of at most `BATCH` instances per subnet (a
RunInstances with a count), several at once; terminations go in concurrent batches too,
and waiting for them reads the instance documents once per round, not one by one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from openeks.region.nodegroups import members as m
from openeks.region.state import RegionState
from openeks.region.vpc import instances as ec2
from openeks.region.zones import Region

log = logging.getLogger(__name__)

Doc = dict[str, Any]
BATCH = 100


async def launch(
    state: RegionState,
    region: Region,
    account: str,
    group: Doc,
    placed: dict[str, int],
    image: str,
) -> list[Doc]:
    """Launch `placed` (subnet → count) instances of `group` running `image`."""
    role_name = group["nodeRole"].rsplit("/", 1)[-1]
    common: Doc = {
        "instance_type": (group.get("instanceTypes") or ["t3.medium"])[0],
        "image_id": image,
        "user_data": m.user_data(group, image),
        "tags": m.instance_tags(group, image),
        "service_tags": m.service_tags(group),
        "security_group_ids": [],
        "iam_instance_profile": {"Arn": f"arn:aws:iam::{account}:instance-profile/{role_name}"},
        "client_token": None,
        "launch_template": None,
    }
    calls = []
    for subnet, count in placed.items():
        for start in range(0, count, BATCH):
            n = min(BATCH, count - start)
            calls.append(
                ec2.launch_instances(state, region, account, subnet_id=subnet, count=n, **common)
            )
    results = await asyncio.gather(*calls, return_exceptions=True)
    launched = [doc for r in results if isinstance(r, list) for doc in r]
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
    return launched


async def terminate(state: RegionState, ids: list[str]) -> None:
    """TerminateInstances for `ids`, in concurrent batches."""
    batches = [ids[i : i + BATCH // 10] for i in range(0, len(ids), BATCH // 10)]
    await asyncio.gather(*(ec2.terminate_instances(state, b) for b in batches))


async def wait_terminated(state: RegionState, ids: list[str], timeout: float) -> bool:
    """Wait until every one of `ids` is `terminated` (its Node deleted)."""
    deadline = time.monotonic() + timeout
    left = set(ids)
    while time.monotonic() < deadline:
        live = {
            r.name
            for r in await state.list("instances")
            if r.value["State"]["Name"] != "terminated"
        }
        left &= live
        if not left:
            return True
        await asyncio.sleep(max(0.5, len(left) / 500))
    log.warning("instances %s did not terminate within %.0f s", sorted(left), timeout)
    return False
