"""RBAC rule evaluation, as upstream's `rbac/validation` and `rbac.RuleAllows`.

Pure functions over plain rbac.authorization.k8s.io/v1 dicts: does a rule allow a
request, does a binding apply to a user, which rules does one set cover of another
(escalation prevention), and how upstream words a denial.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class Attributes:
    """What a request does, as the authorizer sees it (upstream's authorizer.Attributes)."""

    user: str
    groups: tuple[str, ...]
    verb: str
    resource_request: bool = True
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""
    uid: str = ""
    extra: Mapping[str, Sequence[str]] = field(default_factory=dict, hash=False, compare=False)

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def _has(values: Iterable[str], wanted: str) -> bool:
    return any(value == "*" or value == wanted for value in values)


def resource_matches(rule_resources: Iterable[str], resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    for rule_resource in rule_resources:
        if rule_resource in ("*", combined):
            return True
        if subresource and rule_resource == "*/" + subresource:
            return True
    return False


def non_resource_matches(urls: Iterable[str], path: str) -> bool:
    for url in urls:
        if url == "*" or url == path:
            return True
        if url.endswith("*") and path.startswith(url[:-1]):
            return True
    return False


def rule_allows(rule: Mapping[str, Any], attrs: Attributes) -> bool:
    if not _has(rule.get("verbs") or (), attrs.verb):
        return False
    if attrs.resource_request:
        if not _has(rule.get("apiGroups") or (), attrs.api_group):
            return False
        if not resource_matches(rule.get("resources") or (), attrs.resource, attrs.subresource):
            return False
        names = rule.get("resourceNames") or ()
        return not names or attrs.name in names
    return non_resource_matches(rule.get("nonResourceURLs") or (), attrs.path)


def subject_applies(
    subject: Mapping[str, Any], user: str, groups: Sequence[str], binding_namespace: str
) -> bool:
    kind = subject.get("kind")
    name = subject.get("name", "")
    if kind == "User":
        return user == name
    if kind == "Group":
        return name in groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user == f"{SA_PREFIX}{namespace}:{name}"
    return False


def binding_applies(binding: Mapping[str, Any], user: str, groups: Sequence[str]) -> bool:
    namespace = (binding.get("metadata") or {}).get("namespace", "")
    return any(subject_applies(s, user, groups, namespace) for s in binding.get("subjects") or ())


# -- coverage (escalation prevention) -----------------------------------------------------
def _atomic(rule: Mapping[str, Any]) -> Iterator[Obj]:
    """Break a rule into single-verb, single-resource (or URL) rules, as upstream's
    BreakdownRule does, so that coverage can be checked piece by piece."""
    verbs = rule.get("verbs") or ()
    for group in rule.get("apiGroups") or ():
        for resource in rule.get("resources") or ():
            for verb in verbs:
                names = rule.get("resourceNames") or ()
                if names:
                    for name in names:
                        yield {
                            "verbs": [verb],
                            "apiGroups": [group],
                            "resources": [resource],
                            "resourceNames": [name],
                        }
                else:
                    yield {"verbs": [verb], "apiGroups": [group], "resources": [resource]}
    for url in rule.get("nonResourceURLs") or ():
        for verb in verbs:
            yield {"verbs": [verb], "nonResourceURLs": [url]}


def _covers_one(owner: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    if not _has(owner.get("verbs") or (), wanted["verbs"][0]):
        return False
    if "nonResourceURLs" in wanted:
        return non_resource_matches(
            owner.get("nonResourceURLs") or (), wanted["nonResourceURLs"][0]
        )
    if not _has(owner.get("apiGroups") or (), wanted["apiGroups"][0]):
        return False
    resource = wanted["resources"][0]
    owned = owner.get("resources") or ()
    if resource not in owned and "*" not in owned:
        sub = resource.partition("/")[2]
        if not (sub and ("*/" + sub in owned)):
            return False
    owned_names = owner.get("resourceNames") or ()
    if not owned_names:
        return True
    wanted_names: Sequence[str] = wanted.get("resourceNames") or []
    return bool(wanted_names) and wanted_names[0] in owned_names


def uncovered(
    owner_rules: Sequence[Mapping[str, Any]], requested: Iterable[Mapping[str, Any]]
) -> list[Obj]:
    """The atomic rules of `requested` that `owner_rules` do not cover ([] = covered)."""
    missing = []
    for rule in requested:
        for piece in _atomic(rule):
            if not any(_covers_one(owner, piece) for owner in owner_rules):
                missing.append(piece)
    return missing


def describe_rule(rule: Mapping[str, Any]) -> str:
    """Upstream's compact rule string, e.g. {APIGroups:["apps"], Verbs:["get"]}."""
    parts = []
    for key, label in (
        ("apiGroups", "APIGroups"),
        ("resources", "Resources"),
        ("resourceNames", "ResourceNames"),
        ("nonResourceURLs", "NonResourceURLs"),
        ("verbs", "Verbs"),
    ):
        values = rule.get(key)
        if values:
            parts.append(f"{label}:[" + " ".join(f'"{v}"' for v in values) + "]")
    return "{" + ", ".join(parts) + "}"


def forbidden_message(attrs: Attributes) -> str:
    """The denial text upstream returns in the 403 Status."""
    user = f'User "{attrs.user}"'
    if not attrs.resource_request:
        return f'forbidden: {user} cannot {attrs.verb} path "{attrs.path}"'
    target = attrs.resource + (f".{attrs.api_group}" if attrs.api_group else "")
    if attrs.name:
        target += f' "{attrs.name}"'
    resource = attrs.combined_resource
    where = f' in the namespace "{attrs.namespace}"' if attrs.namespace else " at the cluster scope"
    return (
        f'{target} is forbidden: {user} cannot {attrs.verb} resource "{resource}" in API group '
        f'"{attrs.api_group}"{where}'
    )
