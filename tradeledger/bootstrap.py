"""Wires the write side, the read models and the queries onto one configured store.

The API, the CLI and the benchmarks all start here, so that a store is opened the same
way everywhere: the Ledger on the configured backend, the read-model view beside it
(the same SQLite file or PostgreSQL database; an in-memory SQLite database when the
ledger itself is in memory), a Projector that keeps the view current, and the Queries.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from domain.ledger import Ledger
from projections.projector import DEFAULT_BATCH_SIZE, Projector
from projections.queries import Queries
from projections.views import PostgresReadModelView, ReadModelView, SQLiteReadModelView
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
) -> Services:
    """Open the configured store (TRADELEDGER_DATABASE_URL unless `config` is given).

    The projector's batch size comes from TRADELEDGER_PROJECTION_BATCH (default
    projections.projector.DEFAULT_BATCH_SIZE).
    """
    config = config or store_config()
    if batch_size is None:
        batch_size = int(os.environ.get(BATCH_SIZE_VARIABLE, "") or DEFAULT_BATCH_SIZE)
    ledger = open_ledger(config)
    view = _view(ledger, config)
    projector = Projector(ledger, view, batch_size=batch_size)
    return Services(config, ledger, view, projector, Queries(ledger, view, projector, clock))
