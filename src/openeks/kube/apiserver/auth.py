"""Authentication: who is asking. X.509 client certificates now; tokens plug in later.

The TLS layer already verified a presented client certificate against the cluster CA
(`ssl.CERT_OPTIONAL`), so the certificate authenticator only reads the subject: CN is
the user, each O a group — Kubernetes' x509 convention. Every authenticated user is in
`system:authenticated`. A request no authenticator accepts is refused with 401.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict, hash=False, compare=False)

    def to_user_info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"username": self.name, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = self.extra
        return out


class Authenticator(Protocol):
    async def authenticate(self, request: web.Request) -> User | None:
        """The user, or None if this authenticator does not recognise the request.

        Raise `InvalidCredentials` when the request carries credentials of this kind
        that are wrong (a bad token), so the chain stops with 401."""


class InvalidCredentials(Exception):
    pass


def _with_authenticated(groups: list[str]) -> tuple[str, ...]:
    if "system:authenticated" not in groups:
        groups.append("system:authenticated")
    return tuple(groups)


class CertificateAuthenticator:
    async def authenticate(self, request: web.Request) -> User | None:
        transport = request.transport
        if transport is None:
            return None
        cert = transport.get_extra_info("peercert")
        if not cert:
            return None
        name, groups = "", []
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    name = value
                elif key == "organizationName":
                    groups.append(value)
        if not name:
            return None
        return User(name, _with_authenticated(groups))


class TokenAuthenticator(Protocol):
    async def authenticate_token(self, token: str) -> User | None: ...


class BearerAuthenticator:
    """Runs `Authorization: Bearer` tokens through a list of token authenticators."""

    def __init__(self) -> None:
        self.token_authenticators: list[TokenAuthenticator] = []

    async def authenticate(self, request: web.Request) -> User | None:
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        user = await self.authenticate_token(header[7:].strip())
        if user is None:
            raise InvalidCredentials("invalid bearer token")
        return user

    async def authenticate_token(self, token: str) -> User | None:
        """The user a token stands for, or None (never says why: no oracle for attackers)."""
        if not token:
            return None
        for authenticator in self.token_authenticators:
            user = await authenticator.authenticate_token(token)
            if user is not None:
                return User(user.name, _with_authenticated(list(user.groups)), user.uid, user.extra)
        return None


class AuthenticationChain:
    def __init__(self, authenticators: list[Authenticator]) -> None:
        self.authenticators = authenticators

    async def authenticate(self, request: web.Request) -> User | None:
        for authenticator in self.authenticators:
            try:
                user = await authenticator.authenticate(request)
            except InvalidCredentials:
                return None
            if user is not None:
                return user
        return None
