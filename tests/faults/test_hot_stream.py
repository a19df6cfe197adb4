"""A hot stream (issue #13, item 4): many writers on one measure, through the real service.

Sixteen writers POSTing to one measure without If-Match once made the service retry
each append against the others for up to 30 s and then answer 409 `version_conflict`
to clients that had asked for no version check. Now appends to a stream take turns in
the process and are saved a batch at a time. What must hold, on SQLite and PostgreSQL:
no 409 without If-Match, every acknowledged event in the stream exactly once at
contiguous versions, an invalid request refused alone; with a stale If-Match a 409
that reads only the events after the version the service keeps, never the whole
stream; and a write the stream was too busy to take a 503 with Retry-After.

The writers run against uvicorn in a process of its own (as `tradeledger serve` runs);
the tests that watch how many events the service read serve the real app with uvicorn
on a thread of the test, so that they can ask its Ledger. Correctness only: the figures
are bench.hot's.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn

from api.main import create_app
from api.settings import Settings
from bench.served import WRITER_KEY, serving
from domain.ledger import MEASURE, Ledger, stream_id_for_key
from tests.domain.test_ledger import rate_change
from tradeledger.bootstrap import Services, open_services
from tradeledger.settings import parse_database_url

pytestmark = pytest.mark.fault

WRITERS = 16
APPENDS = 12
"""Appends per writer."""

SOURCES = [{"citation": "EO 14257", "publisher": "The White House", "reliability": "official"}]


def imposed(key: str) -> dict[str, Any]:
    return {
        "type": "imposed",
        "event_id": f"{key}-imposed",
        "effective_on": "2025-03-04",
        "announced_at": "2025-03-01T09:00:00Z",
        "key": key,
        "imposer": "US",
        "name": f"Hot measure {key}",
        "targets": ["CN"],
        "layer": "hot",
        "rate_pct": 10,
        "sources": SOURCES,
        "recorded_by": "tester@tradeledger",
    }


def rate_changed(event_id: str, rate: int = 20) -> dict[str, Any]:
    return {
        "type": "rate_changed",
        "event_id": event_id,
        "effective_on": "2025-04-09",
        "announced_at": "2025-04-01T12:00:00Z",
        "rate_pct": rate,
        "sources": SOURCES,
        "recorded_by": "tester@tradeledger",
    }


def correction_of(corrected_event_id: str) -> dict[str, Any]:
    return {
        "type": "record_corrected",
        "event_id": "FIX-OF-NOTHING",
        "effective_on": "2025-04-10",
        "announced_at": "2025-04-10T12:00:00Z",
        "corrected_event_id": corrected_event_id,
        "reason": "entered in error",
        "sources": SOURCES,
        "recorded_by": "tester@tradeledger",
    }


def client(url: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {WRITER_KEY}"}, timeout=30.0
    )


def stored(database_url: str, key: str) -> list[tuple[int, str]]:
    """(version, event id) of every event of the measure, as the store holds them."""
    ledger = Ledger(parse_database_url(database_url).env)
    try:
        events = ledger.events.get(stream_id_for_key(MEASURE, key))
        return [(e.originator_version, str(getattr(e, "event_id", ""))) for e in events]
    finally:
        ledger.close()


# -- 16 writers through a served API --------------------------------------------------


@pytest.mark.slow
def test_sixteen_writers_on_one_stream_get_no_409_and_lose_nothing(
    durable_database_url: str,
) -> None:
    """One writer's third request is invalid (it corrects an event that does not exist):
    it alone is refused."""
    key = "hot-sixteen"
    answers: dict[str, int] = {}
    rules: dict[str, str] = {}
    start = threading.Barrier(WRITERS)

    with serving(parse_database_url(durable_database_url)) as served:
        with client(served.url) as setup:
            assert setup.post("/v1/measures", json=imposed(key)).status_code == 201

        def write(writer: int) -> None:
            with client(served.url) as http:
                start.wait()
                for n in range(APPENDS):
                    event_id = f"W{writer:02}-{n:02}"
                    body = rate_changed(event_id, 10 + n)
                    if (writer, n) == (7, 2):
                        event_id, body = "INVALID", correction_of("NO-SUCH-EVENT")
                    response = http.post(f"/v1/measures/{key}/events", json=body)
                    answers[event_id] = response.status_code
                    if response.status_code >= 400:
                        rules[event_id] = response.json().get("rule", "")

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            for future in [pool.submit(write, w) for w in range(WRITERS)]:
                future.result(60)

    refused = {event_id: status for event_id, status in answers.items() if status != 201}
    assert refused == {"INVALID": 409}
    assert rules == {"INVALID": "unknown_event_reference"}
    events = stored(durable_database_url, key)
    assert [version for version, _ in events] == list(range(1, len(events) + 1))
    recorded = [event_id for _, event_id in events[1:]]
    acknowledged = [event_id for event_id, status in answers.items() if status == 201]
    assert sorted(recorded) == sorted(acknowledged)
    assert len(recorded) == WRITERS * APPENDS - 1
    for writer in range(WRITERS):
        own = [e for e in recorded if e.startswith(f"W{writer:02}-")]
        assert own == sorted(own), f"writer {writer}'s appends are out of order"


# -- the served app, on a thread, to ask its Ledger -----------------------------------


@pytest.fixture
def services(durable_database_url: str) -> Iterator[Services]:
    services = open_services(parse_database_url(durable_database_url))
    try:
        yield services
    finally:
        services.close()


@pytest.fixture
def url(services: Services) -> Iterator[str]:
    """The real app on `services`, served by uvicorn on a thread of this process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(services, Settings.with_keys({WRITER_KEY: "writer"}))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="hot-stream-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def test_a_stale_if_match_answers_409_reading_only_the_newer_events(
    services: Services, url: str, durable_database_url: str
) -> None:
    key = "hot-if-match"
    path = f"/v1/measures/{key}/events"
    with client(url) as http:
        assert http.post("/v1/measures", json=imposed(key)).status_code == 201
        for n in range(30):
            assert http.post(path, json=rate_changed(f"R{n}")).status_code == 201
        loaded = services.ledger.events_loaded

        stale = http.post(path, json=rate_changed("STALE"), headers={"If-Match": '"5"'})
        after_stale = services.ledger.events_loaded
        # Another process writes two events: this one's kept state is now behind.
        other = Ledger(parse_database_url(durable_database_url).env)
        try:
            measure_id = stream_id_for_key(MEASURE, key)
            other.append_to_stream(measure_id, [rate_change("OTHER-1", "5")])
            other.append_to_stream(measure_id, [rate_change("OTHER-2", "6")])
        finally:
            other.close()
        behind = http.post(path, json=rate_changed("BEHIND"), headers={"If-Match": '"31"'})
        current = http.post(path, json=rate_changed("CURRENT"), headers={"If-Match": '"33"'})

    assert (stale.status_code, stale.json()["rule"], stale.headers["ETag"]) == (
        409,
        "version_conflict",
        '"31"',
    )
    assert after_stale == loaded, "a stale If-Match on a kept stream reads nothing"
    assert (behind.status_code, behind.json()["current_version"]) == (409, 33)
    assert current.status_code == 201
    assert services.ledger.events_loaded - loaded == 2, "only the two newer events are read"
    assert [e for _, e in stored(durable_database_url, key)][-3:] == [
        "OTHER-1",
        "OTHER-2",
        "CURRENT",
    ]


def test_a_write_the_stream_is_too_busy_for_answers_503_with_retry_after(
    services: Services, url: str, durable_database_url: str
) -> None:
    key = "hot-busy"
    path = f"/v1/measures/{key}/events"
    gate, held = threading.Event(), threading.Event()

    def hold_the_leader(position: int) -> None:
        if not gate.is_set():
            held.set()
            gate.wait(10)

    with client(url) as http, client(url) as second:
        assert http.post("/v1/measures", json=imposed(key)).status_code == 201
        services.ledger.after_commit(hold_the_leader)
        services.ledger.append_patience = 0.2
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(http.post, path, json=rate_changed("FIRST"))
            assert held.wait(10)
            busy = second.post(path, json=rate_changed("TOO-LATE"))
            gate.set()
            assert first.result(10).status_code == 201

    assert busy.status_code == 503
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.headers["Retry-After"] == "1"
    assert busy.json()["rule"] == "stream_busy"
    assert [e for _, e in stored(durable_database_url, key)] == [f"{key}-imposed", "FIRST"]
