"""Admission webhook configurations: the two resources, their defaults, checks and reading.

`admissionregistration.k8s.io/v1` MutatingWebhookConfiguration and
ValidatingWebhookConfiguration are ordinary stored, cluster-scoped resources
(in `kube/api/resources.py`). Upstream defaults each webhook
(`failurePolicy: Fail`, `matchPolicy: Equivalent`, empty selectors, `timeoutSeconds: 10`,
rule `scope: "*"`, service `port: 443`, and `reinvocationPolicy: Never` for mutating ones)
and validates the v1 rules that matter for dispatch (`sideEffects` None/NoneOnDryRun,
`admissionReviewVersions`, one of `url` or `service`, https URLs, qualified unique names);
`default_configuration` and `validate_configuration` do that here, applied by the webhook
plugin to client writes of these kinds (upstream never sends them to webhooks either).

`HookSource` reads the configurations from the watch cache — sorted by name, webhooks in
their order, defaults applied — and recomputes only when the cache has changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from openeks.kube.api import errors, fielderrors, meta
from openeks.kube.api.errors import Cause
from openeks.kube.apiserver.registry import Registry

Obj = dict[str, Any]
GROUP = "admissionregistration.k8s.io"
MUTATING = "MutatingWebhookConfiguration"
VALIDATING = "ValidatingWebhookConfiguration"
PLURALS = {MUTATING: "mutatingwebhookconfigurations", VALIDATING: "validatingwebhookconfigurations"}


# -- defaults ---------------------------------------------------------------------------------
def default_webhook(hook: Obj, mutating: bool) -> None:
    hook.setdefault("failurePolicy", "Fail")
    hook.setdefault("matchPolicy", "Equivalent")
    for key in ("namespaceSelector", "objectSelector"):
        if hook.get(key) is None:
            hook[key] = {}
    hook.setdefault("timeoutSeconds", 10)
    if mutating:
        hook.setdefault("reinvocationPolicy", "Never")
    for rule in hook.get("rules") or ():
        rule.setdefault("scope", "*")
    service = (hook.get("clientConfig") or {}).get("service")
    if isinstance(service, dict):
        service.setdefault("port", 443)


def default_configuration(obj: Obj, mutating: bool) -> None:
    for hook in obj.get("webhooks") or ():
        if isinstance(hook, dict):
            default_webhook(hook, mutating)


# -- validation -------------------------------------------------------------------------------
_SIDE_EFFECTS = ("None", "NoneOnDryRun")
_REVIEW_VERSIONS = ("v1", "v1beta1")


def _hook_errors(
    hook: Obj, path: str, seen: set[str], old: set[str]
) -> list[fielderrors.FieldError]:
    out = []
    name = str(hook.get("name") or "")
    if not name:
        out.append(fielderrors.required(f"{path}.name", ""))
    elif name in seen:
        out.append(fielderrors.duplicate(f"{path}.name", name))
    elif len(name.split(".")) < 3:
        out.append(
            fielderrors.invalid(
                f"{path}.name",
                name,
                "should be a domain with at least three segments separated by dots",
            )
        )
    seen.add(name)
    effects = hook.get("sideEffects")
    if effects is None:
        out.append(
            fielderrors.required(f"{path}.sideEffects", "must specify one of None, NoneOnDryRun")
        )
    elif effects not in _SIDE_EFFECTS and effects not in old:
        out.append(fielderrors.not_supported(f"{path}.sideEffects", effects, _SIDE_EFFECTS))
    versions = hook.get("admissionReviewVersions") or []
    if not versions:
        out.append(
            fielderrors.required(
                f"{path}.admissionReviewVersions", "must specify one of v1, v1beta1"
            )
        )
    elif not any(v in _REVIEW_VERSIONS for v in versions):
        out.append(
            fielderrors.invalid(
                f"{path}.admissionReviewVersions",
                versions,
                "must include at least one of v1, v1beta1",
            )
        )
    out += _client_config_errors(hook.get("clientConfig") or {}, f"{path}.clientConfig")
    return out


def _client_config_errors(config: Obj, path: str) -> list[fielderrors.FieldError]:
    url, service = config.get("url"), config.get("service")
    if (url is None) == (service is None):
        return [fielderrors.required(path, "exactly one of url or service is required")]
    if url is not None:
        parsed = urlparse(str(url))
        if parsed.scheme != "https":
            return [
                fielderrors.invalid(f"{path}.url", url, "'https' is the only allowed URL scheme")
            ]
        if not parsed.hostname:
            return [fielderrors.invalid(f"{path}.url", url, "host must be specified")]
        return []
    out = []
    for key in ("namespace", "name"):
        if not (service or {}).get(key):
            out.append(fielderrors.required(f"{path}.service.{key}", f"service {key} is required"))
    return out


def validate_configuration(obj: Obj, old: Obj | None) -> None:
    """Raise 422 Invalid (upstream's messages) for a configuration webhooks cannot use."""
    old_effects = {str(h.get("sideEffects")) for h in (old or {}).get("webhooks") or ()}
    seen: set[str] = set()
    problems: list[fielderrors.FieldError] = []
    for i, hook in enumerate(obj.get("webhooks") or ()):
        problems += _hook_errors(
            hook if isinstance(hook, dict) else {}, f"webhooks[{i}]", seen, old_effects
        )
    if problems:
        raise errors.invalid(
            obj.get("kind", ""),
            GROUP,
            meta.name_of(obj),
            [Cause(e.type, e.body, e.field) for e in problems],
        )


# -- reading ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hook:
    configuration: str
    spec: Obj
    """The webhook, defaults applied."""

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))


class HookSource:
    """The webhooks of one kind of configuration, from the watch cache."""

    def __init__(self, registry: Registry, kind: str) -> None:
        self.registry = registry
        self.kind = kind
        self.prefix = f"/registry/{GROUP}/{PLURALS[kind]}/"
        self._seen = -1
        self._hooks: list[Hook] = []

    def hooks(self) -> list[Hook]:
        cache = self.registry.cache.cache(self.prefix)
        if cache.changes != self._seen:
            self._seen = cache.changes
            self._hooks = self._load(cache.items(self.prefix))
        return self._hooks

    def _load(self, configurations: list[Obj]) -> list[Hook]:
        out = []
        for cfg in configurations:
            for hook in cfg.get("webhooks") or ():
                spec = meta.deep_copy(hook)
                default_webhook(spec, self.kind == MUTATING)
                out.append(Hook(meta.name_of(cfg), spec))
        return out
