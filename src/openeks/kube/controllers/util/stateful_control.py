"""Creating, updating and deleting a StatefulSet's pods and claims, with upstream's events.

upstream's `StatefulPodControl` (`stateful_pod_control.go`): a pod's claims are created
before the pod (an existing claim is reused; one being deleted blocks the pod), claims
get the owner references the retention policy asks for, and each outcome is recorded on
the StatefulSet in upstream's words: `SuccessfulCreate` "create Pod web-0 in
StatefulSet web successful", "create Claim www-web-0 Pod web-0 in StatefulSet web
success", `SuccessfulDelete` "delete Pod web-2 in StatefulSet web successful", and the
`Failed*` counterparts with the error.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, Informer
from openeks.kube.client.resources import PODS, PVCS
from openeks.kube.controllers.util import pods as podutil
from openeks.kube.controllers.util import stateful as st
from openeks.kube.controllers.util.ownership import with_kind

Obj = dict[str, Any]


class StatefulPodControl:
    def __init__(self, client: Client, recorder: Any, claims: Informer) -> None:
        self.client = client
        self.recorder = recorder
        self.claims = claims

    async def record_pod_event(
        self, verb: str, sts: Obj, pod: Obj, error: Exception | None
    ) -> None:
        target = with_kind(sts, st.API_VERSION, st.KIND)
        name, set_name = meta.name_of(pod), meta.name_of(sts)
        if error is None:
            await self.recorder.event(
                target,
                "Normal",
                f"Successful{verb.title()}",
                f"{verb} Pod {name} in StatefulSet {set_name} successful",
            )
        else:
            await self.recorder.event(
                target,
                "Warning",
                f"Failed{verb.title()}",
                f"{verb} Pod {name} in StatefulSet {set_name} failed error: {error}",
            )

    async def create_claims(self, sts: Obj, pod: Obj) -> None:
        errors: list[str] = []
        target = with_kind(sts, st.API_VERSION, st.KIND)
        for claim in st.claims_for(sts, st.ordinal_of(pod)).values():
            existing = self.claims.get(f"{meta.namespace_of(claim)}/{meta.name_of(claim)}")
            if existing is not None:
                if podutil.is_terminating(existing):
                    errors.append(f"pvc {meta.name_of(claim)} is being deleted")
                continue
            st.update_claim_owners(claim, sts, pod)
            where = f"Claim {meta.name_of(claim)} Pod {meta.name_of(pod)} in StatefulSet"
            try:
                await self.client.create(PVCS, claim, meta.namespace_of(claim))
            except ApiError as e:
                if e.reason == "AlreadyExists":
                    continue
                errors.append(f"failed to create PVC {meta.name_of(claim)}: {e}")
                await self.recorder.event(
                    target,
                    "Warning",
                    "FailedCreate",
                    f"create {where} {meta.name_of(sts)} failed error: {e}",
                )
                continue
            await self.recorder.event(
                target, "Normal", "SuccessfulCreate", f"create {where} {meta.name_of(sts)} success"
            )
        if errors:
            raise ApiError("; ".join(errors), 500, "InternalError")

    async def create_pod(self, sts: Obj, pod: Obj) -> None:
        try:
            await self.create_claims(sts, pod)
            await self.client.create(PODS, pod, meta.namespace_of(sts))
        except ApiError as e:
            if e.reason != "AlreadyExists":
                await self.record_pod_event("create", sts, pod, e)
            raise
        await self.record_pod_event("create", sts, pod, None)

    async def delete_pod(self, sts: Obj, pod: Obj) -> None:
        try:
            await self.client.delete(PODS, meta.name_of(pod), meta.namespace_of(pod))
        except ApiError as e:
            if e.code == 404:
                return
            await self.record_pod_event("delete", sts, pod, e)
            raise
        await self.record_pod_event("delete", sts, pod, None)

    async def update_pod(self, sts: Obj, pod: Obj) -> None:
        """Restore identity and storage (`UpdateStatefulPod`), re-reading on conflict."""
        for _ in range(5):
            if not st.identity_matches(sts, pod):
                st.update_identity(sts, pod)
            if not st.storage_matches(sts, pod):
                st.update_storage(sts, pod)
                await self.create_claims(sts, pod)
            await self.update_claims_for_retention(sts, pod)
            try:
                await self.client.update(PODS, pod)
                await self.record_pod_event("update", sts, pod, None)
                return
            except ApiError as e:
                if e.code != 409:
                    await self.record_pod_event("update", sts, pod, e)
                    raise
            pod = await self.client.get(PODS, meta.name_of(pod), meta.namespace_of(pod))

    def claims_match_policy(self, sts: Obj, pod: Obj) -> bool:
        for claim in st.claims_for(sts, st.ordinal_of(pod)).values():
            existing = self.claims.get(f"{meta.namespace_of(claim)}/{meta.name_of(claim)}")
            if existing is not None and not st.claim_owners_match(existing, sts, pod):
                return False
        return True

    async def update_claims_for_retention(self, sts: Obj, pod: Obj) -> None:
        for claim in st.claims_for(sts, st.ordinal_of(pod)).values():
            existing = self.claims.get(f"{meta.namespace_of(claim)}/{meta.name_of(claim)}")
            if existing is None:
                continue
            body = meta.deep_copy(existing)
            if st.update_claim_owners(body, sts, pod):
                await self.client.update(PVCS, body)
