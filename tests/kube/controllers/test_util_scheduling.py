"""Node selector terms, node affinity and taints, as the scheduler judges them."""

from __future__ import annotations

from typing import Any

from openeks.kube.controllers.util import scheduling

Obj = dict[str, Any]
NODE: Obj = {"metadata": {"name": "n1", "labels": {"zone": "a", "cpus": "8"}}}


def term(*expressions: Obj, fields: list[Obj] | None = None) -> Obj:
    return {"matchExpressions": list(expressions), "matchFields": fields or []}


def test_terms_and_their_operators() -> None:
    assert scheduling.term_matches(term({"key": "zone", "operator": "In", "values": ["a"]}), NODE)
    assert not scheduling.term_matches(
        term({"key": "zone", "operator": "NotIn", "values": ["a"]}), NODE
    )
    assert scheduling.term_matches(term({"key": "gpu", "operator": "DoesNotExist"}), NODE)
    assert scheduling.term_matches(term({"key": "cpus", "operator": "Gt", "values": ["4"]}), NODE)
    assert not scheduling.term_matches(
        term({"key": "cpus", "operator": "Lt", "values": ["4"]}), NODE
    )
    name = [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]
    assert scheduling.term_matches(term(fields=name), NODE)
    assert not scheduling.term_matches(term(), NODE)  # an empty term matches nothing


def test_required_affinity_ors_terms_and_ands_node_selector() -> None:
    spec = {
        "nodeSelector": {"zone": "a"},
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        term({"key": "zone", "operator": "In", "values": ["b"]}),
                        term({"key": "cpus", "operator": "Exists"}),
                    ]
                }
            }
        },
    }
    assert scheduling.required_affinity_matches(spec, NODE)
    assert not scheduling.required_affinity_matches({**spec, "nodeSelector": {"zone": "b"}}, NODE)


def test_tolerations() -> None:
    taint = {"key": "gpu", "value": "yes", "effect": "NoSchedule"}
    assert scheduling.tolerates({"key": "gpu", "operator": "Exists"}, taint)
    assert scheduling.tolerates({"key": "gpu", "value": "yes"}, taint)
    assert not scheduling.tolerates({"key": "gpu", "value": "no"}, taint)
    assert not scheduling.tolerates(
        {"key": "gpu", "operator": "Exists", "effect": "NoExecute"}, taint
    )
    assert scheduling.tolerates({"operator": "Exists"}, taint)
    assert scheduling.untolerated_taint([taint], []) == taint
    assert scheduling.untolerated_taint([taint], [], lambda t: t["effect"] == "NoExecute") is None


def test_adding_a_toleration_replaces_an_identical_one_only() -> None:
    spec: Obj = {"tolerations": [{"key": "a", "operator": "Exists", "effect": "NoSchedule"}]}
    assert not scheduling.add_or_update_toleration(
        spec, {"key": "a", "operator": "Exists", "effect": "NoSchedule"}
    )
    assert scheduling.add_or_update_toleration(spec, {"key": "b", "operator": "Exists"})
    assert len(spec["tolerations"]) == 2
