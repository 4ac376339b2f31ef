"""What a request handler needs to know about the running server, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api import errors
from openeks.kube.api.resources import ResourceInfo, Resources
from openeks.kube.api.schema import Definitions, Node
from openeks.kube.apiserver.admission import Admission
from openeks.kube.apiserver.registry import Registry, ResourceStore

Obj = dict[str, Any]


@dataclass
class VersionInfo:
    minor: str
    """'1.37'"""
    patch: int = 0

    @property
    def git_version(self) -> str:
        return f"v{self.minor}.{self.patch}"

    def to_dict(self) -> dict[str, str]:
        major, minor = self.minor.split(".")
        return {
            "major": major,
            "minor": minor,
            "emulationMajor": major,
            "emulationMinor": minor,
            "minCompatibilityMajor": major,
            "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
            "gitVersion": self.git_version,
            "gitCommit": "openeks",
            "gitTreeState": "clean",
            "buildDate": "2026-11-25T00:00:00Z",
            "goVersion": "python",
            "compiler": "cpython",
            "platform": "linux/amd64",
        }


@dataclass
class ApiContext:
    resources: Resources
    registry: Registry
    definitions: Definitions
    version: VersionInfo
    crd_schemas: dict[tuple[str, str, str], Node] = field(default_factory=dict)
    """(group, version, kind) -> schema of served custom resources."""
    crd_columns: dict[tuple[str, str, str], list[Obj]] = field(default_factory=dict)
    admission: Admission = field(default_factory=Admission)
    """The admission chain client writes pass through."""

    def info(self, group: str, version: str, plural: str) -> ResourceInfo:
        info = self.resources.get(group, version, plural)
        if info is None:
            raise errors.ApiError(
                "the server could not find the requested resource", 404, "NotFound"
            )
        return info

    def store_for(self, info: ResourceInfo) -> ResourceStore:
        return self.registry.for_storage(info.storage_path)

    def schema(self, info: ResourceInfo) -> Node | None:
        key = (info.group, info.version, info.kind)
        if info.crd:
            return self.crd_schemas.get(key)
        return self.definitions.for_kind(*key)

    def scale_schema(self) -> Node | None:
        return self.definitions.for_kind("autoscaling", "v1", "Scale")
