"""The HTTP API's settings, read once from the environment at the composition root.

    TRADELEDGER_API_KEYS             "<key>:<role>,<key>:<role>" (roles: writer, auditor, admin)
    TRADELEDGER_API_KEYS_FILE        a file of the same entries (commas or one per line, # comments)
    TRADELEDGER_PUBLIC_READ          1 opens reads to anonymous callers (default 0)
    TRADELEDGER_MAX_BODY_BYTES       larger request bodies answer 413 (default 1 MiB)
    TRADELEDGER_SSE_HEARTBEAT_SECONDS comment lines on idle event streams (default 15)

Both key variables may be set; their keys add up. A setting that cannot work raises
ConfigurationError with a one-line message (never echoing a key).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from api.security import ApiKeyError, ApiKeys, Role, parse_api_keys
from tradeledger.settings import ConfigurationError

API_KEYS = "TRADELEDGER_API_KEYS"
API_KEYS_FILE = "TRADELEDGER_API_KEYS_FILE"
PUBLIC_READ = "TRADELEDGER_PUBLIC_READ"
MAX_BODY_BYTES = "TRADELEDGER_MAX_BODY_BYTES"
SSE_HEARTBEAT_SECONDS = "TRADELEDGER_SSE_HEARTBEAT_SECONDS"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True)
class Settings:
    """How the API treats callers: keys and roles, public reads, limits, heartbeats."""

    api_keys: ApiKeys = field(default_factory=ApiKeys)
    public_read: bool = False
    max_body_bytes: int = 1 << 20
    heartbeat_seconds: float = 15.0
    events_page_limit: int = 1000
    """The most entries one `GET /v1/events` page may hold."""

    @classmethod
    def with_keys(
        cls,
        keys: Mapping[str, Role | str],
        *,
        public_read: bool = False,
        max_body_bytes: int = 1 << 20,
        heartbeat_seconds: float = 15.0,
    ) -> Settings:
        """Settings holding `keys` (key -> role), for tests and embedding."""
        return cls(
            api_keys=ApiKeys((key, Role(role)) for key, role in keys.items()),
            public_read=public_read,
            max_body_bytes=max_body_bytes,
            heartbeat_seconds=heartbeat_seconds,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        entries: list[tuple[str, Role]] = []
        try:
            entries += parse_api_keys(environ.get(API_KEYS, ""), API_KEYS)
            path = environ.get(API_KEYS_FILE, "").strip()
            if path:
                try:
                    text = Path(path).read_text(encoding="utf-8")
                except OSError as error:
                    raise ConfigurationError(
                        f"{API_KEYS_FILE}: cannot read {path!r}: {error.strerror or error}"
                    ) from None
                entries += parse_api_keys(text, API_KEYS_FILE)
        except ApiKeyError as error:
            raise ConfigurationError(str(error)) from None
        return cls(
            api_keys=ApiKeys(entries),
            public_read=_flag(environ, PUBLIC_READ),
            max_body_bytes=int(_number(environ, MAX_BODY_BYTES, cls.max_body_bytes, minimum=1)),
            heartbeat_seconds=_number(
                environ, SSE_HEARTBEAT_SECONDS, cls.heartbeat_seconds, minimum=0.01
            ),
        )


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name}: expected 1 or 0, not {value!r}")


def _number(environ: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(f"{name}: expected a number, not {text!r}") from None
    if not value >= minimum:  # also refuses NaN
        raise ConfigurationError(f"{name}: must be at least {minimum}, not {text!r}")
    return value
