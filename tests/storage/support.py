"""Helpers shared by the store tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from unittest import TestCase
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore

import tradeledger
from tests.conftest import PostgresDatabase

PROJECT_ROOT = Path(tradeledger.__file__).resolve().parents[1]


def stored_event(
    originator_id: UUID | None = None, version: int = 1, topic: str = "topic"
) -> StoredEvent:
    return StoredEvent(
        originator_id=originator_id or uuid4(),
        originator_version=version,
        topic=topic,
        state=b"{}",
    )


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child Python process that must import this project."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env.update(extra)
    return env


PYTHON = sys.executable


class PostgresDatastoreTestCase(TestCase):
    """Base for the library's unittest cases, run against a fresh database per test.

    The library's own suite drops tables in a fixed database between tests; we use
    the ``postgres_database`` fixture instead (injected by the autouse fixture
    method, which pytest runs before ``setUp``), so tests never share state.
    """

    pool_size = 1
    max_overflow = 0
    postgres: PostgresDatabase
    datastore: PostgresDatastore

    @pytest.fixture(autouse=True)
    def _use_fresh_database(self, postgres_database: PostgresDatabase) -> None:
        self.postgres = postgres_database

    def setUp(self) -> None:
        super().setUp()
        self.datastore = PostgresDatastore(
            dbname=self.postgres.dbname,
            host=self.postgres.host,
            port=self.postgres.port,
            user=self.postgres.user,
            password=self.postgres.password,
            pool_size=self.pool_size,
            max_overflow=self.max_overflow,
        )

    def tearDown(self) -> None:
        self.datastore.close()
        super().tearDown()

    def resize_pool(self, size: int) -> None:
        """Allow `size` connections (the library's concurrency tests need several)."""
        self.datastore.pool.open()
        self.datastore.pool.resize(size, size)
