"""Static bearer tokens from a CSV file (`--token-auth-file`), upstream's format:

    token,user,uid,"group1,group2"

Lines starting with '#' and blank lines are skipped; groups are optional. The file is
read once at start-up. Tokens are compared in constant time.
"""

from __future__ import annotations

import csv
import hmac
from pathlib import Path

from openeks.kube.apiserver.auth import User


class TokenFileError(ValueError):
    pass


class StaticTokens:
    def __init__(self, entries: dict[str, User]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: Path) -> StaticTokens:
        entries: dict[str, User] = {}
        with open(path, newline="") as f:
            for number, row in enumerate(csv.reader(f), start=1):
                if not row or row[0].startswith("#") or not "".join(row).strip():
                    continue
                if len(row) < 3:
                    raise TokenFileError(f"{path}:{number}: need at least token,user,uid")
                token, user, uid = (c.strip() for c in row[:3])
                groups = (
                    tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
                )
                if not token or not user:
                    raise TokenFileError(f"{path}:{number}: empty token or user")
                entries[token] = User(user, groups, uid)
        return cls(entries)

    async def authenticate_token(self, token: str) -> User | None:
        found = None
        for known, user in self._entries.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = user
        return found
