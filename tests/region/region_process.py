"""A minimal stand-in for the region service: `python tests/region/region_process.py
STATE_DIR SPEC_JSON [--no-pdeathsig]` opens a Supervisor, ensures the spec, prints
"ready" and runs until killed. Tests kill it with -9 to see what happens to children."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from openeks.region import ProcessSpec, Supervisor


async def run(state_dir: Path, spec: ProcessSpec, zones: list[str], pdeathsig: bool) -> None:
    supervisor = Supervisor(state_dir, zones, pdeathsig=pdeathsig)
    await supervisor.open(resume=False)
    await supervisor.ensure(spec)
    await supervisor.wait_ready(spec.name, timeout=20)
    print("ready", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("spec_json")
    parser.add_argument("--zones", default="us-east-1a,us-east-1b,us-east-1c")
    parser.add_argument("--no-pdeathsig", action="store_true")
    args = parser.parse_args()
    spec = ProcessSpec.from_json(json.loads(args.spec_json))
    asyncio.run(run(args.state_dir, spec, args.zones.split(","), not args.no_pdeathsig))


if __name__ == "__main__":
    main()
