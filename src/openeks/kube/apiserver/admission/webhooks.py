"""MutatingAdmissionWebhook and ValidatingAdmissionWebhook: the cluster's admission webhooks.

As upstream's `admission/plugin/webhook` dispatchers. For each request, every configured
webhook whose `rules` match (operation, group, version, resource with `*`, `*/*`,
`pods/status`-style subresources, scope), whose `namespaceSelector` matches the
namespace's labels (cluster-scoped objects always match; a Namespace is matched by its own
labels) and whose `objectSelector` matches the new or the old object's labels, is called
(`webhookcall.py`):

- mutating webhooks in the mutating phase, one after another in configuration-name then
  webhook order; a JSONPatch they return is applied and the object defaulted again;
- validating webhooks in the validating phase, concurrently; the first refusal in webhook
  order wins.

A refusal is the webhook's status: `admission webhook "x" denied the request: <message>`
with its code (400 if it gave none or less). A webhook that cannot be called fails the
request with 500 `Internal error occurred: failed calling webhook "x": ...` under
`failurePolicy: Fail` (the default) and is skipped under `Ignore`. A dry run is refused
(400) by webhooks whose `sideEffects` are neither None nor NoneOnDryRun. Webhook
`warnings` become Warning headers. Writes of the webhook configurations themselves are
never sent to webhooks; these plugins default and validate them instead (see
`webhookconfig.py`). Deletes reach the validating chain only, so mutating webhooks that
match DELETE are called from `validate` (they may not patch), as upstream calls them on
deletes too. Not supported: `matchConditions` (CEL), `reinvocationPolicy: IfNeeded`
(webhooks run once), and `matchPolicy: Equivalent` conversion (rules match the served
version only, which is the only one we serve).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from openeks.kube.api import errors, labels
from openeks.kube.api.errors import ApiError, Cause
from openeks.kube.api.patch import PatchError, json_patch
from openeks.kube.apiserver.admission import common
from openeks.kube.apiserver.admission.base import AdmissionRequest
from openeks.kube.apiserver.admission.webhookcall import Answer, CallError, call
from openeks.kube.apiserver.admission.webhookconfig import (
    GROUP,
    MUTATING,
    PLURALS,
    VALIDATING,
    Hook,
    HookSource,
    default_configuration,
    validate_configuration,
)
from openeks.kube.apiserver.registry import Registry

log = logging.getLogger(__name__)

Obj = dict[str, Any]
EXEMPT = {
    "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "mutatingadmissionpolicies",
    "mutatingadmissionpolicybindings",
}
_CONFIG_KINDS = {PLURALS[MUTATING]: MUTATING, PLURALS[VALIDATING]: VALIDATING}


# -- matching ---------------------------------------------------------------------------------
def _any(items: list[str], value: str) -> bool:
    return any(item in ("*", value) for item in items)


def rule_matches(rule: Obj, req: AdmissionRequest) -> bool:
    info = req.info
    scope = rule.get("scope") or "*"
    is_namespace = (info.group, info.plural) == ("", "namespaces")
    if scope == "Namespaced" and (is_namespace or not req.namespace):
        return False
    if scope == "Cluster" and not (is_namespace or not req.namespace):
        return False
    if scope not in ("*", "Namespaced", "Cluster"):
        return False
    if not _any(rule.get("operations") or [], req.operation):
        return False
    if not _any(rule.get("apiGroups") or [], info.group):
        return False
    if not _any(rule.get("apiVersions") or [], info.version):
        return False
    for resource in rule.get("resources") or ():
        res, _, sub = str(resource).partition("/")
        if res in ("*", info.plural) and sub in ("*", req.subresource):
            return True
    return False


def _selector(raw: Obj | None) -> labels.Selector:
    try:
        return labels.from_label_selector(raw if raw is not None else {})
    except labels.SelectorError as e:
        raise errors.internal(str(e)) from None


async def _namespace_labels(registry: Registry, req: AdmissionRequest) -> dict[str, str] | None:
    """The labels namespaceSelector sees; None for cluster-scoped objects (always match)."""
    is_namespace = (req.info.group, req.info.plural) == ("", "namespaces")
    if is_namespace and not req.subresource and req.operation in ("CREATE", "UPDATE"):
        return ((req.obj or {}).get("metadata") or {}).get("labels") or {}
    name = req.name if is_namespace else req.namespace
    if not name:
        return None
    ns = await common.namespace(registry, name)
    if ns is None:
        raise errors.not_found("namespaces", "", name)
    return (ns.get("metadata") or {}).get("labels") or {}


async def matches(registry: Registry, hook: Hook, req: AdmissionRequest) -> bool:
    if not any(rule_matches(rule, req) for rule in hook.spec.get("rules") or ()):
        return False
    namespace_selector = _selector(hook.spec.get("namespaceSelector"))
    if not namespace_selector.empty:
        ns_labels = await _namespace_labels(registry, req)
        if ns_labels is not None and not namespace_selector.matches(ns_labels):
            return False
    object_selector = _selector(hook.spec.get("objectSelector"))
    if object_selector.empty:
        return True
    return any(
        obj is not None and object_selector.matches((obj.get("metadata") or {}).get("labels") or {})
        for obj in (req.obj, req.old)
    )


# -- outcomes ---------------------------------------------------------------------------------
def denial(hook: str, status: Obj | None) -> ApiError:
    """upstream's webhookerrors.ToStatusErr."""
    status = status or {}
    denied = f'admission webhook "{hook}" denied the request'
    if status.get("message"):
        message = f"{denied}: {status['message']}"
    elif status.get("reason"):
        message = f"{denied}: {status['reason']}"
    else:
        message = f"{denied} without explanation"
    code = int(status.get("code") or 0)
    details = status.get("details") or {}
    return ApiError(
        message,
        code if code >= 400 else 400,
        str(status.get("reason") or ""),
        name=str(details.get("name") or ""),
        group=str(details.get("group") or ""),
        kind=str(details.get("kind") or ""),
        causes=[
            Cause(str(c.get("reason", "")), str(c.get("message", "")), str(c.get("field", "")))
            for c in details.get("causes") or ()
        ],
    )


