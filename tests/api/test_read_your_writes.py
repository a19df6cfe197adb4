"""Reads only read, and a reader can ask to see a write: every write answers the log
position it reached, every read the position it reflects, and a read given
`min_position` waits until the read models reach it (or answers 503 with Retry-After).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import (
    KEYS,
    WRITER,
    TestClient,
    bearer,
    event,
    fentanyl,
    seed_us_china,
)
from tests.api.test_sse import running_server
from tests.conftest import durable
from tradeledger.bootstrap import open_services
from tradeledger.settings import parse_database_url

READ_ROUTES = [
    ("/v1/duty", {"importer": "US", "origin": "CN", "hs": "9503.00.0090", "on": "2025-04-15"}),
    ("/v1/measures/us-cn-reciprocal", {"on": "2025-04-15"}),
    ("/v1/negotiations/us-cn-trade-talks", {"on": "2025-05-15"}),
    ("/v1/schedules/US", {"origin": "CN", "on": "2025-04-15"}),
    ("/v1/measures/us-cn-reciprocal/timeline", {}),
    ("/v1/negotiations/us-cn-trade-talks/timeline", {}),
    ("/v1/measures/us-cn-reciprocal/diff", {"on": "2025-04-01", "on2": "2025-05-20"}),
]


def last_position(client: TestClient) -> int:
    page = client.get("/v1/events", params={"limit": 1000}).json()
    position: int = page["high_water"]
    return position


# -- positions --------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params"), READ_ROUTES)
def test_every_read_answers_the_position_it_reflects_and_accepts_min_position(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    seed_us_china(client)
    written = last_position(client)

    response = client.get(path, params={**params, "min_position": str(written)})

    assert response.status_code == 200, response.text
    assert int(response.headers["X-Log-Position"]) == written


def test_a_write_answers_the_position_it_reached_and_a_read_with_it_sees_the_write(
    client: TestClient,
) -> None:
    client.post("/v1/measures", json=fentanyl())

    written = client.post(
        "/v1/measures/us-cn-fentanyl/events",
        json=event("rate_changed", "US-CN-FENT-20", "2025-03-04", rate_pct=20),
    )
    read = client.get(
        "/v1/measures/us-cn-fentanyl",
        params={"on": "2025-03-05", "min_position": written.headers["X-Log-Position"]},
    )

    assert written.json()["position"] == int(written.headers["X-Log-Position"]) == 2
    assert read.json()["charged_rate_pct"] == 20
    assert (read.json()["position"], read.headers["X-Log-Position"]) == (2, "2")


def test_a_position_not_reached_in_time_answers_503_with_retry_after(
    database_url: str,
) -> None:
    services = open_services(parse_database_url(database_url), read_wait_timeout=0.2)
    try:
        with TestClient(create_app(services, Settings.with_keys(KEYS))) as client:
            client.headers.update(bearer(WRITER))
            client.post("/v1/measures", json=fentanyl())

            response = client.get(
                "/v1/duty",
                params={"importer": "US", "origin": "CN", "hs": "9503", "min_position": "7"},
            )
    finally:
        services.close()

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    problem = response.json()
    assert (problem["rule"], problem["min_position"], problem["position"]) == (
        "read_model_behind",
        7,
        1,
    )
    assert "position 1, not 7" in problem["detail"]


@durable
def test_a_read_waits_for_a_position_another_process_writes(
    client: TestClient, database_url: str
) -> None:
    created = client.post("/v1/measures", json=fentanyl()).json()["position"]

    with running_server(database_url) as other, ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            client.get,
            "/v1/measures/us-cn-fentanyl",
            params={"on": "2025-03-05", "min_position": str(created + 1)},
        )
        written = other.post(
            "/v1/measures/us-cn-fentanyl/events",
            event("rate_changed", "US-CN-FENT-20", "2025-03-04", rate_pct=20),
        )
        read = waiting.result(timeout=30)

    assert written["position"] == created + 1
    assert read.status_code == 200, read.text
    assert read.headers["X-Log-Position"] == str(created + 1)
    assert read.json()["charged_rate_pct"] == 20


# -- a GET only SELECTs -------------------------------------------------------------------


APPEND_FUNCTION = re.compile(r"tl_append_\w*\"?\s*\(", re.IGNORECASE)
"""The PostgreSQL store's append function, called as `SELECT ... FROM <name>(...)`."""


