"""Service account tokens: signed JWTs, their issuer discovery, and their authenticator.

One RSA key pair per cluster (pki/sa.key, 0600) signs every token with RS256; its `kid`
is upstream's (base64url of the SHA-256 of the DER public key), so tokens verify
anywhere the published JWKS is fetched (`/openid/v1/jwks`, announced by
`/.well-known/openid-configuration`) — the basis of IAM roles for service accounts.

Two kinds of token, as upstream:
- bound tokens from the TokenRequest API (`serviceaccounts/<name>/token`, projected
  volumes): issuer = the cluster's issuer URL, audiences, expiry, and a `kubernetes.io`
  claim naming the service account and, when bound, the pod (or secret) by name and uid;
- legacy tokens stored in `kubernetes.io/service-account-token` Secrets: issuer
  `kubernetes/serviceaccount`, no expiry, valid while the secret exists.

A token is accepted only if its signature, times and audience check out *and* the
service account (and bound object) still exist with the uid the token names, so deleting
a service account revokes its tokens. Nothing of the token itself is ever logged.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from openeks.kube.api import meta
from openeks.kube.apiserver.auth import User
from openeks.kube.apiserver.pki import write_private
from openeks.kube.apiserver.registry import Registry

log = logging.getLogger(__name__)

Obj = dict[str, Any]
LEGACY_ISSUER = "kubernetes/serviceaccount"
SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class SigningKey:
    private: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def load_or_create(cls, directory: Path) -> SigningKey:
        path = directory / "sa.key"
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_private(path, pem)
            public = key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            write_private(directory / "sa.pub", public)
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")
        return cls(key, kid)

    def jwk(self) -> Obj:
        numbers = self.private.public_key().public_numbers()

        def b64(n: int) -> str:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        return {
            "use": "sig",
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "n": b64(numbers.n),
            "e": b64(numbers.e),
        }


class TokenIssuer:
    """Mints and checks service account tokens for one cluster."""

    def __init__(
        self, key: SigningKey, issuer: str, audiences: list[str], registry: Registry
    ) -> None:
        self.key = key
        self.issuer = issuer
        self.audiences = audiences or [issuer]
        self.registry = registry
        self._public = key.private.public_key()

    # -- issuing -----------------------------------------------------------------------
    def bound_token(
        self,
        sa: Obj,
        audiences: list[str],
        expiration_seconds: int,
        bound: Obj | None = None,
        now: datetime.datetime | None = None,
    ) -> tuple[str, datetime.datetime]:
        now = now or meta.now()
        expires = now + datetime.timedelta(seconds=expiration_seconds)
        m = sa["metadata"]
        private: Obj = {
            "namespace": m["namespace"],
            "serviceaccount": {"name": m["name"], "uid": m["uid"]},
        }
        if bound is not None:
            kind = bound.get("kind", "Pod").lower()
            private[kind] = {"name": bound["name"], "uid": bound["uid"]}
        claims = {
            "aud": audiences or self.audiences,
            "exp": int(expires.timestamp()),
            "iat": int(now.timestamp()),
            "iss": self.issuer,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": private,
            "nbf": int(now.timestamp()),
            "sub": f"{SA_PREFIX}{m['namespace']}:{m['name']}",
        }
        return self._sign(claims), expires

    def legacy_token(self, sa: Obj, secret_name: str) -> str:
        m = sa["metadata"]
        claims = {
            "iss": LEGACY_ISSUER,
            "kubernetes.io/serviceaccount/namespace": m["namespace"],
            "kubernetes.io/serviceaccount/secret.name": secret_name,
            "kubernetes.io/serviceaccount/service-account.name": m["name"],
            "kubernetes.io/serviceaccount/service-account.uid": m["uid"],
            "sub": f"{SA_PREFIX}{m['namespace']}:{m['name']}",
        }
        return self._sign(claims)

    def _sign(self, claims: Obj) -> str:
        return jwt.encode(
            claims, self.key.private, algorithm="RS256", headers={"kid": self.key.kid}
        )

    # -- discovery ---------------------------------------------------------------------
    def openid_configuration(self, jwks_uri: str) -> Obj:
        return {
            "issuer": self.issuer,
            "jwks_uri": jwks_uri,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> Obj:
        return {"keys": [self.key.jwk()]}

    # -- checking ----------------------------------------------------------------------
    async def authenticate_token(self, token: str) -> User | None:
        if token.count(".") != 2:
            return None
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        if header.get("alg") != "RS256" or unverified.get("iss") not in (
            self.issuer,
            LEGACY_ISSUER,
        ):
            return None
        try:
            if unverified.get("iss") == LEGACY_ISSUER:
                claims = jwt.decode(
                    token, self._public, algorithms=["RS256"], options={"verify_aud": False}
                )
                return await self._legacy_user(claims, token)
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["RS256"],
                audience=self.audiences,
                issuer=self.issuer,
                leeway=60,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as e:
            log.info("rejected a service account token: %s", type(e).__name__)
            return None
        return await self._bound_user(claims)

    async def _get(self, storage: str, namespace: str, name: str) -> Obj | None:
        kv = await self.registry.store.get(self.registry.for_storage(storage).key(namespace, name))
        if kv is None:
            return None
        obj: Obj = orjson.loads(kv.value)
        return obj

    async def _bound_user(self, claims: Obj) -> User | None:
        private = claims.get("kubernetes.io") or {}
        namespace = private.get("namespace", "")
        sa_ref = private.get("serviceaccount") or {}
        sa = await self._get("core/serviceaccounts", namespace, sa_ref.get("name", ""))
        if sa is None or sa["metadata"].get("uid") != sa_ref.get("uid"):
            log.info("token of a deleted service account %s/%s", namespace, sa_ref.get("name"))
            return None
        extra: dict[str, list[str]] = {}
        for kind, storage in (("pod", "core/pods"), ("secret", "core/secrets")):
            ref = private.get(kind)
            if ref:
                bound = await self._get(storage, namespace, ref.get("name", ""))
                if bound is None or bound["metadata"].get("uid") != ref.get("uid"):
                    log.info("token bound to a deleted %s", kind)
                    return None
                extra[f"authentication.kubernetes.io/{kind}-name"] = [ref["name"]]
                extra[f"authentication.kubernetes.io/{kind}-uid"] = [ref["uid"]]
        if claims.get("jti"):
            extra["authentication.kubernetes.io/credential-id"] = [f"JTI={claims['jti']}"]
        return _user(namespace, sa["metadata"]["name"], sa["metadata"]["uid"], extra)

    async def _legacy_user(self, claims: Obj, token: str) -> User | None:
        namespace = claims.get("kubernetes.io/serviceaccount/namespace", "")
        name = claims.get("kubernetes.io/serviceaccount/service-account.name", "")
        uid = claims.get("kubernetes.io/serviceaccount/service-account.uid", "")
        secret_name = claims.get("kubernetes.io/serviceaccount/secret.name", "")
        sa = await self._get("core/serviceaccounts", namespace, name)
        secret = await self._get("core/secrets", namespace, secret_name)
        if sa is None or sa["metadata"].get("uid") != uid or secret is None:
            return None
        stored = (secret.get("data") or {}).get("token", "")
        if base64.b64decode(stored or "").decode(errors="replace") != token:
            return None
        return _user(namespace, name, uid, {})


def _user(namespace: str, name: str, uid: str, extra: dict[str, list[str]]) -> User:
    return User(
        f"{SA_PREFIX}{namespace}:{name}",
        ("system:serviceaccounts", f"system:serviceaccounts:{namespace}"),
        uid,
        extra,
    )
