"""Who may call the AWS APIs: access keys as the caller's store knows them, and the
principal an authenticated request was signed by.

The edge never stores keys. Whoever runs it (the region service) passes a lookup
`access_key_id -> Credential | None`; `sigv4` checks a request against the returned
secret (and session token, for temporary credentials) and hands back the `Principal`,
which the backends see in their `RequestContext`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Credential:
    """An access key as the caller's credential store knows it."""

    access_key_id: str
    secret_access_key: str
    account_id: str
    arn: str
    """The principal's ARN, e.g. `arn:aws:iam::123456789012:user/alice`."""
    user_id: str = ""
    """What STS GetCallerIdentity calls `UserId` (`AIDA...` for users)."""
    session_token: str | None = None
    """Set for temporary credentials: requests must then carry exactly this token."""
    expiration: datetime | None = None
    """When temporary credentials stop working."""


@dataclass(frozen=True)
class Principal:
    """Who signed an authenticated request."""

    access_key_id: str
    account_id: str
    arn: str
    user_id: str
    temporary: bool = False

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


Lookup = Callable[[str], Credential | None]
