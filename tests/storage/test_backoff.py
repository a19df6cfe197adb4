"""The backoff policy of every long-running loop: delays, which errors it waits out, and
a warning per change of state rather than per attempt."""

from __future__ import annotations

import logging
import sqlite3

import psycopg
import psycopg.errors
import psycopg_pool
import pytest
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
)

from storage.backoff import (
    DEFAULT_BACKOFF,
    Backoff,
    Retrying,
    StoreUnavailable,
    is_transient,
    one_line,
)


def test_delays_double_from_the_first_to_the_cap_each_jittered_into_its_upper_half() -> None:
    backoff = Backoff(first=0.1, cap=5.0)

    lowest = [backoff.delay(n, uniform=lambda low, high: low) for n in range(1, 10)]
    highest = [backoff.delay(n, uniform=lambda low, high: high) for n in range(1, 10)]

    assert highest == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    assert lowest == pytest.approx([h / 2 for h in highest])


def test_a_jittered_delay_never_exceeds_the_cap_nor_falls_below_half_of_it() -> None:
    delays = [DEFAULT_BACKOFF.delay(attempt) for attempt in range(1, 200)]

    assert all(0.05 <= delay <= 5.0 for delay in delays)
    assert all(2.5 <= delay <= 5.0 for delay in delays[10:])
    assert len(set(delays[10:])) > 1, "no jitter"


@pytest.mark.parametrize(
    "backoff", [{"first": 0, "cap": 1}, {"first": 2, "cap": 1}, {"first": 0.1, "factor": 0.5}]
)
def test_a_backoff_that_cannot_work_is_refused(backoff: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**backoff)


def caused(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


TRANSIENT = [
    StoreUnavailable("PostgreSQL is unreachable"),
    OperationalError("terminating connection due to administrator command"),
    InterfaceError("the connection is closed"),
    psycopg.OperationalError("connection refused"),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    psycopg.InterfaceError("the connection is lost"),
    psycopg_pool.PoolTimeout("couldn't get a connection after 2.00 sec"),
    ConnectionRefusedError(111, "Connection refused"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError("timed out"),
    caused(RuntimeError("wrapped"), psycopg.OperationalError("server closed the connection")),
    OperationalError("database is locked"),  # what the library makes of SQLite's
]
NOT_TRANSIENT = [
    ValueError("an undecodable event"),
    IntegrityError("duplicate key value violates unique constraint"),
    ProgrammingError('relation "tl_events" does not exist'),
    PersistenceError("something else"),
    psycopg.errors.UndefinedTable('relation "tl_events" does not exist'),
    psycopg.DataError("invalid input syntax"),
    sqlite3.DatabaseError("file is not a database"),
    KeyError("topic"),
    FileNotFoundError(2, "No such file or directory"),
]


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: type(e).__name__)
def test_unreachable_restarting_or_timing_out_is_transient(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize("error", NOT_TRANSIENT, ids=lambda e: type(e).__name__)
def test_other_faults_are_not(error: BaseException) -> None:
    assert not is_transient(error)


def test_a_cycle_of_causes_ends() -> None:
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first

    assert not is_transient(first)


def test_one_line_names_the_kind_of_error() -> None:
    assert one_line(OperationalError("server closed\n  the connection")) == (
        "OperationalError: server closed the connection"
    )
    assert one_line(KeyError()) == "KeyError"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_retrying_warns_when_the_store_is_lost_when_the_failure_changes_and_when_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    retrying = Retrying("the test loop", logging.getLogger("tests.backoff"), clock=clock)
    caplog.set_level(logging.DEBUG, logger="tests.backoff")

    delays = [retrying.failed(OperationalError("terminating connection"))]
    delays += [retrying.failed(StoreUnavailable("refused")) for _ in range(5)]
    failures = retrying.failures
    clock.now += 7.5
    retrying.recovered()
    retrying.recovered()

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3, warnings
    assert warnings[0].startswith("the test loop lost the store (OperationalError: terminating")
    assert "still cannot reach the store after 2 attempts (StoreUnavailable" in warnings[1]
    assert warnings[2] == "the test loop reconnected to the store after 6 failed attempts (7.5 s)"
    assert len([r for r in caplog.records if r.levelno == logging.DEBUG]) == 4
    assert failures == 6 and retrying.failures == 0 and not retrying.failing
    assert 0.05 <= delays[0] <= 0.1
    assert all(delay <= DEFAULT_BACKOFF.cap for delay in delays)


def test_retrying_starts_again_from_the_first_delay_after_a_recovery() -> None:
    retrying = Retrying("loop", logging.getLogger("tests.backoff"), Backoff(first=1, cap=64))
    for _ in range(5):
        retrying.failed(OperationalError("down"))
    retrying.recovered()

    assert retrying.failed(OperationalError("down again")) <= 1
