"""PodSecurity admission: the namespace's Pod Security Standards, enforced, warned, audited.

As upstream's plugin (plugin/pkg/admission/security/podsecurity with
k8s.io/pod-security-admission/admission): a namespace chooses levels with the
`pod-security.kubernetes.io/enforce|audit|warn` labels (and `-version` labels; default
`privileged:latest`, nothing exempt). Pod creates and significant pod updates (an image or
a seccomp annotation changed, an ephemeral container added) that violate the enforce level
are refused with 403 `pods "x" is forbidden: violates PodSecurity "restricted:latest":
...`; violations of the warn level become `Warning` headers (`would violate PodSecurity
...`), the audit level only matters to audit logs, which we do not write. Workloads with a
pod template (deployments, jobs, ...) get warnings only, as upstream: the pods they make
are checked when created. Namespaces: labels must parse (422 otherwise, on create and
when changed), and tightening `enforce` warns about existing pods that would violate it.

The checks themselves are pure, in `openeks.kube.api.podsecurity`.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import errors, podsecurity
from openeks.kube.api.errors import Cause
from openeks.kube.apiserver.admission import common
from openeks.kube.apiserver.admission.base import AdmissionRequest
from openeks.kube.apiserver.admission.common import cached, object_name
from openeks.kube.apiserver.registry import Registry

Obj = dict[str, Any]
IGNORED_POD_SUBRESOURCES = {
    "exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status",
}  # fmt: skip
TEMPLATES = {
    ("", "podtemplates"), ("", "replicationcontrollers"), ("apps", "replicasets"),
    ("apps", "deployments"), ("apps", "statefulsets"), ("apps", "daemonsets"),
    ("batch", "jobs"), ("batch", "cronjobs"),
}  # fmt: skip
MAX_PODS_TO_CHECK = 3000


class PodSecurityAdmission:
    name = "PodSecurity"

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def validate(self, req: AdmissionRequest) -> None:
        if req.operation not in ("CREATE", "UPDATE") or req.obj is None:
            return
        resource = (req.info.group, req.info.plural)
        if resource == ("", "namespaces"):
            self._namespace(req)
        elif resource == ("", "pods"):
            await self._pod(req)
        elif resource in TEMPLATES and not req.subresource:
            await self._template(req)

    async def _policy(self, namespace: str) -> tuple[podsecurity.Policy, bool] | None:
        ns = await common.namespace(self.registry, namespace)
        if ns is None:
            return None
        policy, errs = podsecurity.policy_for((ns.get("metadata") or {}).get("labels") or {})
        return policy, bool(errs)

    # -- pods -------------------------------------------------------------------------------
    async def _pod(self, req: AdmissionRequest) -> None:
        if req.subresource in IGNORED_POD_SUBRESOURCES:
            return
        found = await self._policy(req.namespace)
        if found is None:
            raise errors.internal(f'failed to lookup namespace "{req.namespace}"')
        policy, invalid = found
        if not invalid and policy.fully_privileged():
            return
        assert req.obj is not None
        if req.operation == "UPDATE" and req.old is not None and not significant(req.obj, req.old):
            return
        meta, spec = req.obj.get("metadata") or {}, req.obj.get("spec") or {}
        result = podsecurity.check_pod(policy.enforce, meta, spec)
        if not result.allowed:
            why = f'violates PodSecurity "{policy.enforce}": {result.forbidden_detail()}'
            name = _request_name(req)
            raise errors.ApiError(
                f'pods "{name}" is forbidden: {why}' if name else f"pods is forbidden: {why}",
                403,
                "Forbidden",
                name=object_name(req),
                kind="pods",
            )
        self._warn(req, policy.warn, meta, spec)

    async def _template(self, req: AdmissionRequest) -> None:
        found = await self._policy(req.namespace)
        if found is None:
            return
        policy, invalid = found
        if not invalid and policy.warn.level == podsecurity.PRIVILEGED:
            return
        template = pod_template(req.info.plural, req.obj or {})
        if template is None:
            return
        self._warn(req, policy.warn, template.get("metadata") or {}, template.get("spec") or {})

    def _warn(
        self, req: AdmissionRequest, lv: podsecurity.LevelVersion, meta: Obj, spec: Obj
    ) -> None:
        result = podsecurity.check_pod(lv, meta, spec)
        if not result.allowed:
            req.warnings.append(f'would violate PodSecurity "{lv}": {result.forbidden_detail()}')

    # -- namespaces --------------------------------------------------------------------------
    def _namespace(self, req: AdmissionRequest) -> None:
        if req.subresource:
            return
        assert req.obj is not None
        labels = (req.obj.get("metadata") or {}).get("labels") or {}
        policy, errs = podsecurity.policy_for(labels)
        old_policy, old_errs = podsecurity.policy_for(
            ((req.old or {}).get("metadata") or {}).get("labels") or {}
        )
        if errs and (req.operation == "CREATE" or not old_errs or errs != old_errs):
            raise errors.invalid(
                "Namespace", "", object_name(req), [Cause(e.type, e.body, e.field) for e in errs]
            )
        if req.operation != "UPDATE":
            return
        new, old = policy.enforce, old_policy.enforce
        if new == old or new.level == podsecurity.PRIVILEGED:
            return
        if new.version == old.version and _strictness(new.level) <= _strictness(old.level):
            return
        req.warnings.extend(self._existing_pods(object_name(req), new))

    def _existing_pods(self, namespace: str, lv: podsecurity.LevelVersion) -> list[str]:
        pods = prioritize(cached(self.registry, "core/pods", namespace))
        counts: dict[str, tuple[str, int]] = {}
        order: list[str] = []
        for pod in pods[:MAX_PODS_TO_CHECK]:
            result = podsecurity.check_pod(lv, pod.get("metadata") or {}, pod.get("spec") or {})
            if result.allowed:
                continue
            reason = result.forbidden_reason()
            name = pod["metadata"]["name"]
            if reason not in counts:
                order.append(reason)
                counts[reason] = (name, 1)
            else:
                first, n = counts[reason]
                counts[reason] = (min(first, name), n + 1)
        out = []
        if len(pods) > MAX_PODS_TO_CHECK:
            out.append(
                "new PodSecurity enforce level only checked against the first "
                f"{MAX_PODS_TO_CHECK} of {len(pods)} existing pods"
            )
        if order:
            out.append(
                f'existing pods in namespace "{namespace}" violate the new PodSecurity '
                f'enforce level "{lv}"'
            )
        return out + sorted(_decorate(reason, *counts[reason]) for reason in order)


def _decorate(reason: str, name: str, count: int) -> str:
    if count == 1:
        return f"{name}: {reason}"
    if count == 2:
        return f"{name} (and 1 other pod): {reason}"
    return f"{name} (and {count - 1} other pods): {reason}"


def _strictness(level: str) -> int:
    return podsecurity.LEVELS.index(level)


def _request_name(req: AdmissionRequest) -> str:
    """The name the request carried: empty for a create with generateName, as upstream."""
    m = (req.obj or {}).get("metadata") or {}
    generated = m.get("generateName")
    if req.operation == "CREATE" and generated and req.name.startswith(generated):
        return ""
    return req.name


def prioritize(pods: list[Obj]) -> list[Obj]:
    """One pod per controller first, then the other replicas (upstream's prioritizePods)."""
    first, rest, seen = [], [], set()
    for pod in pods:
        owner = next(
            (o for o in pod["metadata"].get("ownerReferences") or () if o.get("controller")), None
        )
        if owner is None:
            first.append(pod)
        elif owner.get("uid") in seen:
            rest.append(pod)
        else:
            seen.add(owner.get("uid"))
            first.append(pod)
    return first + rest


def pod_template(plural: str, obj: Obj) -> Obj | None:
    if plural == "podtemplates":
        return obj.get("template")
    spec = obj.get("spec") or {}
    if plural == "cronjobs":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    return spec.get("template")


def significant(pod: Obj, old: Obj) -> bool:
    """Whether a pod update changes what PodSecurity checks (upstream's isSignificantPodUpdate)."""
    spec, old_spec = pod.get("spec") or {}, old.get("spec") or {}
    notes = (pod.get("metadata") or {}).get("annotations") or {}
    old_notes = (old.get("metadata") or {}).get("annotations") or {}

    def changed(c: Obj, o: Obj) -> bool:
        key = "container.seccomp.security.alpha.kubernetes.io/" + c.get("name", "")
        return c.get("image") != o.get("image") or notes.get(key) != old_notes.get(key)

    for key in ("containers", "initContainers"):
        new_list, old_list = spec.get(key) or [], old_spec.get(key) or []
        if len(new_list) != len(old_list):
            return True
        if any(changed(c, o) for c, o in zip(new_list, old_list, strict=True)):
            return True
    old_ephemeral = {c.get("name"): c for c in old_spec.get("ephemeralContainers") or ()}
    for c in spec.get("ephemeralContainers") or ():
        previous = old_ephemeral.get(c.get("name"))
        if previous is None or changed(c, previous):
            return True
    return False
