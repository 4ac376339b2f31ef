"""`openeks image import FILE`: load an OCI or docker-save archive into a node's image
cache, for clusters without a registry."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any


def add_commands(commands: Any) -> None:
    image = commands.add_parser("image", help="manage node image caches")
    sub = image.add_subparsers(dest="image_command", required=True)
    imp = sub.add_parser("import", help="import an OCI layout/archive or docker-save tar")
    imp.add_argument("file", type=Path, help="the archive (.tar, .tar.gz)")
    imp.add_argument(
        "--data-dir",
        required=True,
        type=Path,
        help="the node's data directory (as given to `openeks kube node --data-dir`)",
    )
    imp.add_argument(
        "--name", default="", help="reference to give an image the archive leaves unnamed"
    )
    imp.set_defaults(run=_import)


def _import(args: argparse.Namespace) -> int:
    from openeks.kube.node.images.archive import ArchiveError, import_image
    from openeks.kube.node.images.reference import InvalidReference

    try:
        refs = asyncio.run(import_image(args.data_dir / "runtime", args.file, args.name))
    except (ArchiveError, InvalidReference) as e:
        raise ValueError(str(e)) from None
    for ref in refs:
        print(f"imported {ref}")
    return 0
