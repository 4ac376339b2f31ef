"""The admission plugins a server runs, in upstream's order.

`build_admission(ctx)` returns the (mutating, validating) lists for `Admission`. The order
is upstream's default plugin order (kube-apiserver's `AllOrderedPlugins`) restricted to
the plugins we have: mutating — ServiceAccount, LimitRanger, MutatingAdmissionWebhook;
validating — LimitRanger, PodSecurity, (MutatingAdmissionWebhook, for deletes only),
ValidatingAdmissionWebhook, ResourceQuota (last, so only requests every other plugin
admitted are charged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openeks.kube.apiserver.admission.limitranger import LimitRanger
from openeks.kube.apiserver.admission.podsecurity import PodSecurityAdmission
from openeks.kube.apiserver.admission.resourcequota import ResourceQuotaAdmission
from openeks.kube.apiserver.admission.serviceaccount import ServiceAccountAdmission
from openeks.kube.apiserver.admission.webhooks import MutatingWebhooks, ValidatingWebhooks

if TYPE_CHECKING:
    from openeks.kube.apiserver.context import ApiContext

DISABLED: tuple[str, ...] = ()


def build_admission(
    ctx: ApiContext, disabled: tuple[str, ...] = DISABLED
) -> tuple[list[Any], list[Any]]:
    """(mutating, validating) plugins; `disabled` names plugins to leave out."""
    registry = ctx.registry
    limit_ranger = LimitRanger(registry)
    mutating_webhooks = MutatingWebhooks(registry)
    mutating: list[Any] = [ServiceAccountAdmission(registry), limit_ranger, mutating_webhooks]
    validating: list[Any] = [
        limit_ranger,
        PodSecurityAdmission(registry),
        mutating_webhooks,
        ValidatingWebhooks(registry),
        ResourceQuotaAdmission(registry),
    ]
    return (
        [p for p in mutating if p.name not in disabled],
        [p for p in validating if p.name not in disabled],
    )
