"""RunInstances' `ClientToken`: one launch per token.

The token is claimed before anything is launched, by creating `clienttokens/<hash of
the token>` holding a fingerprint of the request; creation is atomic, so of two
concurrent launches with one token exactly one proceeds. The other (and every later
retry) answers the instances the first one made once it has recorded them, or
IdempotentParameterMismatch if its request differs. A launch that fails forgets its
claim, so the token can be used again, as EC2 allows after a failed request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from typing import Any

from openeks.region.state import Exists, Missing, RegionState
from openeks.region.vpc import errors
from openeks.region.vpc.documents import CLIENT_TOKENS, INSTANCES

Doc = dict[str, Any]
WAIT_SECONDS = 10.0
"""How long a repeated request waits for the first one to finish."""


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:40]


def fingerprint(request: Doc) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


async def claim(state: RegionState, token: str, request: Doc) -> list[Doc] | None:
    """Claim `token` for this launch (None), or the instances the launch that claimed
    it with the same request made."""
    digest = fingerprint(request)
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        with contextlib.suppress(Exists):
            await state.create(CLIENT_TOKENS, _key(token), {"token": token, "hash": digest})
            return None
        record = await state.get(CLIENT_TOKENS, _key(token))
        if record is None:
            continue
        if record.value["hash"] != digest:
            raise errors.token_reused()
        if "instanceIds" in record.value:
            found = [await state.get(INSTANCES, i) for i in record.value["instanceIds"]]
            return [r.value for r in found if r is not None]
        if asyncio.get_running_loop().time() > deadline:
            # (openeks wording)
            raise errors.Ec2Error(
                "IncorrectState", "A launch with this client token is still in progress."
            )
        await asyncio.sleep(0.05)


async def record(state: RegionState, token: str, instance_ids: list[str]) -> None:
    def done(current: Doc) -> Doc:
        return {**current, "instanceIds": instance_ids}

    await state.mutate(CLIENT_TOKENS, _key(token), done)


async def forget(state: RegionState, token: str) -> None:
    with contextlib.suppress(Missing):
        await state.delete(CLIENT_TOKENS, _key(token))
