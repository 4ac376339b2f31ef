"""The admission chain: mutating plugins, then (after validation) validating plugins.

As upstream's: a write is authenticated and authorized, decoded and defaulted, offered to
every mutating plugin in order (they may change the object), validated by its kind's
strategy, then offered to every validating plugin (they may only refuse), then stored.
Deletes are offered to the validating plugins. Plugins refuse by raising `ApiError`
(usually 403 Forbidden with upstream's message); requests the server makes itself carry
no admission and are not checked.

A plugin is any object with a `name` and an async `mutate(request)` and/or
`validate(request)`; `Admission` holds the ordered lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from openeks.kube.api.resources import ResourceInfo

if TYPE_CHECKING:
    from openeks.kube.apiserver.auth import User

Obj = dict[str, Any]


@dataclass
class AdmissionRequest:
    operation: str
    """CREATE, UPDATE or DELETE."""
    info: ResourceInfo
    subresource: str
    namespace: str
    name: str
    obj: Obj | None
    """The object as it will be stored (storage version); mutating plugins edit it."""
    old: Obj | None
    user: User | None
    dry_run: bool = False
    options: Obj | None = None
    warnings: list[str] = field(default_factory=list)
    """Warnings for the client (`Warning` headers), e.g. from PodSecurity's warn mode."""

    def is_kind(self, group: str, kind: str) -> bool:
        return self.info.group == group and self.info.kind == kind


class Plugin(Protocol):
    name: str


class Admission:
    def __init__(
        self, mutating: list[Any] | None = None, validating: list[Any] | None = None
    ) -> None:
        self.mutating: list[Any] = list(mutating or ())
        self.validating: list[Any] = list(validating or ())

    async def mutate(self, request: AdmissionRequest) -> None:
        for plugin in self.mutating:
            await plugin.mutate(request)

    async def validate(self, request: AdmissionRequest) -> None:
        for plugin in self.validating:
            await plugin.validate(request)
