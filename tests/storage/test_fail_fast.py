"""The PostgreSQL store when its server goes away (storage.postgres.FailFastPool): an
unreachable server is reported at once as StoreUnavailable, which nothing retries ten
times; connections that died (a restart of the server) are never handed out again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import InfrastructureFactory

import storage.postgres_pool
from storage.backoff import StoreUnavailable
from storage.postgres import FailFastPool, LedgerPostgresApplicationRecorder, LedgerPostgresFactory
from tests.conftest import PostgresDatabase
from tests.faults.private_postgres import free_port
from tradeledger.bootstrap import open_ledger
from tradeledger.settings import Settings


def factory(env: dict[str, str]) -> LedgerPostgresFactory:
    made = InfrastructureFactory.construct(
        {"PERSISTENCE_MODULE": "storage.postgres", "POSTGRES_PASSWORD": "", **env}
    )
    assert isinstance(made, LedgerPostgresFactory)
    return made


@pytest.fixture
def nowhere() -> Iterator[LedgerPostgresApplicationRecorder]:
    """A recorder on a port where no server listens (its tables are never created)."""
    made = factory(
        {
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(free_port()),
            "POSTGRES_DBNAME": "nowhere",
            "POSTGRES_USER": "postgres",
            "POSTGRES_STORE_TIMEOUT": "0.5",
            "CREATE_TABLE": "no",
        }
    )
    # The library's recorders look up their column types on construction: not here.
    made.datastore.register_type_adapters = lambda: None  # type: ignore[method-assign]
    try:
        recorder = made.application_recorder()
        assert isinstance(recorder, LedgerPostgresApplicationRecorder)
        yield recorder
    finally:
        made.close()


def timed(call: Any) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as error:
        return error, time.monotonic() - started
    return None, time.monotonic() - started


def test_the_pool_is_ours_with_the_timeouts_of_the_environment() -> None:
    made = factory(
        {
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": "5432",
            "POSTGRES_DBNAME": "db",
            "POSTGRES_USER": "u",
            "POSTGRES_STORE_TIMEOUT": "1.5",
            "POSTGRES_POOL_SIZE": "3",
        }
    )
    pool = made.datastore.pool
    made.close()

    assert isinstance(pool, FailFastPool)
    assert (pool.timeout, pool.min_size, pool.reconnect_timeout) == (1.5, 3, 0.0)
    assert isinstance(pool.kwargs, dict)
    assert pool.kwargs["connect_timeout"] == 2  # libpq's least
    assert pool.kwargs["keepalives"] == 1 and pool.kwargs["tcp_user_timeout"] > 0


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_timeout_that_is_not_seconds_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="POSTGRES_STATEMENT_TIMEOUT"):
        factory(
            {
                "POSTGRES_HOST": "127.0.0.1",
                "POSTGRES_DBNAME": "db",
                "POSTGRES_USER": "u",
                "POSTGRES_STATEMENT_TIMEOUT": value,
            }
        )


def test_an_unreachable_server_is_reported_at_once_and_not_retried(
    nowhere: LedgerPostgresApplicationRecorder,
) -> None:
    # The library's own method, which retries OperationalError ten times 0.2 s apart.
    first, first_took = timed(nowhere.max_notification_id)
    then = [timed(nowhere.max_notification_id) for _ in range(5)]
    ours, ours_took = timed(lambda: nowhere.select_notifications_with_record_time(0, 10))

    assert isinstance(first, StoreUnavailable)
    assert first_took < 1.5  # one wait of the store's timeout (0.5 s), not ten
    assert all(isinstance(error, StoreUnavailable) for error, _ in then)
    assert max(took for _, took in then) < 0.2  # known unreachable: one refused attempt
    assert "PostgreSQL is unreachable" in str(then[-1][0])
    assert isinstance(ours, StoreUnavailable) and ours_took < 0.2


@pytest.mark.postgres
def test_settings_reach_the_pool(postgres_database: PostgresDatabase) -> None:
    settings = Settings.of(
        database_url=postgres_database.url,
        store_timeout_seconds=1.25,
        statement_timeout_seconds=0.2,
    )
    ledger = open_ledger(settings)
    try:
        pool = ledger.factory.datastore.pool  # type: ignore[attr-defined]
        with ledger.factory.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            shown = conn.execute("SHOW statement_timeout").fetchone()
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute("SELECT pg_sleep(1)")
    finally:
        ledger.close()

    assert pool.timeout == 1.25
    assert shown == {"statement_timeout": "200ms"}


def kill_connections(database: PostgresDatabase) -> int:
    with psycopg.connect(database.url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(killed)


@pytest.mark.postgres
def test_connections_that_died_idle_are_not_handed_out(
    postgres_database: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = open_ledger(Settings.of(database_url=postgres_database.url))
    datastore = ledger.factory.datastore  # type: ignore[attr-defined]
    try:
        ledger.recorder.max_notification_id()
        monkeypatch.setattr(storage.postgres_pool, "PING_AFTER_IDLE", 0.0)  # every one is idle
        killed = kill_connections(postgres_database)

        def select_one() -> None:
            # Straight from the pool: no retry could hide a dead connection.
            with datastore.get_connection() as conn:
                conn.execute("SELECT 1")

        error, took = timed(select_one)
    finally:
        ledger.close()

    assert killed >= 1
    assert error is None
    assert took < 1


@pytest.mark.postgres
def test_a_connection_broken_under_a_statement_costs_the_caller_nothing(
    postgres_database: PostgresDatabase,
) -> None:
    ledger = open_ledger(Settings.of(database_url=postgres_database.url))
    recorder = ledger.recorder
    assert isinstance(recorder, LedgerPostgresApplicationRecorder)
    try:
        recorder.select_notifications_with_record_time(0, 10)
        killed = kill_connections(postgres_database)
        # Used a moment ago, so handed out unchecked: it fails, is returned broken, the
        # pool drops every idle connection, and the one retry gets a new one.
        error, took = timed(lambda: recorder.select_notifications_with_record_time(0, 10))
        again, _ = timed(recorder.max_notification_id)
    finally:
        ledger.close()

    assert killed >= 1
    assert (error, again) == (None, None)
    assert took < 1
