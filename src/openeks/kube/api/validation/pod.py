"""Pod, pod spec and pod template validation, as `pkg/apis/core/validation`.

`validate_pod_spec` is upstream's `ValidatePodSpec` over the fields it checks most often
(volumes, containers, init and ephemeral containers, restart and DNS policy, node
selector, security context IDs, tolerations, DNS config, service account, node, host
and priority class names, activeDeadlineSeconds); `validate_pod_update` reproduces
`ValidatePodUpdate`'s rule that only images, activeDeadlineSeconds, added tolerations
and removed scheduling gates may change, with its message. Errors come out in
upstream's order, so the aggregated `is invalid: [...]` message matches.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import (
    FieldError,
    Path,
    forbidden,
    invalid,
    required,
)
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.meta import (
    validate_annotations,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from openeks.kube.api.validation.podspec import (
    MAX_INT32,
    validate_pod_spec,
    validate_tolerations,
)

Obj = dict[str, Any]

UPDATABLE_POD_SPEC_FIELDS = [
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
]


# -- pods and templates ----------------------------------------------------------------------


def _pod_specific_annotations(
    annotations: dict[str, str], spec: Obj, path: Path
) -> list[FieldError]:
    errs: list[FieldError] = []
    mirror = "kubernetes.io/config.mirror"
    if mirror in annotations and not a.s(spec, "nodeName"):
        errs.append(
            invalid(
                path.key(mirror),
                annotations[mirror],
                "must set spec.nodeName if mirror pod annotation is set",
            )
        )
    cost_key = "controller.kubernetes.io/pod-deletion-cost"
    if cost_key in annotations:
        try:
            cost = int(annotations[cost_key], 10)
            ok = -(2**31) <= cost < 2**31
        except ValueError:
            ok = False
        if not ok:
            errs.append(
                invalid(path.key(cost_key), annotations[cost_key], "must be a 32bit integer")
            )
    return errs


def _validate_pod_metadata_and_spec(pod: Obj) -> list[FieldError]:
    meta, spec = a.d0(pod, "metadata"), a.d0(pod, "spec")
    spec_path = Path("spec")
    errs = validate_object_meta(meta, True, formats.name_is_dns_subdomain)
    errs.extend(
        _pod_specific_annotations(
            a.string_map(meta, "annotations"), spec, Path("metadata", "annotations")
        )
    )
    errs.extend(validate_pod_spec(spec, spec_path, is_pod=True))
    if not a.s(spec, "serviceAccountName"):
        for vi, volume in enumerate(a.items(spec, "volumes")):
            for si, source in enumerate(a.items(a.d(volume, "projected"), "sources")):
                if a.has(source, "serviceAccountToken"):
                    errs.append(
                        forbidden(
                            spec_path.child("volumes")
                            .index(vi)
                            .child("projected", "sources")
                            .index(si)
                            .child("serviceAccountToken"),
                            "must not be specified when serviceAccountName is not set",
                        )
                    )
    for key in ("containers", "initContainers"):
        for idx, container in enumerate(a.items(spec, key)):
            image = a.s(container, "image")
            if image != image.strip():
                errs.append(
                    invalid(
                        spec_path.child(key).index(idx).child("image"),
                        image,
                        "must not have leading or trailing whitespace",
                    )
                )
    return errs


def validate_pod_create(pod: Obj) -> list[FieldError]:
    errs = _validate_pod_metadata_and_spec(pod)
    spec = a.d0(pod, "spec")
    if a.items(spec, "ephemeralContainers"):
        errs.append(forbidden(Path("spec", "ephemeralContainers"), "cannot be set on create"))
    if a.s(spec, "nodeName") and a.items(spec, "schedulingGates"):
        errs.append(
            forbidden(
                Path("spec", "nodeName"),
                "cannot be set until all schedulingGates have been cleared",
            )
        )
    return errs


def _validate_container_updates(
    new: list[Obj], old: list[Obj], path: Path
) -> tuple[list[FieldError], bool]:
    if len(new) != len(old):
        return [forbidden(path, "pod updates may not add or remove containers")], True
    errs: list[FieldError] = []
    for idx, container in enumerate(new):
        image = a.s(container, "image")
        if not image:
            errs.append(required(path.index(idx).child("image")))
        if image != image.strip():
            errs.append(
                invalid(
                    path.index(idx).child("image"),
                    image,
                    "must not have leading or trailing whitespace",
                )
            )
    return errs, False


def validate_pod_update(new: Obj, old: Obj) -> list[FieldError]:
    errs = validate_object_meta_update(a.d0(new, "metadata"), a.d0(old, "metadata"))
    errs.extend(_validate_pod_metadata_and_spec(new))
    spec, old_spec = a.d0(new, "spec"), a.d0(old, "spec")
    spec_path = Path("spec")
    for key in ("containers", "initContainers"):
        update_errs, stop = _validate_container_updates(
            a.items(spec, key), a.items(old_spec, key), spec_path.child(key)
        )
        errs.extend(update_errs)
        if stop:
            return errs
    deadline, old_deadline = (
        a.i(spec, "activeDeadlineSeconds"),
        a.i(old_spec, "activeDeadlineSeconds"),
    )
    deadline_path = spec_path.child("activeDeadlineSeconds")
    if deadline is not None:
        if not 0 <= deadline <= MAX_INT32:
            errs.append(
                invalid(deadline_path, deadline, formats.inclusive_range_error(0, MAX_INT32))
            )
            return errs
        if old_deadline is not None and old_deadline < deadline:
            errs.append(
                invalid(deadline_path, deadline, "must be less than or equal to previous value")
            )
            return errs
    elif old_deadline is not None:
        errs.append(
            invalid(deadline_path, None, "must not update from a positive integer to nil value")
        )
    errs.extend(_validate_only_added_tolerations(spec, old_spec, spec_path.child("tolerations")))
    errs.extend(_validate_only_deleted_gates(spec, old_spec, spec_path.child("schedulingGates")))
    if spec == old_spec:
        return errs
    munged = _munge_pod_spec(spec, old_spec)
    if munged != old_spec:
        detail = "pod updates may not change fields other than " + ",".join(
            UPDATABLE_POD_SPEC_FIELDS
        )
        errs.append(forbidden(spec_path, f"{detail}\n{_spec_diff(old_spec, munged)}"))
    return errs


def _munge_pod_spec(spec: Obj, old_spec: Obj) -> Obj:
    """The new spec with every field a user may change reset to its old value."""
    munged = json.loads(json.dumps(spec))
    for key in ("containers", "initContainers"):
        new_list, old_list = munged.get(key), a.items(old_spec, key)
        if isinstance(new_list, list):
            for container, old_container in zip(new_list, old_list, strict=False):
                if isinstance(container, dict):
                    _copy_key(container, old_container, "image")
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        _copy_key(munged, old_spec, key)
    old_grace, new_grace = (
        a.i(old_spec, "terminationGracePeriodSeconds"),
        a.i(munged, "terminationGracePeriodSeconds"),
    )
    if old_grace is not None and old_grace < 0 and new_grace == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    return munged


def _copy_key(target: Obj, source: Obj, key: str) -> None:
    if key in source:
        target[key] = source[key]
    else:
        target.pop(key, None)


def _spec_diff(old: Obj, new: Obj) -> str:
    """A readable stand-in for go-cmp's diff of the two specs."""
    before = json.dumps(old, indent=2, sort_keys=True).splitlines()
    after = json.dumps(new, indent=2, sort_keys=True).splitlines()
    lines = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=1)
        if not line.startswith(("---", "+++", "@@"))
    ]
    return "  core.PodSpec{\n" + "\n".join(lines) + "\n  }\n"


