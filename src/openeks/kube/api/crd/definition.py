"""CustomResourceDefinitions: checking one, and what it makes the server serve.

`validate_crd` applies the rules users hit most (name = `<plural>.<group>`, one storage
version, a structural `openAPIV3Schema` per version, scope, names); `served_resources`
turns an accepted CRD into one `ResourceInfo` per served version, with the status and
scale subresources it declares; `printer_columns` and `scale_paths` expose the rest.
"""

from __future__ import annotations

import re
from typing import Any

from openeks.kube.api.errors import Cause
from openeks.kube.api.resources import ResourceInfo, Subresource

Obj = dict[str, Any]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def _invalid(field: str, value: Any, detail: str) -> Cause:
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return Cause("FieldValueInvalid", f"Invalid value: {shown}: {detail}", field)


def validate_crd(crd: Obj) -> list[Cause]:
    causes: list[Cause] = []
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    plural = names.get("plural", "")
    name = (crd.get("metadata") or {}).get("name", "")
    if not group:
        causes.append(Cause("FieldValueRequired", "Required value", "spec.group"))
    elif "." not in group:
        causes.append(_invalid("spec.group", group, "should be a domain with at least one dot"))
    if not plural:
        causes.append(Cause("FieldValueRequired", "Required value", "spec.names.plural"))
    if not names.get("kind"):
        causes.append(Cause("FieldValueRequired", "Required value", "spec.names.kind"))
    for field in ("plural", "singular"):
        value = names.get(field)
        if value and not _DNS_LABEL.match(value):
            causes.append(
                _invalid(
                    f"spec.names.{field}",
                    value,
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                    "characters or '-'",
                )
            )
    if plural and group and name != f"{plural}.{group}":
        causes.append(_invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            Cause(
                "FieldValueNotSupported",
                f'Unsupported value: "{spec.get("scope", "")}": '
                'supported values: "Cluster", "Namespaced"',
                "spec.scope",
            )
        )
    versions = spec.get("versions") or []
    if not versions:
        causes.append(
            Cause(
                "FieldValueInvalid",
                "Invalid value: []: must have exactly one version marked as storage version",
                "spec.versions",
            )
        )
    storage = [v for v in versions if v.get("storage")]
    if versions and len(storage) != 1:
        causes.append(
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {[v.get('name') for v in versions]}: "
                "must have exactly one version marked as storage version",
                "spec.versions",
            )
        )
    for i, version in enumerate(versions):
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if schema is None:
            causes.append(
                Cause(
                    "FieldValueRequired",
                    "Required value: schemas are required",
                    f"spec.versions[{i}].schema.openAPIV3Schema",
                )
            )
        elif schema.get("type") != "object":
            causes.append(
                Cause(
                    "FieldValueRequired",
                    'Required value: must be "object" at the root',
                    f"spec.versions[{i}].schema.openAPIV3Schema.type",
                )
            )
    return causes


def storage_version(crd: Obj) -> str:
    for version in (crd.get("spec") or {}).get("versions") or ():
        if version.get("storage"):
            return str(version["name"])
    return ""


def version_spec(crd: Obj, version: str) -> Obj:
    for v in (crd.get("spec") or {}).get("versions") or ():
        if v.get("name") == version:
            return dict(v)
    return {}


def served_resources(crd: Obj) -> list[ResourceInfo]:
    spec = crd["spec"]
    names = spec["names"]
    group = spec["group"]
    out = []
    for version in spec.get("versions") or ():
        if not version.get("served"):
            continue
        subresources = []
        declared = version.get("subresources") or {}
        if "scale" in declared:
            subresources.append(Subresource("scale", "Scale", group="autoscaling", version="v1"))
        if "status" in declared:
            subresources.append(Subresource("status", names["kind"]))
        out.append(
            ResourceInfo(
                group,
                version["name"],
                names["kind"],
                names["plural"],
                names.get("singular") or names["kind"].lower(),
                spec["scope"] == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=tuple(subresources),
                storage=f"{group}/{names['plural']}",
                crd=True,
                extra={"scale": declared.get("scale")} if "scale" in declared else {},
            )
        )
    return out


def printer_columns(crd: Obj, version: str) -> list[Obj]:
    return list(version_spec(crd, version).get("additionalPrinterColumns") or ())


def scale_paths(crd: Obj, version: str) -> Obj | None:
    return (version_spec(crd, version).get("subresources") or {}).get("scale")
