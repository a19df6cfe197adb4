"""The composition root: the one module that reads the configuration and wires the product.

The CLI, the API and the benchmarks all start here, so that a store is opened the same
way everywhere: the settings (every TRADELEDGER_* variable, read once, see
tradeledger.settings), the Ledger on the configured backend with the library environment
they map to, the read-model view beside it (the same SQLite file or PostgreSQL database;
an in-memory SQLite database when the ledger itself is in memory), a Projector that keeps
the view current, and the Queries.

The write side ends at the store, and the read side only reads: the Projector is hooked
to the Ledger's commits, so that a process projects what it commits right after the
commit (on the thread that committed, or on its follower's thread where one runs); a
process serving reads also follows the commits of others (`follow_commits`).

Opening fails fast, with a one-line ConfigurationError, when the store cannot work. The
library would otherwise report an unreachable PostgreSQL server after its own connection
retries, as a multi-line traceback, and a SQLite file in a directory that does not exist
as "unable to open database file": both are configuration mistakes, so name the setting
and stop before anything is constructed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import InfrastructureFactory, PersistenceError
from eventsourcing.utils import Environment

from domain.ledger import Ledger
from projections.follower import Follower
from projections.progress import ReadModelProgress
from projections.projector import Projector
from projections.queries import Queries
from projections.views import ReadModelView
from projections.views_postgres import PostgresReadModelView
from projections.views_sqlite import SQLiteReadModelView
from storage.bell import LogBell
from tradeledger.errors import ConfigurationError
from tradeledger.settings import DATABASE_URL_VARIABLE, Settings, StoreConfig

CONNECT_TIMEOUT_SECONDS = 3
"""How long to wait for PostgreSQL before giving up (unless the store's URL says less)."""


@dataclass
class Services:
    """Everything a process needs to serve the ledger."""

    settings: Settings
    ledger: Ledger
    view: ReadModelView
    projector: Projector
    queries: Queries

    @property
    def config(self) -> StoreConfig:
        """Where the ledger lives."""
        return self.settings.store

    def close(self) -> None:
        self.ledger.close()
        close = getattr(self.view, "datastore", None)
        if close is not None and self.config.backend == "popo":
            close.close()


def open_services(
    settings: Settings | StoreConfig | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    batch_size: int | None = None,
    read_wait_timeout: float | None = None,
) -> Services:
    """Open the ledger, its read models and queries, as `settings` say.

    By default the settings are read from the environment (Settings.from_env); a
    StoreConfig alone means that store with every other setting at its default (tests
    and tools). `batch_size` overrides TRADELEDGER_PROJECTION_BATCH. A query given a
    `min_position` waits up to `read_wait_timeout` seconds (TRADELEDGER_READ_WAIT_SECONDS)
    for the read models to reach it.
    """
    settings = _settings(settings)
    ledger = open_ledger(settings)
    view = _view(ledger, settings.store)
    batch_size = settings.projection_batch if batch_size is None else batch_size
    reached = ReadModelProgress(view.current_position)
    projector = Projector(
        ledger, view, batch_size=batch_size, reached=reached, on_undecodable=settings.on_undecodable
    )
    projector.keep_negotiation_events()
    ledger.after_commit(projector.project_committed)
    if read_wait_timeout is None:
        read_wait_timeout = settings.read_wait_seconds
    queries = Queries(view, ledger.mapper, reached, clock, wait_timeout=read_wait_timeout)
    return Services(settings, ledger, view, projector, queries)


def follow_commits(services: Services, bell: LogBell) -> Follower:
    """Start projecting, on a thread of this process, what any process commits to the
    store (woken by `bell` and by this process's own commits); stop it with `.stop()`."""
    return Follower(services.projector, bell).start()


def open_ledger(settings: Settings | StoreConfig | None = None) -> Ledger:
    """The Ledger alone (no read models), its tables created; settings as open_services.

    Raises ConfigurationError, with a one-line message, when PostgreSQL cannot be reached
    or the SQLite file's directory does not exist.
    """
    settings = _settings(settings)
    config = settings.store
    _check_store(config)
    try:
        return Ledger(env=settings.library_env())
    except PersistenceError as error:
        raise ConfigurationError(
            f"cannot open the store at {config.display_url}: {_one_line(error)}"
        ) from None


def store_location(config: StoreConfig) -> str:
    """Where the ledger lives, for people: the SQLite file's absolute path, or the URL."""
    if config.backend == "sqlite" and not _is_special_sqlite_name(config.env["SQLITE_DBNAME"]):
        return f"SQLite file {Path(config.env['SQLITE_DBNAME']).resolve()}"
    if config.backend == "postgres":
        return f"PostgreSQL {config.display_url}"
    if config.backend == "popo":
        return "memory (nothing is kept after the process ends)"
    return config.display_url


def _settings(given: Settings | StoreConfig | None) -> Settings:
    if given is None:
        return Settings.from_env()
    if isinstance(given, StoreConfig):
        return Settings.of(database_url=given.url)
    return given


def _view(ledger: Ledger, config: StoreConfig) -> ReadModelView:
    if config.backend == "postgres":
        return ledger.factory.tracking_recorder(PostgresReadModelView)  # type: ignore[return-value]
    if config.backend == "sqlite":
        return ledger.factory.tracking_recorder(SQLiteReadModelView)  # type: ignore[return-value]
    # One in-memory database per ledger, shared by every connection of the pool: with
    # plain ":memory:" each connection (a follower's thread, a request's) would open an
    # empty database of its own.
    name = f"file:tradeledger-read-models-{uuid4().hex}?mode=memory&cache=shared"
    memory = Environment(
        "READMODEL", {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": name}
    )
    factory = InfrastructureFactory.construct(memory)
    return factory.tracking_recorder(SQLiteReadModelView)  # type: ignore[return-value]


# -- checking the store before the library tries it -------------------------------------


def _check_store(config: StoreConfig) -> None:
    if config.backend == "sqlite":
        _check_sqlite_path(config.env["SQLITE_DBNAME"])
    elif config.backend == "postgres":
        _check_postgres(config)


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
