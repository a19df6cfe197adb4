"""The API while the store is unreachable, in process: problem details naming the store,
probes for orchestrators, and event streams whose heartbeats never wait for the store.
(tests/faults/test_outage.py stops a real PostgreSQL under the real server.)"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from api.feed import HEARTBEAT, _follow
from storage.backoff import StoreUnavailable
from storage.bell import LogBell
from storage.eventlog import EventLog, LogFilter, LogPage
from tests.api.conftest import TestClient
from tradeledger.bootstrap import Services

# -- problem details --------------------------------------------------------------------


def break_store(services: Services, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def fail(*_: Any, **__: Any) -> Any:
        raise error

    recorder = services.ledger.recorder
    for name in ("max_notification_id", "select_notifications_with_record_time"):
        monkeypatch.setattr(recorder, name, fail)


@pytest.mark.parametrize(
    "error",
    [
        StoreUnavailable("PostgreSQL is unreachable: connection refused"),
        OperationalError("terminating connection due to administrator command"),
    ],
)
def test_a_request_the_store_cannot_serve_answers_store_unavailable(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    break_store(services, monkeypatch, error)

    response = client.get("/v1/events")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"].isdigit()
    body = response.json()
    assert body["type"].endswith("/store-unavailable")
    assert (body["rule"], body["title"]) == ("store_unavailable", "Store unavailable")
    assert "refused" not in body["detail"] and "administrator" not in body["detail"]


def test_any_other_store_failure_is_not_called_unavailability(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_store(services, monkeypatch, IntegrityError("something unexpected"))

    response = client.get("/v1/events")

    assert response.status_code == 503
    assert response.json()["type"] == "about:blank"


# -- probes -----------------------------------------------------------------------------


def test_liveness_never_asks_the_store(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_store(services, monkeypatch, StoreUnavailable("down"))

    response = client.get("/healthz", headers={"Authorization": ""})

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readiness_is_the_store_answering(client: TestClient) -> None:
    response = client.get("/readyz", headers={"Authorization": ""})

    assert (response.status_code, response.json()) == (200, {"status": "ready"})


def test_not_ready_while_the_store_is_unreachable(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_store(services, monkeypatch, StoreUnavailable("down"))

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["rule"] == "store_unavailable"


def test_not_ready_when_the_store_does_not_answer_in_time(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    released = threading.Event()

    def hang() -> int:
        released.wait(10)
        return 0

    monkeypatch.setattr(services.ledger.recorder, "max_notification_id", hang)
    started = time.monotonic()
    try:
        response = client.get("/readyz")
    finally:
        released.set()

    assert response.status_code == 503
    assert "did not answer within" in response.json()["detail"]
    assert time.monotonic() - started < 3


def test_the_probes_are_not_part_of_the_versioned_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert "/healthz" not in paths and "/readyz" not in paths


# -- event streams ----------------------------------------------------------------------


class QuietBell:
    """A bell that never rings (the store is down)."""

    def add(self, ring: Callable[[], None]) -> None:
        pass

    def discard(self, ring: Callable[[], None]) -> None:
        pass


class FakeLog:
    """Reads that do what `behave` says: hang, fail, or answer an empty, caught-up page."""

    def __init__(self, behave: Callable[[int], None]) -> None:
        self.behave = behave
        self.reads = 0

    def read(self, after: int = 0, limit: int = 100, where: LogFilter | None = None) -> LogPage:
        self.reads += 1
        self.behave(self.reads)
        return LogPage((), after, after)


def collect(log: FakeLog, seconds: float, heartbeat: float = 0.05) -> list[tuple[float, bytes]]:
    """What a stream over `log` sends in `seconds`, with arrival times."""

    async def run() -> list[tuple[float, bytes]]:
        stream = _follow(cast(EventLog, log), cast(LogBell, QuietBell()), LogFilter(), 0, heartbeat)
        sent: list[tuple[float, bytes]] = []
        started = time.monotonic()

        async def read_all(chunks: AsyncIterator[bytes]) -> None:
            async for chunk in chunks:
                sent.append((time.monotonic() - started, chunk))

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(read_all(stream), seconds)
        await stream.aclose()  # type: ignore[attr-defined]
        return sent

    return asyncio.run(run())


def longest_silence(sent: list[tuple[float, bytes]], until: float) -> float:
    times = [0.0, *(at for at, _ in sent), until]
    return max(later - earlier for earlier, later in itertools.pairwise(times))


def test_heartbeats_go_on_while_a_read_of_the_log_hangs() -> None:
    released = threading.Event()

    def hang(attempt: int) -> None:
        released.wait(5)

    log = FakeLog(hang)
    try:
        sent = collect(log, 0.6)
    finally:
        released.set()

    assert sum(chunk == HEARTBEAT for _, chunk in sent) >= 6
    assert longest_silence(sent, 0.6) < 0.2


def test_heartbeats_go_on_while_reads_fail_and_the_reads_are_tried_again() -> None:
    def unavailable(attempt: int) -> None:
        raise StoreUnavailable("PostgreSQL is unreachable")

    log = FakeLog(unavailable)
    sent = collect(log, 0.6)

    assert sum(chunk == HEARTBEAT for _, chunk in sent) >= 6
    assert longest_silence(sent, 0.6) < 0.2
    assert log.reads >= 6


def test_a_stream_resumes_once_the_store_answers_again() -> None:
    def down_at_first(attempt: int) -> None:
        if attempt <= 3:
            raise OperationalError("connection refused")

    log = FakeLog(down_at_first)
    sent = collect(log, 0.6)

    assert log.reads > 3  # read again after the store came back, at each heartbeat
    assert all(chunk.startswith(b":") for _, chunk in sent)
