"""Who may do what: API keys with roles, sent as `Authorization: Bearer <key>`.

Roles: `writer` appends and reads, `auditor` reads everything and writes nothing,
`admin` may do everything. Reads are open to anonymous callers only when the settings
say so (TRADELEDGER_PUBLIC_READ=1); writes never are. A missing or unknown key is 401
(with `WWW-Authenticate`), a known key without the permission is 403.

Every route under /v1 follows this matrix, `GET /v1/schemas` included. Open to all, and
blind to credentials, are only the documentation FastAPI serves (/openapi.json, /docs,
/redoc), which says nothing the API would not, and the health probes, which an
orchestrator calls without a key.

The keys and their roles are configuration (tradeledger.settings: TRADELEDGER_API_KEYS,
TRADELEDGER_API_KEYS_FILE), compared there in constant time; the settings are the app's,
passed to create_app.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tradeledger.keys import Role, key_digest
from tradeledger.settings import Settings


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
    role = settings.api_keys.identify(credentials.credentials)
    if role is None:
        raise NotAuthenticated("the API key is not valid", error="invalid_token")
    principal = Principal(role, key_digest(credentials.credentials).hex()[:8])
    if not principal.may(permission):
        raise NotPermitted(f"the {principal.role} role may not {permission.value}")
    return principal


def _requiring(permission: Permission) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency giving the caller, if it may do `permission` (401 or 403 if not)."""

    async def require(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        return _principal(
            permission, credentials, _settings(request), "authorization" in request.headers
        )

    return require


require_read = _requiring(Permission.READ)
"""Any role may read; anonymous callers too when reads are public."""

require_write = _requiring(Permission.WRITE)
"""Writers and admins may append."""
