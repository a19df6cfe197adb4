"""API keys and their roles, as the settings hold them (TRADELEDGER_API_KEYS and
TRADELEDGER_API_KEYS_FILE): parsed from `<key>:<role>` entries and kept as digests.

What each role may do is the API's business (api.security).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from enum import StrEnum

from tradeledger.errors import InvalidSetting


class Role(StrEnum):
    """What an API key may do: see api.security for the permissions of each."""

    WRITER = "writer"
    AUDITOR = "auditor"
    ADMIN = "admin"


class ApiKeys:
    """The configured API keys, kept only as SHA-256 digests.

    Keys are compared in constant time against every configured key (no early exit, and
    digests of equal length), so response timing tells nothing about how close a guess was.
    """

    def __init__(self, entries: Iterable[tuple[str, Role]] = ()) -> None:
        self._entries = tuple((key_digest(key), role) for key, role in entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __add__(self, other: ApiKeys) -> ApiKeys:
        both = ApiKeys()
        both._entries = self._entries + other._entries
        return both

    def __repr__(self) -> str:
        return f"ApiKeys({len(self)} keys)"

    def identify(self, key: str) -> Role | None:
        """The role holding `key`, or None; every configured key is compared."""
        offered = key_digest(key)
        found: Role | None = None
        for digest, role in self._entries:
            if hmac.compare_digest(offered, digest) and found is None:
                found = role
        return found


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def parse_api_keys(text: str, source: str) -> list[tuple[str, Role]]:
    """Entries `<key>:<role>`, separated by commas or new lines; `#` starts a comment.

    InvalidSetting names `source` and the line, never the key.
    """
    entries: list[tuple[str, Role]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for item in line.split("#", 1)[0].split(","):
            entry = item.strip()
            if not entry:
                continue
            key, separator, role = entry.rpartition(":")
            if not separator or not key.strip():
                raise InvalidSetting(f"{source} line {number}: expected <key>:<role>")
            try:
                entries.append((key.strip(), Role(role.strip().lower())))
            except ValueError:
                roles = ", ".join(r.value for r in Role)
                raise InvalidSetting(
                    f"{source} line {number}: unknown role {role.strip()!r} (use {roles})"
                ) from None
    return entries
