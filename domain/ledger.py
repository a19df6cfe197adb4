"""The Ledger application: the only code that loads and saves aggregates.

Three commands, used alike by the HTTP API, the CLI, the dataset loader, the benchmark
and the tests: `create_stream` (a measure or a negotiation), `append_to_stream` (typed
changes to one stream, with an optional expected version for optimistic concurrency,
all saved in one transaction or none) and `append_batch` (creations and changes across
streams, as a dataset file holds them: all or nothing, and idempotent by event id).
The two writes to one stream report what they recorded (`Written`) and take an optional
idempotency claim. The read side lives in projections.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import (
    DomainEvent,
    DomainEventProtocol,
    MutableOrImmutableAggregate,
)
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    PersistenceError,
    Recording,
    Transcoder,
)
from eventsourcing.utils import Environment, EnvType

from domain import transcodings
from domain.batch import DECIDE_AGAIN, Again, BatchAttempt, until_saved
from domain.commands import (
    BatchItem,
    BatchItemError,
    BatchResult,
    Change,
    CreateStream,
    Written,
)
from domain.errors import InvalidValue, StreamAlreadyExists, StreamNotFound, VersionConflict
from domain.events import LedgerAggregate
from domain.group_commit import AppendTicket, GroupAttempt, StreamAppend
from domain.idempotency import IdempotencyClaim, IdempotencyKeyReused
from domain.measure import MEASURE, TariffMeasure
from domain.measure_changes import MeasureChange
from domain.negotiation import NEGOTIATION, Negotiation
from domain.negotiation_steps import NegotiationStep
from domain.receipts import Receipts
from domain.stream_cache import DEFAULT_MAXSIZE, StreamCache
from domain.stream_damage import find_damage
from domain.stream_queue import StreamBusy, StreamQueue

__all__ = ["LEDGER_NAMESPACE", "MEASURE", "NEGOTIATION", "Ledger", "stream_id_for_key"]
"""The kinds of stream are named here too: callers of the Ledger name the streams they write."""

LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "https://tradeledger.example/streams")


def stream_id_for_key(kind: str, key: str) -> UUID:
    """The stable id of a stream named by a human key ("us-cn-fentanyl"): same key, same id."""
    return uuid5(LEDGER_NAMESPACE, f"{kind}:{key}")


class Ledger(Application[UUID]):
    """Use cases of the ledger over both kinds of stream, sharing one ordered event log.

    Writes append to the state this process last saved of a stream, when it still has
    it (see domain.stream_cache), instead of reading the stream first: one round trip
    per write. Every decision made on that state which does not end in a committed
    insert (a conflict, a domain error, an unexpected version, a batch of items all
    already recorded) is made again on the stream as the store holds it. Appends to one
    stream wait in line, and are saved a batch at a time (domain.stream_queue,
    domain.group_commit). The Ledger answers no questions about state: the read models
    do (projections).
    """

    name = "tradeledger"

    STREAM_CACHE_MAXSIZE = "STREAM_CACHE_MAXSIZE"
    """How many streams' last saved states to keep (default 1000; 0 keeps none)."""

    APPEND_PATIENCE = "APPEND_PATIENCE"
    """Seconds an append without a version check may wait in line and retry after other
    processes' writes before it gives up with StreamBusy (default 10)."""

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        maxsize = self.env.get(self.STREAM_CACHE_MAXSIZE) or str(DEFAULT_MAXSIZE)
        if not maxsize.strip().lstrip("-").isdigit():
            raise ValueError(f"{self.STREAM_CACHE_MAXSIZE} must be a whole number, not {maxsize!r}")
        self.streams = StreamCache(int(maxsize))
        """The last saved state of the streams written last (see domain.stream_cache)."""
        self.append_patience = float(self.env.get(self.APPEND_PATIENCE) or "10")
        self.receipts = Receipts(self.repository, self.recorder, self.mapper)
        """What writes report, and the reports of earlier writes under an idempotency key."""
        self._after_commit: list[Callable[[int], None]] = []
        self._lines: StreamQueue[StreamAppend, Written] = StreamQueue()
        self._loaded = 0
        self._loaded_lock = threading.Lock()

    @property
    def appends_in_line(self) -> int:
        """Appends waiting for their stream, or being written (domain.stream_queue)."""
        return len(self._lines)

    @property
    def events_loaded(self) -> int:
        """How many stored events this Ledger has decoded to rebuild or catch up streams
        (what a write costs in reads, for tests and benchmarks to watch)."""
        return self._loaded

    def after_commit(self, callback: Callable[[int], None]) -> None:
        """Call `callback` with the last log position of every save, once it has committed,
        in the thread that saved (the composition root projects the read models so). The
        save has committed whatever the callback does: it must not raise."""
        self._after_commit.append(callback)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if recordings:
            position = max(recording.notification.id for recording in recordings)
            for callback in self._after_commit:
                callback(position)

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The library's settings from `env` alone: unlike the library's Application, never
        from the process environment, which only the composition root reads."""
        return Environment(name, {**type(self).env, **(env or {})})

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON format, printed and parsed faster (see domain.transcodings),
        unless TRANSCODER_TOPIC names another transcoder."""
        if self.env.get("TRANSCODER_TOPIC"):
            return super().construct_transcoder()
        transcoder = transcodings.LedgerJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in transcodings.ALL:
            transcoder.register(transcoding)

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """The library's `save`, minus a check that cost as much as encoding an event.

        The library asks of every object given whether it is an event with an isinstance
        against a runtime-checkable Protocol, which on Python 3.11 walks the protocol's
        attributes each time (~8 us of CPU per event; `append_batch` gives it every event
        of a batch). The library's own event class answers that question for its
        instances cheaply; anything else is still asked the library's way.
        """
        processing_event = ProcessingEvent[UUID]()
        for obj in objs:
            if isinstance(obj, DomainEvent):
                processing_event.events.append(obj)
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, as save calls it
        return recordings

    # -- commands --------------------------------------------------------------------

    def create_stream(
        self, command: CreateStream, *, claim: IdempotencyClaim | None = None
    ) -> Written:
        """Create a measure or a negotiation, and report its event's id and log position.

        With a `claim`, the key's record is saved in the same transaction as the stream,
        and a retry of the same request returns the first result (see domain.idempotency).
        """
        return self.receipts.idempotently(claim, lambda: self._create(command, claim))

    def append_to_stream(
        self,
        stream_id: UUID,
        changes: Sequence[Change],
        expected_version: int | None = None,
        *,
        claim: IdempotencyClaim | None = None,
    ) -> Written:
        """Append changes to a measure or a negotiation atomically (the kind of the changes
        says which), and report each new event's id and log position.

        Appends to one stream take turns in this process, and those waiting together are
        saved in one transaction, each decided on the state the ones before it left
        (domain.stream_queue, domain.group_commit). With an expected version, a stream
        at another version is a VersionConflict for the caller to resolve. Without one,
        the changes are decided again on the fresh state until they land, so no event
        is lost and none interleaves with another writer's; StreamBusy (nothing
        recorded, try again) if they cannot land within `append_patience` seconds. With
        a `claim`, the key's record is saved in the same transaction as the events, and
        a retry of the same request returns the first result (see domain.idempotency).
        """
        if not changes:
            raise InvalidValue("events", "give at least one event to append")
        measure_changes = [c for c in changes if isinstance(c, MeasureChange)]
        steps = [c for c in changes if isinstance(c, NegotiationStep)]
        if measure_changes and steps:
            raise ValueError("the changes of one write are to a measure, or to a negotiation")

        def change_measure(measure: TariffMeasure) -> None:
            for change in measure_changes:
                change.apply_to(measure)

        def take_steps(negotiation: Negotiation) -> None:
            for step in steps:
                step.apply_to(negotiation)

        append = (
            StreamAppend(stream_id, MEASURE, TariffMeasure, change_measure, expected_version, claim)
            if measure_changes
            else StreamAppend(
                stream_id, NEGOTIATION, Negotiation, take_steps, expected_version, claim
            )
        )
        deadline = time.monotonic() + self.append_patience
        return self.receipts.idempotently(
            claim, lambda: self._lines.write(stream_id, append, self._commit_group, deadline)
        )

    def append_batch(self, items: Sequence[BatchItem], patience: float = 30.0) -> BatchResult:
        """Apply `items` in order across any number of streams, then save them all at once.

        All or nothing, and idempotent by event id (see domain.batch: what is skipped,
        what is refused). Domain errors come wrapped in BatchItemError, which names the
        item. A concurrent writer makes the whole batch start again on fresh state (its
        items then count as skipped if they were ours), with jittered backoff for up to
        `patience` seconds, then StreamBusy (the batch asked for no version check).
        """

        def attempt(use_kept: bool) -> BatchResult | Again:
            batch = BatchAttempt(self._load_stream, self.streams if use_kept else None)
            try:
                batch.apply(items)
            except BatchItemError:
                if batch.kept:
                    return DECIDE_AGAIN  # refused on kept states, maybe behind the store
                raise
            if batch.new_events:
                loaded = batch.loaded_versions()
                try:
                    self.save(*batch.new_events, *batch.touched)
                except IntegrityError:
                    return Again(lambda: self._batch_conflict(loaded))
                for aggregate in batch.touched:
                    self.streams.keep(aggregate)
            elif batch.kept:
                return DECIDE_AGAIN  # all recorded already, but the versions are the store's
            return BatchResult(
                added=len(batch.new_events),
                skipped=len(items) - len(batch.new_events),
                versions={aggregate.id: aggregate.version for aggregate in batch.touched},
            )

        return until_saved(attempt, patience)

    # -- writing ---------------------------------------------------------------------

    def _create(self, command: CreateStream, claim: IdempotencyClaim | None) -> Written:
        log_position_before = self._log_position() if claim is not None else 0
        created = command.create()
        kind = MEASURE if isinstance(created, TariffMeasure) else NEGOTIATION
        record = self.receipts.claimed(claim, created, kind, 0, log_position_before)
        try:
            recordings = self.save(created, *record)
        except IntegrityError:
            raise StreamAlreadyExists(created.id) from None
        self.streams.keep(created)
        return self.receipts.written(recordings, created, kind, created=True)

    def _commit_group(self, tickets: Sequence[AppendTicket]) -> None:
        """Lead a batch of appends to one stream (domain.stream_queue): decide each on the
        state the ones before it left, save the accepted ones in one transaction, answer
        each its own result or error (domain.group_commit). Another process's write met
        at the save makes the batch start again on the store's state, after a jittered
        pause, until each append's patience runs out (StreamBusy); a duplicate request
        under an idempotency key met there answers its twin."""
        stream_id = tickets[0].job.stream_id
        state = self.streams.take(stream_id)
        stale, current = state is None, False
        waiting, delay = list(tickets), 0.001
        while waiting:
            if stale:
                state, current, stale = self._load_stream(stream_id), True, False
            claims = any(ticket.job.claim is not None for ticket in waiting)
            position = self._log_position() if claims else 0
            attempt = GroupAttempt(state, current, self._catch_up, position)
            attempt.decide(waiting)
            if attempt.accepted:
                try:
                    recordings = self.save(*attempt.to_save, *attempt.records)
                except IntegrityError:
                    if not self._answer_replays(waiting):
                        time.sleep(random.uniform(0, delay))
                        delay = min(delay * 2, 0.05)
                    waiting, stale = self._in_time(waiting), True
                    continue
                assert state is not None
                state.collect_events()
            elif not attempt.current:
                # Refused on a kept state: final only if the store holds nothing newer.
                assert state is not None
                if attempt.spoiled:
                    stale = True
                    continue
                if self._catch_up(state):
                    current = True
                    continue
                recordings = []
            else:
                recordings = []
            attempt.answer(recordings)
            waiting, stale, current = attempt.left, attempt.spoiled, False
        if not stale and state is not None:
            self.streams.keep(state)

    def _answer_replays(self, tickets: Sequence[AppendTicket]) -> bool:
        """Answer the appends whose idempotency key a duplicate request has meanwhile
        used; say whether there were any."""
        answered = False
        for ticket in tickets:
            claim = ticket.job.claim
            if claim is None:
                continue
            try:
                replay = self.receipts.replay(claim)
            except IdempotencyKeyReused as error:
                ticket.fail(error)
                answered = True
                continue
            if replay is not None:
                ticket.settle(replay)
                answered = True
        return answered

    @staticmethod
    def _in_time(tickets: Sequence[AppendTicket]) -> list[AppendTicket]:
        """The appends still to make: those answered or out of patience (StreamBusy) left out."""
        for ticket in tickets:
            if ticket.expired:
                ticket.fail(StreamBusy(ticket.job.stream_id, time.monotonic() - ticket.started))
        return [ticket for ticket in tickets if not ticket.answered]

    def _batch_conflict(self, loaded: dict[UUID, int]) -> VersionConflict:
        """Name a stream that another writer changed while the batch was being applied."""
        current = {stream_id: self._stored_version(stream_id) for stream_id in loaded}
        stream_id = next((s for s in loaded if current[s] != loaded[s]), next(iter(loaded)))
        return VersionConflict(stream_id, loaded[stream_id], current[stream_id])

    # -- reading the store -----------------------------------------------------------

    def _load_stream(self, stream_id: UUID) -> LedgerAggregate | None:
        """The stream as the store holds it, of either kind; None when there is none."""
        try:
            aggregate: object = self.repository.get(stream_id, projector_func=self._replay)
        except AggregateNotFoundError:
            return None
        except PersistenceError:
            raise  # the store failed: not a damaged row
        except Exception as error:
            raise self._damaged(stream_id, error) from error
        if not isinstance(aggregate, LedgerAggregate):
            # An id of the ledger's own bookkeeping (an idempotency key's record).
            raise StreamNotFound(stream_id)
        return aggregate

    def _catch_up(self, aggregate: LedgerAggregate) -> bool:
        """Apply to `aggregate` (a stream's state, nothing pending) the events the store
        holds after its version: say whether there were any."""
        stored = self.recorder.select_events(aggregate.id, gt=aggregate.version)
        try:
            self._replay(aggregate, map(self.mapper.to_domain_event, stored))
        except Exception as error:
            raise self._damaged(aggregate.id, error, after=aggregate.version) from error
        return bool(stored)

    def _damaged(self, stream_id: UUID, error: Exception, after: int = 0) -> Exception:
        """StreamUnreadable naming the damage that made replaying `stream_id` fail, or
        `error` itself when the stored stream is whole."""
        return find_damage(self.recorder, self.mapper, stream_id, after) or error

    def _replay(self, aggregate: Any, events: Iterable[Any]) -> Any:
        """Replay `events` onto `aggregate` (counted in events_loaded), as the library's
        `project_aggregate` does, minus its per-event `isinstance` check against a
        runtime-checkable protocol: that check alone cost about half of replaying an
        event (decode and apply: ~40 µs with it, ~20 µs without, CPU time, measured on
        an 11-event measure)."""
        counted = 0
        for event in events:
            aggregate = event.mutate(aggregate)
            counted += 1
        with self._loaded_lock:
            self._loaded += counted
        return aggregate

    def _stored_version(self, stream_id: UUID) -> int:
        last = self.recorder.select_events(stream_id, desc=True, limit=1)
        return last[0].originator_version if last else 0

    def _log_position(self) -> int:
        return self.recorder.max_notification_id() or 0
