"""Who may do what: API keys with roles, sent as `Authorization: Bearer <key>`.

Roles: `writer` appends and reads, `auditor` reads everything and writes nothing,
`admin` may do everything. Reads are open to anonymous callers only when the settings
say so (TRADELEDGER_PUBLIC_READ=1); writes never are. A missing or unknown key is 401
(with `WWW-Authenticate`), a known key without the permission is 403.

Keys are compared in constant time against every configured key (no early exit, and
digests of equal length), so response timing tells nothing about how close a guess was.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

if TYPE_CHECKING:
    from api.settings import Settings


class Role(StrEnum):
    WRITER = "writer"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"


ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.WRITER: frozenset({Permission.READ, Permission.WRITE}),
    Role.AUDITOR: frozenset({Permission.READ}),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class Principal:
    """The caller: a role (None for an anonymous reader) and a short, loggable key id."""

    role: Role | None
    key_id: str = ""

    def may(self, permission: Permission) -> bool:
        return self.role is not None and permission in ROLE_PERMISSIONS[self.role]


ANONYMOUS = Principal(role=None)


class ApiKeyError(Exception):
    """The configured keys cannot be used (the message names the problem, not the key)."""


def parse_api_keys(text: str, source: str) -> list[tuple[str, Role]]:
    """Entries `<key>:<role>`, separated by commas or new lines; `#` starts a comment."""
    entries: list[tuple[str, Role]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for item in line.split("#", 1)[0].split(","):
            entry = item.strip()
            if not entry:
                continue
            key, separator, role = entry.rpartition(":")
            if not separator or not key.strip():
                raise ApiKeyError(f"{source} line {number}: expected <key>:<role>")
            try:
                entries.append((key.strip(), Role(role.strip().lower())))
            except ValueError:
                roles = ", ".join(r.value for r in Role)
                raise ApiKeyError(
                    f"{source} line {number}: unknown role {role.strip()!r} (use {roles})"
                ) from None
    return entries


class ApiKeys:
    """The configured keys, kept only as SHA-256 digests."""

    def __init__(self, entries: Iterable[tuple[str, Role]] = ()) -> None:
        self._entries = [(_digest(key), role) for key, role in entries]

    def __len__(self) -> int:
        return len(self._entries)

    def identify(self, key: str) -> Principal | None:
        """The principal holding `key`, or None; every configured key is compared."""
        offered = _digest(key)
        found: Role | None = None
        for digest, role in self._entries:
            if hmac.compare_digest(offered, digest) and found is None:
                found = role
        if found is None:
            return None
        return Principal(found, offered.hex()[:8])


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class NotAuthenticated(Exception):
    """No usable credentials (401): `error` is the RFC 6750 code, if any."""

    def __init__(self, detail: str, error: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error = error

    @property
    def challenge(self) -> str:
        """The WWW-Authenticate header value."""
        if self.error is None:
            return 'Bearer realm="tradeledger"'
        return f'Bearer realm="tradeledger", error="{self.error}"'


class NotPermitted(Exception):
    """Known credentials without the permission the operation needs (403)."""


bearer = HTTPBearer(
    auto_error=False,
    description="An API key: `Authorization: Bearer <key>` (roles writer, auditor, admin).",
)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _principal(
    permission: Permission,
    credentials: HTTPAuthorizationCredentials | None,
    settings: Settings,
    has_authorization: bool,
) -> Principal:
    if credentials is None:
        if has_authorization:
            raise NotAuthenticated("use the Bearer scheme: Authorization: Bearer <key>")
        if permission is Permission.READ and settings.public_read:
            return ANONYMOUS
        raise NotAuthenticated("an API key is required: Authorization: Bearer <key>")
    principal = settings.api_keys.identify(credentials.credentials)
    if principal is None:
        raise NotAuthenticated("the API key is not valid", error="invalid_token")
    if not principal.may(permission):
        raise NotPermitted(f"the {principal.role} role may not {permission.value}")
    return principal


async def require_read(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Any role may read; anonymous callers too when reads are public."""
    return _principal(
        Permission.READ, credentials, _settings(request), "authorization" in request.headers
    )


async def require_write(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Writers and admins may append."""
    return _principal(
        Permission.WRITE, credentials, _settings(request), "authorization" in request.headers
    )
