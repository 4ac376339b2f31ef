"""Which Fargate profile a pod belongs to.

A profile matches a pod when any of its selectors does; a selector matches when its
namespace matches the pod's namespace and every one of its labels matches some label of
the pod. Namespaces, label keys and label values may use two wildcards, as EKS documents
("Fargate profile wildcards"): `*` for any run of characters (none included) and `?` for
exactly one; everything else matches itself, case-sensitively (no character classes, no
regular expressions).

When several profiles match, EKS takes the first by name in alphanumeric order, unless
the pod names one with the label `eks.amazonaws.com/fargate-profile`: then that profile
is used if the pod matches one of its selectors, and none otherwise. A label naming a
profile that is not among those considered (deleted, say) is ignored, so the pod falls
back to the first match by name, as EKS reschedules pods of a deleted profile. EKS
labels the pods it places with the profile's name (`profile_label`).

DaemonSet pods never match (`support.is_daemonset_pod`). The caller chooses which
profiles to consider, normally the ACTIVE ones (`usable`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from openeks.region.fargate.support import is_daemonset_pod

Pod = Mapping[str, Any]
Profile = Mapping[str, Any]

PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"
USABLE_STATUSES = ("ACTIVE",)


@functools.lru_cache(maxsize=1024)
def _pattern(wildcard: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in wildcard)
    return re.compile("".join(parts), re.DOTALL)


def wildcard_match(pattern: str, text: str) -> bool:
    """Whether `text` matches `pattern` with `*` (any run) and `?` (one character)."""
    return _pattern(pattern).fullmatch(text) is not None


def _label_matches(key: str, value: str, labels: Mapping[str, str]) -> bool:
    if "*" not in key and "?" not in key:
        return key in labels and wildcard_match(value, labels[key])
    return any(wildcard_match(key, k) and wildcard_match(value, v) for k, v in labels.items())


def selector_matches(
    selector: Mapping[str, Any], namespace: str, labels: Mapping[str, str]
) -> bool:
    if not wildcard_match(str(selector.get("namespace") or ""), namespace):
        return False
    wanted = selector.get("labels") or {}
    return all(_label_matches(k, v, labels) for k, v in wanted.items())


def profile_matches(profile: Profile, namespace: str, labels: Mapping[str, str]) -> bool:
    return any(selector_matches(s, namespace, labels) for s in profile.get("selectors") or ())


def usable(profiles: Iterable[Profile]) -> list[Profile]:
    """The profiles new pods may be placed with (ACTIVE ones)."""
    return [p for p in profiles if p.get("status") in USABLE_STATUSES]


def _name(profile: Profile) -> str:
    return str(profile.get("fargateProfileName") or "")


def match_profile(profiles: Iterable[Profile], pod: Pod) -> Profile | None:
    """The profile `pod` runs with on Fargate, or None if it does not run on Fargate."""
    if is_daemonset_pod(pod):
        return None
    metadata = pod.get("metadata") or {}
    namespace = str(metadata.get("namespace") or "default")
    labels: Mapping[str, str] = metadata.get("labels") or {}
    ordered = sorted(profiles, key=_name)
    named = labels.get(PROFILE_LABEL)
    chosen = next((p for p in ordered if named is not None and _name(p) == named), None)
    if chosen is not None:
        return chosen if profile_matches(chosen, namespace, labels) else None
    return next((p for p in ordered if profile_matches(p, namespace, labels)), None)


def profile_label(profile: Profile) -> dict[str, str]:
    """The label EKS puts on the pods it places with `profile`."""
    return {PROFILE_LABEL: _name(profile)}
