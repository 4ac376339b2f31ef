"""EKS: the Amazon EKS API over the region's documents.

`EksService` (`backend`) answers the operations; the modules beside it own one concern
each: `clusters` (create, describe, list, delete), `updates` (version and configuration
updates), `versions` (served Kubernetes minors), `tags`, `access` (access entries),
`associations` and `policies` (access policies), `nodegroups`, `nodegroupupdates` and
`nodegroupvalidation` (managed node groups), `validation` (EKS's rules beyond the
model), `errors` (EKS's messages), `shapes` (documents → boto3 output), `documents` and
`pagination` (storage layout, tokens). `identity` is shared with each cluster's token
authenticator: it turns a caller's ARN and access entry into a Kubernetes username and
groups.

The backend does not run clusters: it writes desired state that the region's cluster
controller acts on. A cluster asks for the small single-zone control plane with the tag
`openeks.io/control-plane=single-zone`; see `clusters`.
"""

from openeks.aws.eks.backend import EksService
from openeks.aws.eks.identity import (
    creator_identity,
    entry_name,
    kubernetes_identity,
    matches,
    principal_for_lookup,
)

__all__ = [
    "EksService",
    "creator_identity",
    "entry_name",
    "kubernetes_identity",
    "matches",
    "principal_for_lookup",
]