def _validate_only_added_tolerations(spec: Obj, old_spec: Obj, path: Path) -> list[FieldError]:
    new = a.items(spec, "tolerations")
    for old_toleration in a.items(old_spec, "tolerations"):
        found = any(
            {k: v for k, v in old_toleration.items() if k != "tolerationSeconds"}
            == {k: v for k, v in candidate.items() if k != "tolerationSeconds"}
            for candidate in new
        )
        if not found:
            return [
                forbidden(
                    path, "existing toleration can not be modified except its tolerationSeconds"
                )
            ]
    return validate_tolerations(new, path)


def _validate_only_deleted_gates(spec: Obj, old_spec: Obj, path: Path) -> list[FieldError]:
    old_names = {a.s(g, "name") for g in a.items(old_spec, "schedulingGates")}
    errs = []
    for idx, gate in enumerate(a.items(spec, "schedulingGates")):
        name = a.s(gate, "name")
        if name not in old_names:
            errs.append(
                forbidden(
                    path.index(idx).child("name"),
                    f"only deletion is allowed, but found new scheduling gate '{name}'",
                )
            )
    return errs


def validate_pod_template_spec(template: Obj, path: Path) -> list[FieldError]:
    """ValidatePodTemplateSpec: the template's labels, annotations and pod spec."""
    meta, spec = a.d0(template, "metadata"), a.d0(template, "spec")
    errs = validate_labels(a.string_map(meta, "labels"), path.child("labels"))
    annotations = a.string_map(meta, "annotations")
    errs.extend(validate_annotations(annotations, path.child("annotations")))
    errs.extend(_pod_specific_annotations(annotations, spec, path.child("annotations")))
    errs.extend(validate_pod_spec(spec, path.child("spec")))
    if a.items(spec, "ephemeralContainers"):
        errs.append(
            forbidden(
                path.child("spec", "ephemeralContainers"),
                "ephemeral containers not allowed in pod template",
            )
        )
    return errs


def validate_pod_template(obj: Obj, old: Obj | None) -> list[FieldError]:
    """The PodTemplate kind."""
    meta = a.d0(obj, "metadata")
    if old is None:
        errs = validate_object_meta(meta, True, formats.name_is_dns_subdomain)
    else:
        errs = validate_object_meta_update(meta, a.d0(old, "metadata"))
    errs.extend(validate_pod_template_spec(a.d0(obj, "template"), Path("template")))
    return errs
