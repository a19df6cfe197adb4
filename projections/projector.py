"""Keeps the read models up to date with the ledger's event log, in batches.

Why not the library's ProjectionRunner as is: the read models need each event's record
time (the store stamps it; a Notification does not carry it) and rebuilds need batches
(one transaction per thousand events, not per event). The contract is the library's:
a tracking recorder commits the position with the rows, so catching up after a crash
resumes exactly where the last committed batch ended.

How it keeps up: on SQLite (the library's SQLite recorder cannot push), the writer's
process catches up right after its own saves, and every query first catches up from
the log (one indexed MAX lookup when nothing is new). On PostgreSQL the same works, and
`tradeledger project` runs a worker that follows LISTEN/NOTIFY.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from eventsourcing.persistence import IntegrityError, Tracking

from domain.events import LedgerEvent
from domain.ledger import MEASURE, NEGOTIATION, Ledger
from domain.measure import TariffMeasure
from projections.facts import Rows, rows_for
from projections.views import ReadModelView
from tradeledger.store import RecordedNotification, RecordTimeRecorder


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is projected.

    A batch allocates tens of thousands of short-lived objects (decoded events, rows),
    all freed by reference counting; the collector would only traverse them, and the
    rest of the heap, again and again (a quarter of a rebuild's CPU time). It runs
    again between batches. Left alone when something else has already disabled it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


Progress = Callable[[int, int], None]
"""Called with (position reached, last position in the log) after each batch."""


class Projector:
    """Projects the ledger's log into a ReadModelView, exactly once per event."""

    def __init__(self, ledger: Ledger, view: ReadModelView, batch_size: int = 2000) -> None:
        recorder = ledger.recorder
        if not isinstance(recorder, RecordTimeRecorder):
            msg = f"{type(recorder).__qualname__} does not record record times"
            raise TypeError(msg)
        self.ledger = ledger
        self.recorder: RecordTimeRecorder = recorder
        self.view = view
        self.batch_size = batch_size
        self._lock = threading.Lock()

    @property
    def position(self) -> int:
        return self.view.current_position()

    def log_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def settled_position(self) -> int:
        """The view's position once everything committed before this call is projected.

        One read of both positions (one round trip where the view and the log share a
        database) when nothing is new, which is the usual case for a query.
        """
        view_at, log_at = self.view.positions(self.recorder)
        if log_at > view_at:
            self.catch_up()
            view_at = self.view.current_position()
        return view_at

    def catch_up(self, progress: Progress | None = None, limit: int | None = None) -> int:
        """Project every event recorded after the view's position; return how many."""
        done = 0
        with self._lock:
            position = self.view.current_position()
            end = self.log_position() if progress else 0
            while limit is None or done < limit:
                size = self.batch_size if limit is None else min(self.batch_size, limit - done)
                with _cyclic_gc_paused():
                    batch = self.recorder.select_notifications_with_record_time(
                        start=position, limit=size, inclusive_of_start=False
                    )
                    if not batch:
                        break
                    try:
                        self._project(batch)
                    except IntegrityError:
                        # Another process projected this batch first: carry on from there.
                        position = self.view.current_position()
                        continue
                position = batch[-1].id
                done += len(batch)
                if progress:
                    progress(position, max(end, position))
        return done

    def _project(self, batch: Sequence[RecordedNotification]) -> None:
        rows: list[Rows] = []
        to_domain_event = self.ledger.mapper.to_domain_event
        for notification in batch:
            event = to_domain_event(notification)
            if not isinstance(event, LedgerEvent):
                # The ledger's bookkeeping (idempotency keys), not a fact to project;
                # the tracking position still moves past it with the batch.
                continue
            kind = MEASURE if isinstance(event, TariffMeasure.Event) else NEGOTIATION
            rows.append(rows_for(event, notification.id, notification.recorded_at, kind))
        self.view.project(rows, Tracking(self.view.application_name, batch[-1].id))

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every read model and project the whole log again."""
        with self._lock:
            self.view.drop()
            self.view.create_table()
            # Loading is faster without the indexes only queries use; they are created
            # again once the rows are in (and, if the rebuild is interrupted, by
            # create_table when the next process opens the view).
            self.view.drop_read_indexes()
        done = self.catch_up(progress)
        with self._lock:
            self.view.create_table()
            self.view.analyze()
        return done

    def run_until(
        self, stop: threading.Event, wake: threading.Event, poll_interval: float = 0.2
    ) -> None:
        """Follow the log until `stop` is set, waking on `wake` (a notification) or a poll."""
        while not stop.is_set():
            # Cleared before catching up: a notification during the catch-up wakes the
            # next round at once instead of waiting for the poll.
            wake.clear()
            self.catch_up()
            wake.wait(poll_interval)
