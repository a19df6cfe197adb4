"""Keeps the read models up to date with the ledger's event log, in batches.

Why not the library's ProjectionRunner as is: the read models need each event's record
time (the store stamps it; a Notification does not carry it) and rebuilds need batches
(one transaction per thousand events, not per event). The contract is the library's:
a tracking recorder commits the position with the rows, so catching up after a crash
resumes exactly where the last committed batch ended, and a batch another process has
projected first is skipped.

Where it runs (the write side ends at the store; reads never project): in the process
that committed, right after each commit (`project_committed`, hooked to the Ledger by
the composition root); in each API process, a follower (projections.follower) for the
commits of other processes; on PostgreSQL, also the `tradeledger project` worker. After
each batch it commits it tells the read models' progress, which wakes the readers
waiting for a position.

A stored event that does not decode (a damaged row, storage.undecodable) is met as the
operator chose (TRADELEDGER_ON_UNDECODABLE): `stop` (the default) projects everything
before it and raises UndecodableEvent, so the read models never fold past a hole and
their position says where they stopped; `skip` projects past it and records it
(position, stream, reason) in the read models, so that every answer standing on it
names it. Either way `tell_undecodable` hears of it (a log line; a metric's hook).

A rebuild writes new read models beside those in use (tables under SHADOW_SUFFIX, their
own tracking position) and puts them in place in one transaction once they have caught
up with the log; if it fails, the read models in use never changed.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Final
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking

from domain.events import LedgerEvent
from domain.ledger import MEASURE, NEGOTIATION, Ledger
from domain.measure import TariffMeasure
from projections.facts import NegotiationEventRow, Rows, rows_for
from projections.progress import ReadModelProgress
from projections.view_reading import UnkeptEvent
from projections.views import ReadModelView
from storage import RecordedNotification, RecordTimeRecorder
from storage.undecodable import UndecodableEvent, UndecodableHook, decode

logger = logging.getLogger(__name__)


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


class _BatchWriter:
    """Writes the projector's batches, one at a time and in order, on a thread of its own.

    At most one batch is pending: `wait` returns once it is committed (or raises what
    writing it raised). The thread is started for the first batch sent to the background,
    so a catch-up of a single batch starts none.
    """

    def __init__(self, view: ReadModelView) -> None:
        self._view = view
        self._executor: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None
        self.pending_events = 0
        """Events in the pending batch."""
        self.position = 0
        """Position of the last batch committed."""
        self._pending_position = 0

    def __enter__(self) -> _BatchWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Leaving early (an error while reading): let the pending batch finish, since
        # its thread cannot be interrupted; an error of its own gives way to the first.
        if self._pending is not None:
            futures.wait([self._pending])
        if self._executor is not None:
            self._executor.shutdown()

    def submit(
        self,
        rows: Sequence[Rows],
        tracking: Tracking,
        events: int,
        skipped: Sequence[UndecodableEvent] = (),
        *,
        in_background: bool,
    ) -> None:
        """Write `rows`, `skipped` and `tracking`, in the background or now (a last, short
        batch)."""
        assert self._pending is None, "wait() for the pending batch first"
        if in_background:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="projector-writer")
            self._pending = self._executor.submit(self._view.project, rows, tracking, skipped)
        else:
            self._pending = Future()
            try:
                self._view.project(rows, tracking, skipped)
            except Exception as error:  # raised by wait(), as from the background
                self._pending.set_exception(error)
            else:
                self._pending.set_result(None)
        self.pending_events = events
        self._pending_position = tracking.notification_id

    def wait(self) -> int:
        """Wait for the pending batch to be committed; return its number of events."""
        pending, events = self._pending, self.pending_events
        if pending is None:
            return 0
        self._pending, self.pending_events = None, 0
        pending.result()
        self.position = self._pending_position
        return events


DEFAULT_BATCH_SIZE = 10_000
"""Events per transaction. Larger batches mean fewer round trips per event, and the
writer thread waits for the GIL after each round trip (while the reader decodes), so
pipelining pays off with them: a 100k rebuild on PostgreSQL ran about 15-30% faster
with 10000 than with 2000."""


DEFAULT_COMMIT_WAIT = 5.0
"""Seconds a commit waits for a projection under way in its process before leaving its
events to it (see Projector.project_committed)."""

Progress = Callable[[int, int], None]
"""Called with (position reached, last position in the log) after each batch."""

STOP: Final = "stop"
SKIP: Final = "skip"
"""What a projection does at an event that does not decode (TRADELEDGER_ON_UNDECODABLE)."""


def _log_undecodable(error: UndecodableEvent) -> None:
    logger.error("%s", error.message)


class Projector:
    """Projects the ledger's log into a ReadModelView, exactly once per event."""

    def __init__(
        self,
        ledger: Ledger,
        view: ReadModelView,
        batch_size: int = DEFAULT_BATCH_SIZE,
        reached: ReadModelProgress | None = None,
        on_undecodable: str = STOP,
    ) -> None:
        if on_undecodable not in (STOP, SKIP):
            raise ValueError(f"on_undecodable must be {STOP!r} or {SKIP!r}, not {on_undecodable!r}")
        recorder = ledger.recorder
        if not isinstance(recorder, RecordTimeRecorder):
            msg = f"{type(recorder).__qualname__} does not record record times"
            raise TypeError(msg)
        self.ledger = ledger
        self.recorder: RecordTimeRecorder = recorder
        self.view = view
        self.batch_size = batch_size
        self.reached = reached if reached is not None else ReadModelProgress(view.current_position)
        """Where the read models have got: told of every batch committed here, for the
        readers waiting for a position."""
        self.commit_wait = DEFAULT_COMMIT_WAIT
        """Seconds a commit waits to project its events while another thread projects."""
        self.on_undecodable = on_undecodable
        """STOP or SKIP: what to do at an event that does not decode (see module doc)."""
        self.undecodable_seen = 0
        """Undecodable events this projector has met (a counter for a metric)."""
        self.tell_undecodable: UndecodableHook = _log_undecodable
        """Told of each undecodable event met (once in a row, however often stop mode
        meets it again): a log line by default. There is no metrics registry yet: this
        is where a counter goes."""
        self._last_told = 0
        self.wake_follower: Callable[[], None] | None = None
        """Set while a follower thread projects for this process: a commit then only wakes
        it, and the thread that committed returns at once (see project_committed)."""
        self._lock = threading.Lock()

    @property
    def position(self) -> int:
        return self.view.current_position()

    def log_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def project_committed(self, position: int) -> None:
        """Project what this process has just committed, up to `position` (and whatever
        else is new), right after the commit: in the thread that committed, or, while a
        follower runs in this process (a server), on the follower's thread, woken now, so
        that the write returns at once and the follower projects several commits in one
        transaction when they come fast. Readers of this process wait for the position
        in both cases (ReadModelProgress.committed).

        The commit stands whatever happens here, so a failure is logged, not raised: the
        follower, the worker or the next commit projects the events instead. So is a
        wait of more than `commit_wait` seconds for another thread of this process that
        is projecting (a follower catching up with a long log): it goes on to this
        commit's events by itself.
        """
        self.reached.note_committed(position)
        if self.reached.position >= position:
            return
        if self.wake_follower is not None:
            self.wake_follower()
            return
        if not self._lock.acquire(timeout=self.commit_wait):
            logger.warning("log position %d is left to the projection under way", position)
            return
        try:
            if self.reached.position < position:
                self._catch_up(None, None)
        except UndecodableEvent:
            pass  # told already; the projection stays before it (stop mode)
        except Exception:
            logger.exception("projecting the commit up to log position %d failed", position)
        finally:
            self._lock.release()

    def catch_up(self, progress: Progress | None = None, limit: int | None = None) -> int:
        """Project every event recorded after the view's position; return how many.

        Batches are pipelined: while one batch is written (the database's work, during
        which psycopg and sqlite3 release the GIL), the next is read and turned into rows.
        One writer thread commits the batches one at a time, in position order, each with
        its tracking position, so a crash still loses or repeats nothing. A catch-up that
        fits in one batch is written by the calling thread alone.

        In stop mode an undecodable event raises UndecodableEvent, once everything before
        it is committed.
        """
        with self._lock:
            return self._catch_up(progress, limit)

    def _catch_up(self, progress: Progress | None, limit: int | None) -> int:
        done = 0
        at_end = False  # the last batch read was short: the log ended there when read
        with _BatchWriter(self.view) as writer:
            position = self.view.current_position()
            self.reached.advance(position)
            end = self.log_position() if progress else 0
            while True:
                size = self.batch_size
                if limit is not None:
                    size = min(size, limit - done - writer.pending_events)
                with _cyclic_gc_paused():
                    batch: Sequence[RecordedNotification] = []
                    if size > 0 and not at_end:
                        batch = self.recorder.select_notifications_with_record_time(
                            start=position, limit=size, inclusive_of_start=False
                        )
                    rows, skipped, stopped = self._rows(batch)
                try:
                    written = writer.wait()
                except IntegrityError:
                    # Another process projected the pending batch first: carry on from
                    # there (the batch just read follows the pending one, so it goes too).
                    position = self.view.current_position()
                    self.reached.advance(position)
                    at_end = False
                    continue
                if written:
                    self.reached.advance(writer.position)
                done += written
                if written and progress:
                    progress(writer.position, max(end, writer.position))
                if not batch:
                    break
                if stopped is not None:
                    done += self._project_before(writer, batch, rows, skipped, stopped, progress)
                    raise stopped
                position = batch[-1].id
                # What commits after a short read is projected after its own commit.
                at_end = len(batch) < size
                tracking = Tracking(self.view.application_name, position)
                writer.submit(rows, tracking, len(batch), skipped, in_background=len(batch) == size)
        return done

    def _project_before(
        self,
        writer: _BatchWriter,
        batch: Sequence[RecordedNotification],
        rows: Sequence[Rows],
        skipped: Sequence[UndecodableEvent],
        stopped: UndecodableEvent,
        progress: Progress | None,
    ) -> int:
        """Commit the events of `batch` before the one that stopped the projection (the
        pending batch is committed already); return how many."""
        before = [n for n in batch if n.id < stopped.position]
        if not before:
            return 0
        tracking = Tracking(self.view.application_name, before[-1].id)
        writer.submit(rows, tracking, len(before), skipped, in_background=False)
        try:
            written = writer.wait()
        except IntegrityError:
            return 0  # another process projected them first
        self.reached.advance(writer.position)
        if progress:
            progress(writer.position, writer.position)
        return written

    def _rows(
        self, batch: Sequence[RecordedNotification]
    ) -> tuple[list[Rows], list[UndecodableEvent], UndecodableEvent | None]:
        """The rows of `batch`, the undecodable events skipped (skip mode), and the one
        the projection stops at (stop mode: the rows are those of the events before it)."""
        rows: list[Rows] = []
        skipped: list[UndecodableEvent] = []
        mapper = self.ledger.mapper
        for notification in batch:
            try:
                event = decode(mapper, notification)
            except UndecodableEvent as error:
                if error.position != self._last_told:  # stop mode meets it again and again
                    self._last_told = error.position
                    self.undecodable_seen += 1
                    self.tell_undecodable(error)
                if self.on_undecodable == STOP:
                    return rows, skipped, error
                skipped.append(error)
                continue
            if not isinstance(event, LedgerEvent):
                # The ledger's bookkeeping (idempotency keys), not a fact to project;
                # the tracking position still moves past it with the batch.
                continue
            if isinstance(event, TariffMeasure.Event):
                rows.append(rows_for(event, notification.id, notification.recorded_at, MEASURE))
            else:
                stored = (notification.topic, notification.state)
                rows.append(
                    rows_for(event, notification.id, notification.recorded_at, NEGOTIATION, stored)
                )
        return rows, skipped, None

    def keep_negotiation_events(self) -> int:
        """Fill the table of negotiations' events for those projected before it existed
        (read models written by an earlier release), from the store; return how many.

        Cheap when there is nothing to fill (two existence checks), so every process
        calls it when it opens the read models; processes doing it at the same time
        add each event once.
        """
        unkept = self.view.unkept_negotiation_events()
        by_stream: dict[UUID, list[UnkeptEvent]] = {}
        for event in unkept:
            by_stream.setdefault(event.negotiation_id, []).append(event)
        rows = []
        for negotiation_id, events in by_stream.items():
            stored = {
                e.originator_version: e for e in self.ledger.recorder.select_events(negotiation_id)
            }
            rows += [
                NegotiationEventRow(
                    position=e.position,
                    negotiation_id=negotiation_id,
                    version=e.version,
                    event_type=e.event_type,
                    announced_at=e.announced_at,
                    topic=stored[e.version].topic,
                    state=stored[e.version].state,
                )
                for e in events
            ]
        self.view.keep_negotiation_events(rows)
        return len(rows)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Project the whole log into new read models beside those in use, then put them
        in their place in one transaction; return how many events this run projected.

        Readers (here and in other processes) are served by the read models in use until
        the switch, and by the new ones after it. If the rebuild fails (an undecodable
        event in stop mode, the store going away), the read models in use are untouched;
        the next rebuild resumes the new ones where this one stopped.
        """
        shadow = self.view.shadow()
        builder = Projector(
            self.ledger, shadow, self.batch_size, on_undecodable=self.on_undecodable
        )
        builder.tell_undecodable = self.tell_undecodable
        if shadow.current_position() == 0:
            # Loading is faster without the indexes only queries use; the switch makes
            # them (or, if interrupted, the next rebuild's switch).
            shadow.drop_read_indexes()
        try:
            done = builder.catch_up(progress)
            done += builder.catch_up()  # what was committed meanwhile
        finally:
            self.undecodable_seen += builder.undecodable_seen
        with self._lock:
            self.view.replace_with(shadow)
            self.reached.current()
        self.view.analyze()
        return done
