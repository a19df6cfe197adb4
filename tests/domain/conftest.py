"""The Ledger application on every backend, configured the way deployments configure it:
a database URL, parsed by the composition root into the library's environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.ledger import Ledger
from tests.conftest import PostgresDatabase
from tradeledger.settings import parse_database_url

BACKENDS = [
    pytest.param("popo", id="popo"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "popo":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.sqlite"
    # Requested lazily, so that the POPO and SQLite runs need no server.
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    return database.url


@pytest.fixture(params=BACKENDS)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """A Ledger on a new, empty store of each backend, closed after the test."""
    env = parse_database_url(database_url(request.param, request, tmp_path)).env
    ledger = Ledger(env)
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture(params=BACKENDS[1:])
def durable_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """A Ledger on a store that outlives it (SQLite, PostgreSQL): the in-memory store
    lives and dies with its ledger, so reopening it means nothing."""
    env = parse_database_url(database_url(request.param, request, tmp_path)).env
    ledger = Ledger(env)
    try:
        yield ledger
    finally:
        ledger.close()
