"""The composition root: one setting, TRADELEDGER_DATABASE_URL, read once and mapped onto
the eventsourcing library's environment.

    (unset)                              -> SQLite file ./tradeledger.sqlite
    sqlite:///relative/path.sqlite       -> SQLite file (sqlite:////abs/path for absolute)
    memory://                            -> in-memory store (tests, demos; nothing persists)
    postgresql://user[:pw]@host[:port]/db -> PostgreSQL

Anything else fails fast with a one-line ConfigurationError.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_DATABASE_URL = "sqlite:///tradeledger.sqlite"
DATABASE_URL_VARIABLE = "TRADELEDGER_DATABASE_URL"


class ConfigurationError(Exception):
    """The configuration cannot work; the message fits on one line."""


@dataclass(frozen=True)
class StoreConfig:
    """Where the ledger lives, as the library's environment variables."""

    url: str
    backend: str
    env: dict[str, str]

    @property
    def display_url(self) -> str:
        """The URL without its password, safe to print."""
        parts = urlsplit(self.url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return parts._replace(netloc=netloc).geturl()
        return self.url


def store_config(environ: Mapping[str, str] | None = None) -> StoreConfig:
    """Parse TRADELEDGER_DATABASE_URL (or the default) into a StoreConfig."""
    environ = os.environ if environ is None else environ
    url = environ.get(DATABASE_URL_VARIABLE, "").strip() or DEFAULT_DATABASE_URL
    return parse_database_url(url)


def parse_database_url(url: str) -> StoreConfig:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = unquote(url[len("sqlite://") :])
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ConfigurationError(f"{DATABASE_URL_VARIABLE}: {url!r} names no SQLite file")
        return StoreConfig(
            url,
            "sqlite",
            {"PERSISTENCE_MODULE": "storage.sqlite", "SQLITE_DBNAME": path},
        )
    if scheme in ("memory", "popo"):
        return StoreConfig(url, "popo", {"PERSISTENCE_MODULE": "storage.popo"})
    if scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname or not parts.hostname:
            raise ConfigurationError(
                f"{DATABASE_URL_VARIABLE}: {url!r} must look like postgresql://user@host:port/db"
            )
        try:
            port = parts.port or 5432
        except ValueError:
            raise ConfigurationError(f"{DATABASE_URL_VARIABLE}: {url!r} has a bad port") from None
        env = {
            "PERSISTENCE_MODULE": "storage.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(port),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
        }
        return StoreConfig(url, "postgres", env)
    raise ConfigurationError(
        f"{DATABASE_URL_VARIABLE}: unsupported scheme {scheme or '(none)'!r} in {url!r}; "
        "use sqlite:///file, postgresql://user@host:port/db or memory://"
    )
