"""Access policy associations: AssociateAccessPolicy, DisassociateAccessPolicy,
ListAssociatedAccessPolicies.

Associations live inside their access entry's document, in the private `policies` list
(`{"policyArn", "accessScope", "associatedAt", "modifiedAt"}`), so an entry and its
permissions are written together and vanish together. Associating a policy that is
already associated replaces its scope (keeping `associatedAt`), as EKS does. Only
STANDARD entries take policies.
"""

from __future__ import annotations

from typing import Any

from openeks.aws.eks import errors, policies, shapes, validation
from openeks.aws.eks.access import load_entry
from openeks.aws.eks.documents import ACCESS_ENTRIES, now_iso
from openeks.aws.eks.pagination import page
from openeks.region.state import Missing, RegionState

Doc = dict[str, Any]


def _upsert(entry: Doc, policy_arn: str, scope: Doc) -> Doc:
    when = now_iso()
    associations: list[Doc] = entry.setdefault("policies", [])
    for association in associations:
        if association["policyArn"] == policy_arn:
            association["accessScope"] = scope
            association["modifiedAt"] = when
            return association
    association = {
        "policyArn": policy_arn,
        "accessScope": scope,
        "associatedAt": when,
        "modifiedAt": when,
    }
    associations.append(association)
    return association


async def associate_access_policy(state: RegionState, params: Doc) -> Doc:
    name, principal_arn = params["clusterName"], params["principalArn"]
    policy_arn = params["policyArn"]
    record = await load_entry(state, name, principal_arn)
    if record.value["type"] != "STANDARD":
        raise errors.invalid_parameter(errors.STANDARD_ONLY, name)
    policies.check_associable(policy_arn, name)
    scope = validation.check_scope(params["accessScope"], name)
    chosen: list[Doc] = []

    def change(entry: Doc) -> Doc:
        chosen[:] = [_upsert(entry, policy_arn, scope)]
        return entry

    try:
        await state.mutate(ACCESS_ENTRIES, record.name, change)
    except Missing:
        raise errors.entry_not_found(name) from None
    return {
        "clusterName": name,
        "principalArn": principal_arn,
        "associatedAccessPolicy": shapes.associated_policy(chosen[0]),
    }


async def disassociate_access_policy(state: RegionState, params: Doc) -> None:
    name, principal_arn = params["clusterName"], params["principalArn"]
    policy_arn = params["policyArn"]
    record = await load_entry(state, name, principal_arn)
    if not any(p["policyArn"] == policy_arn for p in record.value.get("policies") or ()):
        raise errors.policy_not_associated(name)

    def change(entry: Doc) -> Doc:
        entry["policies"] = [p for p in entry.get("policies") or () if p["policyArn"] != policy_arn]
        return entry

    try:
        await state.mutate(ACCESS_ENTRIES, record.name, change)
    except Missing:
        raise errors.entry_not_found(name) from None


async def list_associated_access_policies(state: RegionState, params: Doc) -> Doc:
    name, principal_arn = params["clusterName"], params["principalArn"]
    record = await load_entry(state, name, principal_arn)
    associations = sorted(record.value.get("policies") or (), key=lambda p: p["policyArn"])
    items, token = page(
        associations,
        lambda p: str(p["policyArn"]),
        f"associated-policies/{name}/{principal_arn}",
        params.get("maxResults"),
        params.get("nextToken"),
    )
    result: Doc = {
        "clusterName": name,
        "principalArn": principal_arn,
        "associatedAccessPolicies": [shapes.associated_policy(p) for p in items],
    }
    if token:
        result["nextToken"] = token
    return result
