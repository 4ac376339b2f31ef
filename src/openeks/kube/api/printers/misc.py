"""Printers for the smaller API groups: leases, endpoint slices, disruption budgets,
admission webhook configurations and certificate signing requests.

Lists inside cells (slice ports and endpoints) show at most three entries followed by
"+ N more...", and "<unset>" when empty, as upstream's `listWithMoreString` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openeks.kube.api.printers.common import (
    column,
    human_duration,
    int_or_string,
    integer,
    list_with_more_string,
    mapping,
    name_of,
    present,
    seq,
    text,
)
from openeks.kube.api.printers.core import AGE, NAME, age
from openeks.kube.api.printers.descriptions import doc
from openeks.kube.api.printers.printer import Printer

LEASE = Printer(
    (NAME, column("Holder", "string", doc("LeaseSpec.holderIdentity")), AGE),
    lambda lease, now: [
        name_of(lease),
        text(mapping(lease.get("spec")).get("holderIdentity")),
        age(lease, now),
    ],
)

# --- endpoint slices -----------------------------------------------------------------


def _capped(values: list[str], limit: int = 3) -> str:
    return list_with_more_string(values[:limit], len(values) > limit, len(values), limit)


def slice_ports(ports: Any) -> str:
    """`formatDiscoveryPorts`: port numbers, else port names, else "*"."""
    rendered = []
    for port in seq(ports):
        port = mapping(port)
        if present(port.get("port")):
            rendered.append(str(integer(port.get("port"))))
        elif present(port.get("name")):
            rendered.append(text(port.get("name")))
        else:
            rendered.append("*")
    return _capped(rendered)


def slice_endpoints(endpoints: Any) -> str:
    """`formatDiscoveryEndpoints`: every address of every endpoint."""
    addresses = [
        text(address)
        for endpoint in seq(endpoints)
        for address in seq(mapping(endpoint).get("addresses"))
    ]
    return _capped(addresses)


ENDPOINT_SLICE = Printer(
    (
        NAME,
        column("AddressType", "string", doc("EndpointSlice.addressType")),
        column("Ports", "string", doc("EndpointSlice.ports")),
        column("Endpoints", "string", doc("EndpointSlice.endpoints")),
        AGE,
    ),
    lambda es, now: [
        name_of(es),
        text(es.get("addressType")),
        slice_ports(es.get("ports")),
        slice_endpoints(es.get("endpoints")),
        age(es, now),
    ],
)

# --- pod disruption budgets ----------------------------------------------------------


def pod_disruption_budget_cells(pdb: Mapping[str, Any], now: datetime) -> list[Any]:
    spec = mapping(pdb.get("spec"))
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [
        name_of(pdb),
        int_or_string(min_available) if present(min_available) else "N/A",
        int_or_string(max_unavailable) if present(max_unavailable) else "N/A",
        integer(mapping(pdb.get("status")).get("disruptionsAllowed")),
        age(pdb, now),
    ]


POD_DISRUPTION_BUDGET = Printer(
    (
        NAME,
        column("Min Available", "string", "The minimum number of pods that must be available."),
        column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
        column(
            "Allowed Disruptions",
            "integer",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        AGE,
    ),
    pod_disruption_budget_cells,
)

# --- admission webhooks --------------------------------------------------------------

WEBHOOK_CONFIGURATION = Printer(
    (
        NAME,
        column(
            "Webhooks",
            "integer",
            "Webhooks indicates the number of webhooks registered in this configuration",
        ),
        AGE,
    ),
    lambda config, now: [name_of(config), len(seq(config.get("webhooks"))), age(config, now)],
)

# --- certificate signing requests ----------------------------------------------------


def csr_condition(csr: Mapping[str, Any]) -> str:
    """`extractCSRStatus`: Denied, Approved or Pending, then ",Failed" and ",Issued"."""
    kinds = {mapping(c).get("type") for c in seq(mapping(csr.get("status")).get("conditions"))}
    if "Denied" in kinds:
        status = "Denied"
    elif "Approved" in kinds:
        status = "Approved"
    else:
        status = "Pending"
    if "Failed" in kinds:
        status += ",Failed"
    if text(mapping(csr.get("status")).get("certificate")):
        status += ",Issued"
    return status


def csr_cells(csr: Mapping[str, Any], now: datetime) -> list[Any]:
    spec = mapping(csr.get("spec"))
    expiration = spec.get("expirationSeconds")
    requested = "<none>"
    if present(expiration):
        requested = human_duration(integer(expiration) * 1_000_000_000)
    return [
        name_of(csr),
        age(csr, now),
        text(spec.get("signerName")) or "<none>",
        text(spec.get("username")),
        requested,
        csr_condition(csr),
    ]


CERTIFICATE_SIGNING_REQUEST = Printer(
    (
        NAME,
        AGE,
        column("SignerName", "string", doc("CertificateSigningRequestSpec.signerName")),
        column("Requestor", "string", doc("CertificateSigningRequestSpec.request")),
        column(
            "RequestedDuration", "string", doc("CertificateSigningRequestSpec.expirationSeconds")
        ),
        column("Condition", "string", doc("CertificateSigningRequestStatus.conditions")),
    ),
    csr_cells,
)

PRINTERS = {
    ("coordination.k8s.io", "leases"): LEASE,
    ("discovery.k8s.io", "endpointslices"): ENDPOINT_SLICE,
    ("policy", "poddisruptionbudgets"): POD_DISRUPTION_BUDGET,
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): WEBHOOK_CONFIGURATION,
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): WEBHOOK_CONFIGURATION,
    ("certificates.k8s.io", "certificatesigningrequests"): CERTIFICATE_SIGNING_REQUEST,
}
