"""The `openeks` command: parses arguments, builds settings, starts what was asked for.

Entry points hold no business logic: each subcommand turns its flags into the settings
dataclass of the component it starts and hands over.
"""

from __future__ import annotations

import argparse
import logging
import sys

from openeks.cli import fargate, image, kube, node, region


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openeks", description="A self-hostable EKS.")
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING or ERROR")
    commands = parser.add_subparsers(dest="command", required=True)
    region.add_commands(commands)
    kube.add_commands(commands)
    image.add_commands(commands)
    fargate.add_commands(commands)
    node.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.run(args) or 0)
    except ValueError as e:
        print(f"openeks: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
