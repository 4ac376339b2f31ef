"""Bearer tokens checked by someone else: the webhook token authenticator.

As upstream's `--authentication-token-webhook-config-file`: a token no local
authenticator knows is sent to a remote service as an `authentication.k8s.io/v1`
TokenReview; its answer (`status.authenticated`, `status.user`) decides. This is how the
EKS layer plugs IAM in without the API server knowing anything about AWS: the region
service verifies `k8s-aws-v1.` tokens (presigned STS GetCallerIdentity) and maps the
identity through access entries. Answers are cached by token hash — `ttl` seconds for
a user, `negative_ttl` for a refusal (as upstream's cache-unauthorized-ttl), not at all
when the webhook could not be reached; the token itself is never logged or kept.
"""

from __future__ import annotations

import hashlib
import logging
import time

import aiohttp
import orjson

from openeks.kube.apiserver.auth import User

log = logging.getLogger(__name__)


class WebhookTokenAuthenticator:
    def __init__(
        self,
        url: str,
        ttl: float = 120.0,
        timeout: float = 5.0,
        prefix: str = "",
        negative_ttl: float = 5.0,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.timeout = timeout
        self.prefix = prefix
        """Only tokens starting with this are sent (e.g. 'k8s-aws-v1.'); '' = all."""
        self._cache: dict[str, tuple[float, User | None]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def authenticate_token(self, token: str) -> User | None:
        if self.prefix and not token.startswith(self.prefix):
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        reached, user = await self._review(token)
        if not reached:
            return None
        self._cache[key] = (now + (self.ttl if user is not None else self.negative_ttl), user)
        if len(self._cache) > 10_000:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        return user

    async def _review(self, token: str) -> tuple[bool, User | None]:
        """(whether the webhook answered, the user it vouched for)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        review = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        try:
            async with self._session.post(
                self.url,
                data=orjson.dumps(review),
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                body = await resp.read()
                if resp.status >= 300:
                    log.warning("token webhook answered %d", resp.status)
                    return False, None
        except (aiohttp.ClientError, TimeoutError) as e:
            log.warning("token webhook unreachable: %s", type(e).__name__)
            return False, None
        try:
            status = (orjson.loads(body) or {}).get("status") or {}
        except (orjson.JSONDecodeError, AttributeError):
            log.warning("token webhook answered something that is not a TokenReview")
            return False, None
        if not status.get("authenticated"):
            return True, None
        info = status.get("user") or {}
        return True, User(
            str(info.get("username", "")),
            tuple(info.get("groups") or ()),
            str(info.get("uid", "")),
            {k: list(v) for k, v in (info.get("extra") or {}).items()},
        )
