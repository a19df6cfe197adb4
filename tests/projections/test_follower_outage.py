"""A follower (a server's, or the projection worker) waits out an unreachable store with
backoff and carries on; any other error stops it, named in one line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from projections.follower import Follower
from storage.backoff import StoreUnavailable
from storage.bell import LogBell
from tradeledger.bootstrap import Services, open_services
from tradeledger.settings import parse_database_url


@pytest.fixture
def services() -> Iterator[Services]:
    opened = open_services(parse_database_url("memory://"))
    try:
        yield opened
    finally:
        opened.close()


def scripted(outcomes: list[Exception | int]) -> Callable[..., int]:
    """A catch_up that raises or returns each outcome in turn, then returns 0."""

    def catch_up(*_: Any, **__: Any) -> int:
        outcome = outcomes.pop(0) if outcomes else 0
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return catch_up


def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_an_unreachable_store_is_waited_out_and_warned_of_once_each_way(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    outages: list[Exception | int] = [
        OperationalError("terminating connection due to administrator command"),
        *[StoreUnavailable("PostgreSQL is unreachable") for _ in range(4)],
        3,
    ]
    monkeypatch.setattr(services.projector, "catch_up", scripted(outages))
    bell = LogBell(services.ledger)
    follower = Follower(services.projector, bell, first_backoff=0.01, max_backoff=0.05)
    caplog.set_level(logging.WARNING, logger="projections.follower")
    try:
        follower.start()
        until(lambda: follower.projected == 3)
        running = follower.running
    finally:
        follower.stop()
        bell.close()

    assert running and follower.error is None and follower.failures == 0
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 3, warnings  # lost; another kind of failure; back
    assert "lost the store (OperationalError: terminating connection" in warnings[0]
    assert "reconnected to the store after 5 failed attempts" in warnings[-1]


def test_any_other_error_stops_the_follower_named_in_one_line(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        services.projector, "catch_up", scripted([ValueError("an event that cannot\nbe read")])
    )
    bell = LogBell(services.ledger)
    follower = Follower(services.projector, bell, name="the test worker")
    try:
        follower.start()
        until(lambda: not follower.running)
        hooked = services.projector.wake_follower
    finally:
        follower.stop()
        bell.close()

    assert isinstance(follower.error, ValueError)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "the test worker stopped: ValueError: an event that cannot be read"
    ]
    # Without a follower, this process's commits are projected by whoever makes them.
    assert hooked is None


def test_a_worker_follows_in_batches_and_tells_when_it_first_caught_up(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int | None] = []

    def catch_up(progress: Any = None, limit: int | None = None) -> int:
        calls.append(limit)
        return 10 if len(calls) < 3 else 4

    monkeypatch.setattr(services.projector, "catch_up", catch_up)
    bell = LogBell(services.ledger)
    follower = Follower(services.projector, bell, batch_limit=10, poll_interval=60)
    try:
        follower.start()
        assert follower.caught_up.wait(10)
        projected = follower.projected
    finally:
        follower.stop()
        bell.close()

    assert calls[:3] == [10, 10, 10]
    assert projected == 24
