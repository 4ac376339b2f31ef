"""Running `iptables-save` and `iptables-restore` (the only I/O on rules).

Debian's `iptables` (the nft backend; the legacy one works the same) is called as a
subprocess: `iptables-save -t <table>` to read, `iptables-restore --noflush -w` to
write, so each write is one transaction and concurrent writers (other clusters' proxies,
Docker, the node agents' FORWARD rules) wait for the xtables lock instead of failing.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass

from openeks.kube.node.proxy.names import Chains
from openeks.kube.node.proxy.restore import cleanup_input
from openeks.kube.node.proxy.tables import BUILTIN, Table, parse_save


class IptablesError(Exception):
    """iptables-save or iptables-restore failed (the message carries its stderr)."""


@dataclass(frozen=True)
class Iptables:
    save_command: str = "iptables-save"
    restore_command: str = "iptables-restore"

    def available(self) -> bool:
        return bool(shutil.which(self.save_command) and shutil.which(self.restore_command))

    async def _run(self, args: list[str], stdin: bytes | None = None) -> str:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate(stdin)
        if proc.returncode != 0:
            message = err.decode(errors="replace").strip()
            raise IptablesError(f"{args[0]} failed ({proc.returncode}): {message}")
        return out.decode(errors="replace")

    async def save(self) -> dict[str, Table]:
        """The filter and nat tables as they are now."""
        texts = await asyncio.gather(
            *(self._run([self.save_command, "-t", table]) for table in BUILTIN)
        )
        tables: dict[str, Table] = {}
        for text in texts:
            tables.update(parse_save(text))
        return tables

    async def restore(self, text: str) -> None:
        await self._run([self.restore_command, "--noflush", "-w"], text.encode())

    async def cleanup(self, chains: Chains) -> bool:
        """Remove every rule and chain of the cluster; True if there was something."""
        text = cleanup_input(await self.save(), chains)
        if text:
            await self.restore(text)
        return bool(text)
