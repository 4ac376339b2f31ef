"""Container images for the node agent: the OCI distribution client (`registry`), the
content-addressed image store with unpacked root filesystems (`store`, `layers`), and
import of image archives (`archive`). The runc runtime is their only consumer."""

from openeks.kube.node.images.archive import import_archive, import_image
from openeks.kube.node.images.reference import Reference, parse_reference
from openeks.kube.node.images.registry import RegistryClient
from openeks.kube.node.images.store import ImageStore, StoredImage

__all__ = [
    "ImageStore",
    "Reference",
    "RegistryClient",
    "StoredImage",
    "import_archive",
    "import_image",
    "parse_reference",
]
