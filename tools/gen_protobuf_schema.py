"""Generate ``src/openeks/kube/api/protobuf_schema.json`` from Kubernetes ``generated.proto`` texts.

The decoder in ``openeks.kube.api.protobuf`` needs, for every message, the map
field number -> (JSON name, label, type, flags).  The protocol's specification is
upstream's ``generated.proto`` files (``staging/src/k8s.io/api/*/v1/generated.proto``,
``apimachinery/pkg/{apis/meta/v1,runtime,api/resource,util/intstr}/generated.proto``,
``apiextensions-apiserver/.../apiextensions/v1/generated.proto``).  Fetch those texts
into a scratch directory (never into this repository) and run::

    .venv/bin/python tools/gen_protobuf_schema.py /tmp/k8s-proto \\
        --go-tags .venv/bin/kubectl [--pointers /tmp/k8s-proto/pointers.txt]

Three facts a ``.proto`` file does not carry are joined in here:

* **JSON names and embedding** — ``go-to-protobuf`` names fields after the Go field,
  so a few differ from the JSON tag (``uID`` -> ``uid``, ``ref`` -> ``$ref``,
  ``xKubernetesListType`` -> ``x-kubernetes-list-type``) and Go-embedded structs
  (``json:",inline"``, e.g. ``Volume.volumeSource``, ``Probe.handler``) appear as
  ordinary fields.  Both are read from the Kubernetes 1.37 OpenAPI definitions that
  ship in the ``kubernetes-validate`` package: a field maps to the property whose name
  is equal once case and punctuation are ignored, and a message-typed field with no
  such property whose own fields are all properties of the parent is inline.
* **required** — OpenAPI ``required`` lists the fields whose JSON tag has no
  ``omitempty``; their zero values are kept by the decoder.
* **omitempty, exactly** — OpenAPI ``required`` also skips ``+optional`` fields whose
  tag lacks ``omitempty`` (``PriorityClass.value``) and status fields
  (``PodDisruptionBudgetStatus.currentHealthy``).  With ``--go-tags BINARY`` the
  struct tags compiled into a Go binary of the same release (the venv's kubectl 1.37,
  which embeds every ``k8s.io/api`` type) are read; a field whose
  ``protobuf:"<wire>,<n>,<opt|rep>,name=<proto name>"`` + ``json:"<name>"`` pair is
  unambiguous there takes its ``omitempty`` from it, overriding OpenAPI.
* **pointer** — Go ``*T`` scalar fields (``replicas *int32``) encode "set to zero"
  differently from "unset"; the decoder keeps their zero values.  The list is a small
  text file (``<package> <Message> <field>...``) transcribed from upstream
  ``zz_generated.deepcopy.go`` / ``types.go``; its lines are echoed into the output's
  ``sources``.

The output is compact JSON: one message per line, each field a list
``[number, json_name, label, type, flags]`` with label ``""`` (singular), ``"r"``
(repeated) or ``"m"`` (map<string, type>) and flags a string of ``p`` (pointer),
``q`` (required), ``i`` (inline).
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

SCALARS = frozenset(
    {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
     "fixed32", "fixed64", "sfixed32", "sfixed64", "double", "float"}
)  # fmt: skip

# Proto package -> short prefix used in the output (keeps the data file small).
SHORT_PACKAGES = {
    "k8s.io.apimachinery.pkg.apis.meta.v1": "meta.v1",
    "k8s.io.apimachinery.pkg.runtime": "runtime",
    "k8s.io.apimachinery.pkg.api.resource": "resource",
    "k8s.io.apimachinery.pkg.util.intstr": "intstr",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1": "apiextensions.v1",
}

# Short package -> apiVersion served for it (from each group's register.go).
GROUP_VERSIONS = {
    "core.v1": "v1",
    "apps.v1": "apps/v1",
    "batch.v1": "batch/v1",
    "coordination.v1": "coordination.k8s.io/v1",
    "discovery.v1": "discovery.k8s.io/v1",
    "policy.v1": "policy/v1",
    "events.v1": "events.k8s.io/v1",
    "rbac.v1": "rbac.authorization.k8s.io/v1",
    "authentication.v1": "authentication.k8s.io/v1",
    "authorization.v1": "authorization.k8s.io/v1",
    "autoscaling.v1": "autoscaling/v1",
    "autoscaling.v2": "autoscaling/v2",
    "networking.v1": "networking.k8s.io/v1",
    "scheduling.v1": "scheduling.k8s.io/v1",
    "storage.v1": "storage.k8s.io/v1",
    "admissionregistration.v1": "admissionregistration.k8s.io/v1",
    "apiextensions.v1": "apiextensions.k8s.io/v1",
    "certificates.v1": "certificates.k8s.io/v1",
    "node.v1": "node.k8s.io/v1",
    "meta.v1": "meta.k8s.io/v1",
}

OPENAPI_RESOURCE = "kubernetes-json-schema/v1.37.0-local/_definitions.json"

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_MESSAGE = re.compile(r"\bmessage\s+(\w+)\s*\{")
_FIELD = re.compile(
    r"^(?:(optional|repeated|required)\s+([\w.]+)|map\s*<\s*(\w+)\s*,\s*([\w.]+)\s*>)"
    r"\s+(\w+)\s*=\s*(\d+)\s*(?:\[[^\]]*\])?\s*;$"
)


@dataclass
class ProtoField:
    number: int
    name: str
    label: str  # "", "r" or "m"
    type: str  # scalar name or (before resolution) the written message type


@dataclass
class ProtoMessage:
    package: str
    name: str
    fields: list[ProtoField] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.package}.{self.name}"


def short_name(full_name: str) -> str:
    """``k8s.io.api.core.v1.Pod`` -> ``core.v1.Pod``; meta/runtime/... get fixed prefixes."""
    package, _, name = full_name.rpartition(".")
    if package in SHORT_PACKAGES:
        return f"{SHORT_PACKAGES[package]}.{name}"
    if package.startswith("k8s.io.api."):
        return f"{package.removeprefix('k8s.io.api.')}.{name}"
    raise ValueError(f"no short name for package {package!r}")


def parse_proto(text: str) -> list[ProtoMessage]:
    """Parse the proto2 subset ``go-to-protobuf`` emits: flat messages of simple fields."""
    text = _COMMENT.sub("", text)
    package_match = re.search(r"^\s*package\s+([\w.]+)\s*;", text, re.M)
    if package_match is None:
        raise ValueError("no package statement")
    package = package_match.group(1)
    messages = []
    for match in _MESSAGE.finditer(text):
        body_start = match.end()
        body_end = text.index("}", body_start)
        if "{" in text[body_start:body_end]:
            raise ValueError(f"nested declarations in {match.group(1)} are not supported")
        message = ProtoMessage(package, match.group(1))
        for raw_line in text[body_start:body_end].split(";"):
            line = " ".join(raw_line.split())
            if not line or line.startswith(("option ", "reserved ")):
                continue
            field_match = _FIELD.match(line + ";")
            if field_match is None:
                raise ValueError(f"cannot parse field {line!r} in {message.name}")
            label, type_, map_key, map_value, name, number = field_match.groups()
            if map_key is not None:
                if map_key != "string":
                    raise ValueError(f"map key {map_key} in {message.name}.{name}")
                message.fields.append(ProtoField(int(number), name, "m", map_value))
            else:
                message.fields.append(
                    ProtoField(int(number), name, "r" if label == "repeated" else "", type_)
                )
        messages.append(message)
    return messages


def resolve(type_name: str, package: str, known: set[str]) -> str:
    """Resolve a written type name with protobuf scoping rules (innermost scope first)."""
    if type_name in SCALARS:
        return type_name
    if type_name.startswith("."):
        candidate = type_name[1:]
        if candidate in known:
            return candidate
        raise ValueError(f"unknown type {type_name}")
    scope = package.split(".")
    while True:
        candidate = ".".join([*scope, type_name])
        if candidate in known:
            return candidate
        if not scope:
            raise ValueError(f"unknown type {type_name} (from package {package})")
        scope.pop()


def normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def openapi_key(full_name: str) -> str:
    package, _, name = full_name.rpartition(".")
    return "io.k8s." + package.removeprefix("k8s.io.").replace("_", "-") + "." + name


def load_openapi(path: Path | None) -> dict[str, dict]:
    if path is None:
        resource = importlib.resources.files("kubernetes_validate") / OPENAPI_RESOURCE
        data = json.loads(resource.read_text())
    else:
        data = json.loads(path.read_text())
    return data.get("$defs") or data.get("definitions") or data["components"]["schemas"]


# A struct tag holding both keys, in either order, possibly with other keys between.
# (The byte before a tag is its length, so the first key may be glued to junk.)
_GO_TAGS = (
    re.compile(rb'json:"([^"]*)"(?: [A-Za-z_]+:"[^"]*")* protobuf:"([^"]*)"'),
    re.compile(rb'protobuf:"([^"]*)"(?: [A-Za-z_]+:"[^"]*")* json:"([^"]*)"'),
)


def load_go_tags(path: Path) -> dict[tuple[str, int, str, str, str], set[bool]]:
    """(wire, number, opt|rep, proto name, json name) -> {omitempty?} from a Go binary.

    The linker stores each distinct struct tag once, so a key with one answer means
    every struct carrying that protobuf field and JSON name agrees on ``omitempty``.
    """
    data = path.read_bytes()
    index: dict[tuple[str, int, str, str, str], set[bool]] = {}
    for position, pattern in enumerate(_GO_TAGS):
        for match in pattern.finditer(data):
            json_tag, protobuf_tag = match.groups()[:: 1 if position == 0 else -1]
            parts = protobuf_tag.decode("ascii", "replace").split(",")
            names = [part[5:] for part in parts if part.startswith("name=")]
            if len(parts) < 3 or not parts[1].isdigit() or not names:
                continue
            json_name, *options = json_tag.decode("ascii", "replace").split(",")
            key = (parts[0], int(parts[1]), parts[2], names[0], json_name)
            index.setdefault(key, set()).add("omitempty" in options or "omitzero" in options)
    return index


def wire_kind(proto_field: ProtoField) -> str:
    if proto_field.label == "m" or proto_field.type not in SCALARS:
        return "bytes"
    if proto_field.type in ("string", "bytes"):
        return "bytes"
    if proto_field.type in ("double", "fixed64", "sfixed64"):
        return "fixed64"
    if proto_field.type in ("float", "fixed32", "sfixed32"):
        return "fixed32"
    return "varint"


def load_pointers(path: Path) -> tuple[dict[str, set[str]], list[str]]:
    """Pointer fields as {short message name: {normalized field names}}, plus source notes.

    ``path`` is either the text list (``<package> <Message> <field>...``, ``#`` comments
    are provenance notes) or a previously generated schema, whose ``p`` flags and
    pointer ``sources`` are carried over — so regenerating needs no extra file.
    """
    pointers: dict[str, set[str]] = {}
    if path.suffix == ".json":
        document = json.loads(path.read_text())
        for message, rows in document["messages"].items():
            names = {normalize(row[1]) for row in rows if "p" in row[4]}
            if names:
                pointers[message] = names
        notes = [line for line in document["sources"] if not line.startswith("transcribed ")]
        return pointers, [line for line in notes if not line.startswith("omitempty ")]
    sources = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            sources.append(line.lstrip("# "))
            continue
        package, message, *names = line.split()
        pointers.setdefault(short_name(f"{package}.{message}"), set()).update(
            normalize(name) for name in names
        )
    return pointers, sources


def build(
    proto_dir: Path, pointer_file: Path, openapi_file: Path | None, go_tags: Path | None = None
) -> tuple[dict, list[str]]:
    """Return the schema document and a list of human-readable notes for review."""
    messages: dict[str, ProtoMessage] = {}
    sources = []
    for path in sorted(proto_dir.glob("*.proto")):
        text = path.read_text()
        first = text.splitlines()[0] if text else ""
        if first.startswith("//"):
            sources.append(first.lstrip("/ "))
        for message in parse_proto(text):
            messages[message.full_name] = message
    known = set(messages)
    openapi = load_openapi(openapi_file)
    pointers, pointer_sources = load_pointers(pointer_file)
    tags = load_go_tags(go_tags) if go_tags is not None else {}
    if go_tags is not None:
        sources.append(f"omitempty from the struct tags compiled into {go_tags.name}")
    notes: list[str] = []

    for message in messages.values():
        for proto_field in message.fields:
            proto_field.type = resolve(proto_field.type, message.package, known)

    def json_properties(full_name: str) -> tuple[dict[str, str], set[str]] | None:
        definition = openapi.get(openapi_key(full_name))
        if definition is None:
            return None
        props = {normalize(p): p for p in definition.get("properties", {})}
        return props, set(definition.get("required", []))

    def is_inline(type_name: str, props: dict[str, str]) -> bool:
        """Every field of ``type_name`` is a parent property, directly or via nested inlining."""
        if type_name not in known:
            return False
        inner = messages[type_name].fields
        return bool(inner) and all(
            normalize(f.name) in props or (f.label == "" and is_inline(f.type, props))
            for f in inner
        )

    out_messages: dict[str, list[list]] = {}
    for full_name, message in sorted(messages.items()):
        described = json_properties(full_name)
        wanted = pointers.pop(short_name(full_name), set())
        rows = []
        for proto_field in sorted(message.fields, key=lambda f: f.number):
            json_name, flags = proto_field.name, ""
            if described is not None:
                props, required = described
                prop = props.get(normalize(proto_field.name))
                if prop is not None:
                    json_name = prop
                    tag_key = (
                        wire_kind(proto_field),
                        proto_field.number,
                        "opt" if proto_field.label == "" else "rep",
                        proto_field.name,
                        json_name,
                    )
                    omitempty = tags.get(tag_key, set())
                    if len(omitempty) == 1:
                        is_required = not next(iter(omitempty))
                        if is_required != (prop in required):
                            state = "required" if is_required else "omitempty"
                            notes.append(f"{state} per Go tag: {short_name(full_name)}.{prop}")
                    else:
                        is_required = prop in required
                    if is_required:
                        flags += "q"
                elif proto_field.label == "" and is_inline(proto_field.type, props):
                    flags += "i"
                    notes.append(f"inline: {short_name(full_name)}.{proto_field.name}")
                elif props:
                    # A field the served API (1.37 OpenAPI) does not have: a development
                    # snapshot's field that was renamed or dropped.  Leave it out so its
                    # number is skipped like any unknown field instead of mislabelled.
                    notes.append(
                        f"dropped, not in OpenAPI: {short_name(full_name)}.{proto_field.name}"
                    )
                    wanted.discard(normalize(proto_field.name))
                    continue
            if normalize(proto_field.name) in wanted:
                wanted.discard(normalize(proto_field.name))
                flags += "p"
            type_ = proto_field.type
            rows.append([
                proto_field.number,
                json_name,
                proto_field.label,
                type_ if type_ in SCALARS else short_name(type_),
                flags,
            ])  # fmt: skip
        if wanted:
            raise ValueError(f"pointer list names unknown fields {sorted(wanted)} of {full_name}")
        out_messages[short_name(full_name)] = rows
    if pointers:
        raise ValueError(f"pointer list names unknown messages {sorted(pointers)}")
    document = {
        "sources": sources + pointer_sources,
        "groupVersions": GROUP_VERSIONS,
        "messages": out_messages,
    }
    return document, notes


def dump(document: dict) -> str:
    """Compact JSON with one message per line, so diffs stay readable."""
    compact = {"separators": (",", ":"), "ensure_ascii": True}
    lines = ["{"]
    lines.append(f'"sources":{json.dumps(document["sources"], indent=0, **compact)},')
    lines.append(f'"groupVersions":{json.dumps(document["groupVersions"], **compact)},')
    lines.append('"messages":{')
    items = list(document["messages"].items())
    for index, (name, rows) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        lines.append(f"{json.dumps(name)}:{json.dumps(rows, **compact)}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("proto_dir", type=Path, help="directory of fetched *.proto texts")
    parser.add_argument(
        "--pointers",
        type=Path,
        help="pointer-field list, or a schema JSON to take them from (default: --out)",
    )
    parser.add_argument("--openapi", type=Path, help="OpenAPI definitions JSON (default: 1.37)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent
        / "src/openeks/kube/api/protobuf_schema.json",
    )
    parser.add_argument("--go-tags", type=Path, help="Go binary whose struct tags give omitempty")
    parser.add_argument("--notes", action="store_true", help="print inline/unmatched fields")
    args = parser.parse_args(argv)
    document, notes = build(args.proto_dir, args.pointers or args.out, args.openapi, args.go_tags)
    args.out.write_text(dump(document))
    if args.notes:
        print("\n".join(notes), file=sys.stderr)
    print(f"wrote {len(document['messages'])} messages to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