async def ask(
    registry: Registry, hook: Hook, req: AdmissionRequest, mutating: bool
) -> Answer | None:
    """Call one webhook; None when it failed and its failure policy is Ignore."""
    try:
        if req.dry_run:
            effects = hook.spec.get("sideEffects")
            if effects is None:
                raise CallError(hook.name, "Webhook SideEffects is nil")
            if effects not in ("None", "NoneOnDryRun"):
                raise errors.bad_request(
                    f'admission webhook "{hook.name}" does not support dry run'
                )
        answer = await call(registry, hook, req, mutating)
    except CallError as e:
        if hook.spec.get("failurePolicy") == "Ignore":
            log.warning("Failed calling webhook, failing open %s: %s", hook.name, e)
            return None
        log.warning("Failed calling webhook, failing closed %s: %s", hook.name, e)
        raise errors.internal(str(e)) from None
    req.warnings.extend(answer.warnings)
    if not answer.allowed:
        raise denial(hook.name, answer.status)
    return answer


def _exempt(req: AdmissionRequest) -> bool:
    return req.info.group == GROUP and req.info.plural in EXEMPT


# -- plugins ----------------------------------------------------------------------------------
class MutatingWebhooks:
    name = "MutatingAdmissionWebhook"

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.source = HookSource(registry, MUTATING)

    async def mutate(self, req: AdmissionRequest) -> None:
        if req.info.group == GROUP and req.info.plural in _CONFIG_KINDS and req.obj is not None:
            default_configuration(req.obj, _CONFIG_KINDS[req.info.plural] == MUTATING)
        if _exempt(req):
            return
        for hook in self.source.hooks():
            if await matches(self.registry, hook, req):
                answer = await ask(self.registry, hook, req, mutating=True)
                if answer is not None and answer.patch:
                    self._apply(hook, req, answer.patch)

    async def validate(self, req: AdmissionRequest) -> None:
        """Deletes skip the mutating phase here; upstream still sends them to webhooks."""
        if req.operation != "DELETE" or _exempt(req):
            return
        for hook in self.source.hooks():
            if await matches(self.registry, hook, req):
                answer = await ask(self.registry, hook, req, mutating=True)
                if answer is not None and answer.patch:
                    raise errors.internal(
                        f'admission webhook "{hook.name}" attempted to modify the object, which '
                        "is not supported for this operation"
                    )

    def _apply(self, hook: Hook, req: AdmissionRequest, patch: list[Any]) -> None:
        if req.obj is None:
            raise errors.internal(
                f'admission webhook "{hook.name}" attempted to modify the object, which is not '
                "supported for this operation"
            )
        try:
            patched = json_patch(req.obj, patch)
        except PatchError as e:
            raise errors.internal(e.message) from None
        if not isinstance(patched, dict):
            raise errors.internal("json: cannot unmarshal the patched object")
        self.registry.for_storage(req.info.storage_path).strategy.default(patched)
        req.obj = patched


class ValidatingWebhooks:
    name = "ValidatingAdmissionWebhook"

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.source = HookSource(registry, VALIDATING)

    async def validate(self, req: AdmissionRequest) -> None:
        if req.info.group == GROUP and req.info.plural in _CONFIG_KINDS and req.obj is not None:
            validate_configuration(req.obj, req.old)
        if _exempt(req):
            return
        hooks = [h for h in self.source.hooks() if await matches(self.registry, h, req)]
        if not hooks:
            return
        results = await asyncio.gather(
            *(ask(self.registry, h, req, mutating=False) for h in hooks), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
