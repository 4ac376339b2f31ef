"""Strategies for the kinds whose behaviour differs from the generic default."""

from __future__ import annotations

from typing import Any

from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver.strategies.crds import CRDStrategy
from openeks.kube.apiserver.strategies.events import EventStrategy
from openeks.kube.apiserver.strategies.jobs import JobStrategy
from openeks.kube.apiserver.strategies.namespaces import NamespaceStrategy
from openeks.kube.apiserver.strategies.nodes import NodeStrategy
from openeks.kube.apiserver.strategies.pods import PodStrategy
from openeks.kube.apiserver.strategies.rbac import BindingStrategy, RoleStrategy
from openeks.kube.apiserver.strategies.secrets import SecretStrategy
from openeks.kube.apiserver.strategies.services import ServiceNetwork, ServiceStrategy
from openeks.kube.apiserver.strategy import Strategy

__all__ = ["SecretStrategy", "ServiceNetwork", "strategy_for"]

_EXTRA_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "ReplicaSet"): ("status.replicas",),
}


class _FieldsStrategy(Strategy):
    """Generic behaviour plus a few top-level fields usable in field selectors."""

    def fields(self, obj: dict[str, Any]) -> dict[str, str]:
        out = super().fields(obj)
        for path in self.extra_fields:
            value: object = obj
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            out[path] = "" if value is None else str(value)
        return out


def strategy_for(info: ResourceInfo, network: ServiceNetwork) -> Strategy:
    key = (info.group, info.kind)
    if key == ("", "Pod"):
        return PodStrategy(info)
    if key == ("", "Service"):
        return ServiceStrategy(info, network)
    if key == ("", "Namespace"):
        return NamespaceStrategy(info)
    if key == ("", "Node"):
        return NodeStrategy(info)
    if key == ("batch", "Job"):
        return JobStrategy(info)
    if key == ("", "Secret"):
        return SecretStrategy(info)
    if key == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        return CRDStrategy(info)
    if info.group == "rbac.authorization.k8s.io":
        return BindingStrategy(info) if info.kind.endswith("Binding") else RoleStrategy(info)
    if info.kind == "Event" and info.group in ("", "events.k8s.io"):
        return EventStrategy(info)
    if key in _EXTRA_FIELDS:
        strategy = _FieldsStrategy(info)
        strategy.extra_fields = _EXTRA_FIELDS[key]
        return strategy
    return Strategy(info)
