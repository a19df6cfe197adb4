"""SQLite subscriptions: immediate in-process wake-ups, polling for other processes."""

from __future__ import annotations

import os
import queue
import statistics
import subprocess
from pathlib import Path
from threading import Thread
from time import perf_counter

import pytest
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    Notification,
    Subscription,
)
from eventsourcing.utils import Environment

from storage import commit_signals
from storage.sqlite import (
    DEFAULT_POLL_INTERVAL,
    LedgerSQLiteFactory,
)
from tests.storage.support import PYTHON, stored_event, subprocess_env


def _factory(db_path: Path, **env: str) -> LedgerSQLiteFactory:
    factory = InfrastructureFactory.construct(
        Environment(
            env={
                "PERSISTENCE_MODULE": "storage.sqlite",
                "SQLITE_DBNAME": str(db_path),
                **env,
            }
        )
    )
    assert isinstance(factory, LedgerSQLiteFactory)
    return factory


class _Receiver:
    """Iterates a subscription in a thread, time-stamping each notification.

    Keeps the test from hanging if a notification never comes: the main thread
    waits on a queue with a timeout instead of blocking in next(subscription).
    """

    def __init__(self, subscription: Subscription[ApplicationRecorder]) -> None:
        self._subscription = subscription
        self._received: queue.Queue[tuple[float, Notification]] = queue.Queue()
        self._thread = Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for notification in self._subscription:
            self._received.put((perf_counter(), notification))

    def get(self, timeout: float) -> tuple[float, Notification]:
        return self._received.get(timeout=timeout)

    def empty(self) -> bool:
        return self._received.empty()


def test_in_process_latency_is_about_a_millisecond(tmp_path: Path) -> None:
    db_path = tmp_path / "events.sqlite"
    # Polling every minute cannot explain any delivery within the test.
    writer_factory = _factory(db_path, SQLITE_POLL_INTERVAL="60")
    reader_factory = _factory(db_path, SQLITE_POLL_INTERVAL="60")
    try:
        writer = writer_factory.application_recorder()
        # Another factory, datastore and recorder on the same file: signals are
        # keyed by database file, not by object.
        reader = reader_factory.application_recorder()
        latencies = []
        with reader.subscribe() as subscription:
            receiver = _Receiver(subscription)
            for _ in range(50):
                ids = writer.insert_events([stored_event()])
                committed = perf_counter()
                received, notification = receiver.get(timeout=5)
                assert ids == [notification.id]
                latencies.append(received - committed)
        median = statistics.median(latencies)
        print(
            f"in-process latency: median {median * 1e3:.2f} ms, max {max(latencies) * 1e3:.2f} ms"
        )
        assert median < 0.005
        assert max(latencies) < 0.5  # Polls are 60 s apart: this was the signal.
    finally:
        writer_factory.close()
        reader_factory.close()


_CHILD_WRITER = """
import os
from uuid import uuid4
from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment

factory = InfrastructureFactory.construct(Environment(env=dict(os.environ)))
recorder = factory.application_recorder()
for _ in range(3):
    recorder.insert_events([StoredEvent(uuid4(), 1, "from-child", b"{}")])
factory.close()
"""


def test_writes_by_another_process_arrive_by_polling(tmp_path: Path) -> None:
    db_path = tmp_path / "events.sqlite"
    polling = _factory(db_path, SQLITE_POLL_INTERVAL="0.05")
    not_polling = _factory(db_path, SQLITE_POLL_INTERVAL="60")
    try:
        fast = polling.application_recorder()
        slow = not_polling.application_recorder()
        with fast.subscribe() as fast_subscription, slow.subscribe() as slow_subscription:
            fast_receiver = _Receiver(fast_subscription)
            slow_receiver = _Receiver(slow_subscription)
            subprocess.run(
                [PYTHON, "-c", _CHILD_WRITER],
                env=subprocess_env(PERSISTENCE_MODULE="storage.sqlite", SQLITE_DBNAME=str(db_path)),
                check=True,
                timeout=60,
                capture_output=True,
            )
            child_done = perf_counter()
            received = [fast_receiver.get(timeout=5) for _ in range(3)]
            assert [n.topic for _, n in received] == ["from-child"] * 3
            assert received[-1][0] - child_done < 1.0
            # The in-process signal cannot cross processes: without polling, nothing.
            assert slow_receiver.empty()
    finally:
        polling.close()
        not_polling.close()


def test_subscription_stops_listening_and_polling_on_exit(tmp_path: Path) -> None:
    factory = _factory(tmp_path / "events.sqlite", SQLITE_POLL_INTERVAL="0.01")
    try:
        recorder = factory.application_recorder()
        key = recorder.database_key
        recorder.insert_events([stored_event()])
        with recorder.subscribe(gt=0) as subscription:
            assert commit_signals.listener_count(key) == 1
            assert next(subscription).id == 1
        assert commit_signals.listener_count(key) == 0
        # Stopped before being entered: nothing is yielded, nothing is left behind.
        subscription = recorder.subscribe()
        subscription.stop()
        with subscription:
            assert list(subscription) == []
        assert commit_signals.listener_count(key) == 0
    finally:
        factory.close()


def test_poll_interval_from_environment(tmp_path: Path) -> None:
    db_path = tmp_path / "events.sqlite"
    factory = _factory(db_path)
    assert factory.poll_interval == DEFAULT_POLL_INTERVAL == 0.2
    factory.close()

    factory = _factory(db_path, SQLITE_POLL_INTERVAL="0.05")
    assert factory.application_recorder().poll_interval == 0.05
    assert factory.process_recorder().poll_interval == 0.05
    factory.close()

    # Per-application settings, as with the library's other variables.
    factory = _factory(db_path, TRADES_SQLITE_POLL_INTERVAL="1.5", SQLITE_POLL_INTERVAL="9")
    factory.env.name = "Trades"
    assert LedgerSQLiteFactory(factory.env).poll_interval == 1.5
    factory.close()


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan"])
def test_invalid_poll_interval_is_rejected(tmp_path: Path, value: str) -> None:
    with pytest.raises(OSError, match="SQLITE_POLL_INTERVAL"):
        _factory(tmp_path / "events.sqlite", SQLITE_POLL_INTERVAL=value)


def test_database_key_identifies_the_file_whatever_its_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.sqlite"
    monkeypatch.chdir(tmp_path)
    spellings = [
        str(path),
        "events.sqlite",
        f"file:{path}",
        f"file:{path}?mode=rwc",
        f"file://{path}",
        f"file://localhost{path}",
        "file:events.sqlite",
    ]
    assert len({commit_signals.database_key(s) for s in spellings}) == 1
    assert commit_signals.database_key(str(path)) != commit_signals.database_key(
        os.fspath(tmp_path / "other.sqlite")
    )
    # Shared-cache in-memory databases are one database per name.
    memory = "file:db1?mode=memory&cache=shared"
    assert commit_signals.database_key(memory) != commit_signals.database_key(
        "file:db2?mode=memory&cache=shared"
    )
