"""Shared pytest fixtures.

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
