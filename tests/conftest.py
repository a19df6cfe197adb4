"""Shared pytest fixtures, and the one declaration of the backends every suite runs on.

`backend` is each of the three stores (in memory, SQLite, PostgreSQL) in turn, and
`database_url` a new, empty store of it as a TRADELEDGER_DATABASE_URL; a suite that needs
a store outliving its process parametrises `backend` with DURABLE_BACKENDS (indirectly).
A folder may override `postgres_database` (the API suite reuses one database per session).

PostgreSQL tests (marked ``postgres``) each get a database of their own, created on
the server named by ``TRADELEDGER_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``) and dropped afterwards. Deselect
them with ``-m "not postgres"`` when no server is available.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

TEST_POSTGRES_URL_ENV = "TRADELEDGER_TEST_POSTGRES_URL"
DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class PostgresDatabase:
    """Where a test's PostgreSQL database is."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @property
    def url(self) -> str:
        credentials = quote(self.user, safe="")
        if self.password:
            credentials += ":" + quote(self.password, safe="")
        return f"postgresql://{credentials}@{self.host}:{self.port}/{quote(self.dbname, safe='')}"

    def eventsourcing_env(self) -> dict[str, str]:
        """The ``POSTGRES_*`` variables that point the library's factories here."""
        return {
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
        }


def postgres_server_url() -> str:
    """The maintenance URL of the PostgreSQL server used by tests."""
    return os.environ.get(TEST_POSTGRES_URL_ENV) or DEFAULT_TEST_POSTGRES_URL


def create_database(server_url: str) -> PostgresDatabase:
    """Create an empty database named ``tl_test_<random hex>``."""
    params = conninfo_to_dict(server_url)
    dbname = f"tl_test_{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return PostgresDatabase(
        host=str(params.get("host") or "127.0.0.1"),
        port=int(params.get("port") or 5432),
        user=str(params.get("user") or "postgres"),
        password=str(params.get("password") or ""),
        dbname=dbname,
    )


def drop_database(server_url: str, database: PostgresDatabase) -> None:
    """Drop `database`, first disconnecting whatever is still connected to it."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database.dbname,),
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database.dbname)))


@pytest.fixture
def postgres_database() -> Iterator[PostgresDatabase]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    server_url = postgres_server_url()
    try:
        database = create_database(server_url)
    except psycopg.OperationalError as e:
        pytest.fail(
            f"Cannot create a test database via {TEST_POSTGRES_URL_ENV}={server_url!r}: {e}\n"
            'Run with -m "not postgres" to skip PostgreSQL tests.',
            pytrace=False,
        )
    try:
        yield database
    finally:
        drop_database(server_url, database)


BACKENDS = [
    pytest.param("popo", id="popo"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
"""Every store the product runs on: the same behavioural suites run on each."""

DURABLE_BACKENDS = BACKENDS[1:]
"""The stores that outlive their process (reopening, other processes, subprocesses)."""

durable = pytest.mark.parametrize("backend", DURABLE_BACKENDS, indirect=True)
"""For a test of what only a store outliving its process has: a restart, a second
process or ledger on the same store, the SQL statements sent to a database."""


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of one backend: popo, sqlite or postgres."""
    name: str = request.param
    return name


def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of `backend`, as a TRADELEDGER_DATABASE_URL (a second call for
    SQLite in the same test names the same file)."""
    if backend == "popo":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.sqlite"
    # Requested lazily, so that the other backends need no server.
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    return database.url


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of each backend, as a TRADELEDGER_DATABASE_URL."""
    return store_url(backend, request, tmp_path)


@pytest.fixture(params=DURABLE_BACKENDS)
def durable_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of each backend that outlives its process, as a URL."""
    return store_url(request.param, request, tmp_path)
