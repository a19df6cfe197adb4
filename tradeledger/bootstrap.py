"""Wires the write side, the read models and the queries onto one configured store.

The API, the CLI and the benchmarks all start here, so that a store is opened the same
way everywhere: the Ledger on the configured backend, the read-model view beside it
(the same SQLite file or PostgreSQL database; an in-memory SQLite database when the
ledger itself is in memory), a Projector that keeps the view current, and the Queries.

The write side ends at the store, and the read side only reads: the Projector is hooked
to the Ledger's commits, so that a process projects what it commits right after the
commit; a process serving reads also follows the commits of others (`follow_commits`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from domain.ledger import Ledger
from projections.follower import Follower
from projections.progress import ReadModelProgress
from projections.projector import DEFAULT_BATCH_SIZE, Projector
from projections.queries import DEFAULT_WAIT_TIMEOUT, Queries
from projections.views import ReadModelView
from projections.views_postgres import PostgresReadModelView
from projections.views_sqlite import SQLiteReadModelView
from storage.eventlog import LogBell
from tradeledger.runtime import open_ledger
from tradeledger.settings import StoreConfig, store_config


@dataclass
class Services:
    """Everything a process needs to serve the ledger."""

    config: StoreConfig
    ledger: Ledger
    view: ReadModelView
    projector: Projector
    queries: Queries

    def close(self) -> None:
        self.ledger.close()
        close = getattr(self.view, "datastore", None)
        if close is not None and self.config.backend == "popo":
            close.close()


def _view(ledger: Ledger, config: StoreConfig) -> ReadModelView:
    if config.backend == "postgres":
        return ledger.factory.tracking_recorder(PostgresReadModelView)  # type: ignore[return-value]
    if config.backend == "sqlite":
        return ledger.factory.tracking_recorder(SQLiteReadModelView)  # type: ignore[return-value]
    memory = Environment(
        "READMODEL",
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"},
    )
    factory = InfrastructureFactory.construct(memory)
    return factory.tracking_recorder(SQLiteReadModelView)  # type: ignore[return-value]


BATCH_SIZE_VARIABLE = "TRADELEDGER_PROJECTION_BATCH"


def open_services(
    config: StoreConfig | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    batch_size: int | None = None,
    read_wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
) -> Services:
    """Open the configured store (TRADELEDGER_DATABASE_URL unless `config` is given).

    The projector's batch size comes from TRADELEDGER_PROJECTION_BATCH (default
    projections.projector.DEFAULT_BATCH_SIZE). A query given a `min_position` waits up to
    `read_wait_timeout` seconds for the read models to reach it.
    """
    config = config or store_config()
    if batch_size is None:
        batch_size = int(os.environ.get(BATCH_SIZE_VARIABLE, "") or DEFAULT_BATCH_SIZE)
    ledger = open_ledger(config)
    view = _view(ledger, config)
    reached = ReadModelProgress(view.current_position)
    projector = Projector(ledger, view, batch_size=batch_size, reached=reached)
    projector.keep_negotiation_events()
    ledger.after_commit(projector.project_committed)
    queries = Queries(view, ledger.mapper, reached, clock, wait_timeout=read_wait_timeout)
    return Services(config, ledger, view, projector, queries)


def follow_commits(services: Services, bell: LogBell) -> Follower:
    """Start projecting, on a thread of this process, what other processes commit to the
    store (woken by `bell`); stop it with `.stop()`."""
    return Follower(services.projector, bell).start()
