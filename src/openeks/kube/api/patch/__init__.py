"""The three PATCH types of the Kubernetes API, as pure functions over JSON values.

- `json_patch(document, operations)`: RFC 6902, `application/json-patch+json`;
- `merge_patch(document, patch)`: RFC 7386, `application/merge-patch+json`;
- `strategic_merge_patch(original, patch, schema)`: `application/strategic-merge-patch+json`,
  driven by the patch strategies and merge keys of the OpenAPI schema (`schema.Node`).

Each returns a new document and leaves its arguments untouched. Each reproduces the
library the real API server uses (evanphx/json-patch v4, apimachinery's strategicpatch),
quirks included, and raises `PatchError` with upstream's message and HTTP status for any
patch it cannot apply; turning that into a `Status` is the API server's job.
"""

from openeks.kube.api.patch.errors import PatchError
from openeks.kube.api.patch.json_patch import json_patch
from openeks.kube.api.patch.merge_patch import merge_patch
from openeks.kube.api.patch.strategic import strategic_merge_patch

__all__ = ["PatchError", "json_patch", "merge_patch", "strategic_merge_patch"]