class Statements:
    """The SQL statements sent to the database while `recording` is set, by any thread."""

    def __init__(self) -> None:
        self.recording = threading.Event()
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def record(self, statement: str) -> None:
        if self.recording.is_set():
            with self._lock:
                self.seen.append(" ".join(statement.split()))

    def writes(self) -> list[str]:
        # A new PostgreSQL connection of the pool is configured with a session setting;
        # the pool may open one while the request is served.
        # On PostgreSQL an append is one SELECT of the store's append function: a write.
        allowed = ("SELECT", "BEGIN", "COMMIT", "ROLLBACK", "SET IDLE_IN_TRANSACTION")
        return [
            s
            for s in self.seen
            if not s.upper().startswith(allowed) or APPEND_FUNCTION.search(s) is not None
        ]

    def replays(self) -> list[str]:
        """Reads of a stream from the event store (by originator id), as a replay does."""
        return [
            s for s in self.seen if "stored_events" in s and "originator_id=" in s.replace(" ", "")
        ]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Statements:
    """Every statement the app's connections send: SQLite's trace callback on each
    connection the pool opens; psycopg's cursor methods on PostgreSQL."""
    spy = Statements()
    if database_url.startswith("sqlite"):
        create = SQLiteConnectionPool._create_connection

        def traced(pool: SQLiteConnectionPool) -> SQLiteConnection:
            connection = create(pool)
            raw: sqlite3.Connection = connection._sqlite_conn
            raw.set_trace_callback(spy.record)
            return connection

        monkeypatch.setattr(SQLiteConnectionPool, "_create_connection", traced)
        return spy
    for name in ("execute", "executemany", "copy"):
        original: Callable[..., Any] = getattr(psycopg.Cursor, name)

        def spied(
            cursor: psycopg.Cursor[Any],
            query: Any,
            *args: Any,
            _original: Callable[..., Any] = original,
            **kwargs: Any,
        ) -> Any:
            spy.record(query if isinstance(query, str) else query.as_string(cursor))
            return _original(cursor, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, name, spied)
    return spy


@pytest.fixture
def spied_client(statements: Statements, database_url: str) -> Iterator[TestClient]:
    services = open_services(parse_database_url(database_url))
    try:
        with TestClient(create_app(services, Settings.with_keys(KEYS))) as client:
            client.headers.update(bearer(WRITER))
            yield client
    finally:
        services.close()


def settle(client: TestClient, position: int) -> None:
    """Wait until the server's follower has projected `position`, so that no projection
    runs beside the request the test then watches (a server projects on its follower's
    thread, after the write has answered)."""
    reply = client.get("/v1/measures/us-cn-fentanyl", params={"min_position": position})
    assert reply.status_code == 200, reply.text


@durable
def test_a_read_after_a_write_only_selects(
    spied_client: TestClient, statements: Statements
) -> None:
    seed_us_china(spied_client)
    written = last_position(spied_client)
    settle(spied_client, written)

    statements.recording.set()
    response = spied_client.get(
        "/v1/duty",
        params={"importer": "US", "origin": "CN", "hs": "9503.00.0090", "on": "2025-04-15"},
    )
    statements.recording.clear()

    assert response.status_code == 200
    assert response.json()["position"] == written
    assert any("tl_measure_facts" in s for s in statements.seen), statements.seen
    assert statements.writes() == []


@durable
def test_the_spy_sees_a_write(spied_client: TestClient, statements: Statements) -> None:
    statements.recording.set()
    spied_client.post("/v1/measures", json=fentanyl())
    statements.recording.clear()

    assert statements.writes()


@durable
def test_a_read_of_a_negotiation_only_selects(
    spied_client: TestClient, statements: Statements
) -> None:
    seed_us_china(spied_client)
    settle(spied_client, last_position(spied_client))

    statements.recording.set()
    response = spied_client.get("/v1/negotiations/us-cn-trade-talks", params={"on": "2025-05-15"})
    statements.recording.clear()

    assert response.json()["status"] == "truce_active"
    assert any("tl_negotiation_events" in s for s in statements.seen), statements.seen
    assert statements.replays() == []
    assert statements.writes() == []
