"""Open the Ledger on the configured store, failing fast and in one line when it cannot work.

The library would otherwise report an unreachable PostgreSQL server after its own
connection retries, as a multi-line traceback, and a SQLite file in a directory that
does not exist as "unable to open database file". Both are configuration mistakes: say
so, name the setting, and stop before anything is constructed.
"""

from __future__ import annotations

import re
from pathlib import Path

from eventsourcing.persistence import PersistenceError

from domain.ledger import Ledger
from tradeledger.settings import (
    DATABASE_URL_VARIABLE,
    ConfigurationError,
    StoreConfig,
    store_config,
)

CONNECT_TIMEOUT_SECONDS = 3
"""How long to wait for PostgreSQL before giving up (unless the config says less)."""


def open_ledger(config: StoreConfig | None = None) -> Ledger:
    """The Ledger on `config` (by default TRADELEDGER_DATABASE_URL), its tables created.

    Raises ConfigurationError, with a one-line message, when PostgreSQL cannot be reached
    or the SQLite file's directory does not exist.
    """
    config = store_config() if config is None else config
    check_store(config)
    try:
        return Ledger(env=config.env)
    except PersistenceError as error:
        raise ConfigurationError(
            f"cannot open the store at {config.display_url}: {_one_line(error)}"
        ) from None


def check_store(config: StoreConfig) -> None:
    """Check that the store `config` names can be opened, without constructing anything."""
    if config.backend == "sqlite":
        _check_sqlite_path(config.env["SQLITE_DBNAME"])
    elif config.backend == "postgres":
        _check_postgres(config)


def store_location(config: StoreConfig) -> str:
    """Where the ledger lives, for people: the SQLite file's absolute path, or the URL."""
    if config.backend == "sqlite" and not _is_special_sqlite_name(config.env["SQLITE_DBNAME"]):
        return f"SQLite file {Path(config.env['SQLITE_DBNAME']).resolve()}"
    if config.backend == "postgres":
        return f"PostgreSQL {config.display_url}"
    if config.backend == "popo":
        return "memory (nothing is kept after the process ends)"
    return config.display_url


def _check_sqlite_path(db_name: str) -> None:
    if _is_special_sqlite_name(db_name):
        return
    path = Path(db_name)
    directory = path.parent
    if not directory.is_dir():
        raise ConfigurationError(
            f"{DATABASE_URL_VARIABLE}: directory {str(directory)!r} for the SQLite file "
            f"{db_name!r} does not exist"
        )
    if path.is_dir():
        raise ConfigurationError(f"{DATABASE_URL_VARIABLE}: {db_name!r} is a directory")


def _is_special_sqlite_name(db_name: str) -> bool:
    # In-memory databases and file: URIs are the library's business, not a path to check.
    return ":memory:" in db_name or db_name.startswith("file:")


def _check_postgres(config: StoreConfig) -> None:
    import psycopg  # here, so that SQLite users never import the driver

    env = config.env
    timeout = min(int(env.get("POSTGRES_CONNECT_TIMEOUT") or 5), CONNECT_TIMEOUT_SECONDS)
    try:
        connection = psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env.get("POSTGRES_PASSWORD", ""),
            connect_timeout=timeout,
        )
    except psycopg.Error as error:
        raise ConfigurationError(
            f"cannot connect to PostgreSQL at {config.display_url}: {_one_line(error)}"
        ) from None
    connection.close()


def _one_line(error: BaseException) -> str:
    return re.sub(r"\s+", " ", str(error)).strip() or type(error).__name__
