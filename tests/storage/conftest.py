"""Fixtures giving one of our application recorders per backend, built by its Factory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from storage.popo import LedgerPOPOApplicationRecorder
from storage.postgres import LedgerPostgresApplicationRecorder
from storage.sqlite import LedgerSQLiteApplicationRecorder
from tests.conftest import PostgresDatabase

LedgerRecorder = (
    LedgerPOPOApplicationRecorder
    | LedgerSQLiteApplicationRecorder
    | LedgerPostgresApplicationRecorder
)


def backend_env(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Environment selecting `backend` the way deployments do: PERSISTENCE_MODULE."""
    env = {"PERSISTENCE_MODULE": f"storage.{backend}"}
    if backend == "sqlite":
        env["SQLITE_DBNAME"] = str(tmp_path / "events.sqlite")
    elif backend == "postgres":
        # Requested lazily, so that POPO and SQLite runs need no server.
        database: PostgresDatabase = request.getfixturevalue("postgres_database")
        env.update(database.eventsourcing_env())
        env["POSTGRES_POOL_SIZE"] = "10"
    return env


@pytest.fixture
def recorder(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[LedgerRecorder]:
    """A new, empty application recorder of each backend (tests/conftest.py)."""
    factory = InfrastructureFactory.construct(
        Environment(env=backend_env(backend, request, tmp_path))
    )
    try:
        app_recorder = factory.application_recorder()
        assert isinstance(
            app_recorder,
            LedgerPOPOApplicationRecorder
            | LedgerSQLiteApplicationRecorder
            | LedgerPostgresApplicationRecorder,
        )
        yield app_recorder
    finally:
        factory.close()
