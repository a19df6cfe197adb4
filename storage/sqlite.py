"""SQLite store with record times and subscriptions.

Select with ``PERSISTENCE_MODULE=storage.sqlite`` (and the library's
``SQLITE_DBNAME``). Environment variables read here, besides the library's:

``SQLITE_POLL_INTERVAL``
    Seconds between polls made by each subscription to find events written by
    *other processes* (default 0.2). Events written in this process through our
    recorders wake subscribers immediately, whatever the interval.

Record time: column ``recorded_at`` (ISO 8601 text, UTC, millisecond precision) is
filled by SQLite's ``strftime(..., 'now')`` default at insert. SQLite serialises
writers, so rowid (notification id) order is commit order and record times are
non-decreasing in that order (as long as the host clock does not step back).

Tables must be created by these recorders: a table created by the library's own
recorders lacks ``recorded_at``, and SQLite cannot add a column whose default is
not constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from threading import Event, Thread
from typing import Any

import eventsourcing.sqlite as es_sqlite
from eventsourcing.persistence import ListenNotifySubscription, StoredEvent
from eventsourcing.utils import Environment, EnvType

from storage import NotificationRange, RecordedNotification, RecordTimeRecorder, commit_signals
from storage.recorder_check import ensure_recorder_class

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "Factory",
    "LedgerSQLiteApplicationRecorder",
    "LedgerSQLiteFactory",
    "LedgerSQLiteProcessRecorder",
    "LedgerSQLiteSubscription",
]

DEFAULT_POLL_INTERVAL = 0.2
"""Seconds between a subscription's polls for other processes' writes."""


class LedgerSQLiteApplicationRecorder(es_sqlite.SQLiteApplicationRecorder, RecordTimeRecorder):
    """The library's SQLite application recorder, plus record times and subscriptions."""

    def __init__(
        self,
        datastore: es_sqlite.SQLiteDatastore,
        events_table_name: str = "stored_events",
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__(datastore, events_table_name)
        self.poll_interval = _check_poll_interval(poll_interval)
        """Seconds between a subscription's polls (read when a subscription starts)."""
        self.database_key = commit_signals.database_key(datastore.pool.db_name)
        # The library inserts "VALUES (?,?,?,?)" without naming columns, which
        # fails once the table has a fifth column: name them, so that
        # recorded_at takes its default.
        self.insert_events_statement = (
            f"INSERT INTO {self.events_table_name} "
            "(originator_id, originator_version, topic, state) VALUES (?,?,?,?)"
        )

    def construct_create_table_statements(self) -> list[str]:
        # Same table as the library's (rowid is the notification id), plus recorded_at.
        return [
            f"CREATE TABLE IF NOT EXISTS {self.events_table_name} ("
            "originator_id TEXT, "
            "originator_version INTEGER, "
            "topic TEXT, "
            "state BLOB, "
            "recorded_at TEXT NOT NULL "
            "DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), "
            "PRIMARY KEY (originator_id, originator_version))"
        ]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super().insert_events(stored_events, **kwargs)
        # The library's insert_events() has committed by now, so woken
        # subscribers will see the new rows.
        if stored_events:
            commit_signals.notify(self.database_key)
        return notification_ids

    def _select_recorded(self, selected: NotificationRange) -> list[RecordedNotification]:
        conditions: list[str] = []
        params: list[int | str] = []
        if selected.start is not None:
            conditions.append("rowid>=?" if selected.inclusive_of_start else "rowid>?")
            params.append(selected.start)
        if selected.stop is not None:
            conditions.append("rowid<=?")
            params.append(selected.stop)
        if selected.topics:
            conditions.append(f"topic IN ({','.join('?' * len(selected.topics))})")
            params.extend(selected.topics)
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        params.append(selected.limit)
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state, recorded_at "
            f"FROM {self.events_table_name} {where}ORDER BY rowid LIMIT ?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            rows = c.fetchall()
        from_row, convert_id = RecordedNotification.from_row, self.convert_originator_id
        return [
            from_row(
                row["rowid"],
                convert_id(row["originator_id"]),
                row["originator_version"],
                row["topic"],
                row["state"],
                datetime.fromisoformat(row["recorded_at"]).astimezone(UTC),
            )
            for row in rows
        ]

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> LedgerSQLiteSubscription:
        """Iterate over notifications after `gt`, blocking for new ones (see module doc)."""
        return LedgerSQLiteSubscription(recorder=self, gt=gt, topics=topics)


class LedgerSQLiteProcessRecorder(es_sqlite.SQLiteProcessRecorder, LedgerSQLiteApplicationRecorder):
    """The library's SQLite process recorder (events + tracking), with our events table.

    Needed because the library's process recorder would write to the same events
    table with an insert statement that does not name its columns.
    """


class LedgerSQLiteSubscription(ListenNotifySubscription[LedgerSQLiteApplicationRecorder]):
    """The library's listen/notify subscription, woken by commit signals and a poll.

    The library's pull thread selects new notifications whenever
    ``_has_been_notified`` is set. We set it (a) from the in-process commit signal,
    raised after every insert by our recorders on the same database, and (b) every
    ``poll_interval`` seconds, for writes made by other processes.
    """

    def __init__(
        self,
        recorder: LedgerSQLiteApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
    ) -> None:
        # Set before super().__init__(), which starts the pull thread, because that
        # thread calls stop() on error.
        self._database_key = recorder.database_key
        self._poll_interval = recorder.poll_interval
        self._poll_stopped = Event()
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        commit_signals.listen(self._database_key, self._has_been_notified)
        if self._has_been_stopped:  # stop() may have run before listen().
            commit_signals.unlisten(self._database_key, self._has_been_notified)
        # A commit between the pull thread's first select and listen() would
        # otherwise wait for the next poll: pull once more.
        self._has_been_notified.set()
        self._poll_thread = Thread(target=self._poll, name="sqlite-subscription-poll", daemon=True)
        self._poll_thread.start()

    def stop(self) -> None:
        super().stop()
        self._poll_stopped.set()
        commit_signals.unlisten(self._database_key, self._has_been_notified)

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._poll_thread.join()

    def _poll(self) -> None:
        while not self._poll_stopped.wait(self._poll_interval):
            self._has_been_notified.set()


class LedgerSQLiteFactory(es_sqlite.SQLiteFactory):
    """Infrastructure factory whose application and process recorders are ours.

    Tracking and aggregate (snapshot) recorders are the library's.
    """

    SQLITE_POLL_INTERVAL = "SQLITE_POLL_INTERVAL"

    application_recorder_class = LedgerSQLiteApplicationRecorder
    process_recorder_class = LedgerSQLiteProcessRecorder

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        value = (self.env.get(self.SQLITE_POLL_INTERVAL) or "").strip()
        try:
            self.poll_interval = _check_poll_interval(
                float(value) if value else DEFAULT_POLL_INTERVAL
            )
        except ValueError:
            msg = (
                f"SQLite environment value for key '{self.SQLITE_POLL_INTERVAL}' is "
                f"invalid. If set, a positive number of seconds is expected: '{value}'"
            )
            raise OSError(msg) from None

    def application_recorder(self) -> LedgerSQLiteApplicationRecorder:
        recorder = ensure_recorder_class(
            super().application_recorder(), LedgerSQLiteApplicationRecorder
        )
        recorder.poll_interval = self.poll_interval
        return recorder

    def process_recorder(self) -> LedgerSQLiteProcessRecorder:
        recorder = ensure_recorder_class(super().process_recorder(), LedgerSQLiteProcessRecorder)
        recorder.poll_interval = self.poll_interval
        return recorder


# InfrastructureFactory.construct() requires exactly one factory class in this
# module's namespace, which is why the library's module is imported, not its classes.
Factory = LedgerSQLiteFactory


def _check_poll_interval(seconds: float) -> float:
    if not seconds > 0:  # Also rejects NaN.
        msg = f"poll interval must be a positive number of seconds: {seconds!r}"
        raise ValueError(msg)
    return seconds
