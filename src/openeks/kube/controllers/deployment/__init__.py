"""The Deployment controller, split as upstream's `pkg/controller/deployment`:
`controller` (wiring and dispatch), `sync` (ReplicaSets, revisions, scaling, history),
`rolling` and `recreate` (the two strategies), `progress` (conditions and the progress
deadline), `util` (pure arithmetic and bookkeeping)."""

from openeks.kube.controllers.deployment.controller import DeploymentController

__all__ = ["DeploymentController"]
