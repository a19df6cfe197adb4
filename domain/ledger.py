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
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
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
from domain.batch import BatchAttempt
from domain.commands import (
    BatchItem,
    BatchItemError,
    BatchResult,
    Change,
    CreateStream,
    Written,
)
from domain.errors import (
    DomainError,
    InvalidValue,
    StreamAlreadyExists,
    StreamNotFound,
    StreamUnreadable,
    VersionConflict,
    WrongStreamKind,
)
from domain.events import LedgerAggregate
from domain.idempotency import IdempotencyClaim
from domain.measure import MEASURE, TariffMeasure
from domain.measure_changes import MeasureChange
from domain.negotiation import NEGOTIATION, Negotiation
from domain.negotiation_steps import NegotiationStep
from domain.receipts import Receipts
from domain.stream_cache import DEFAULT_MAXSIZE, StreamCache

__all__ = ["LEDGER_NAMESPACE", "MEASURE", "NEGOTIATION", "Ledger", "stream_id_for_key"]
"""The kinds of stream are named here too: callers of the Ledger name the streams they write."""

LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "https://tradeledger.example/streams")

_A = TypeVar("_A", bound=LedgerAggregate)
_T = TypeVar("_T")


def stream_id_for_key(kind: str, key: str) -> UUID:
    """The stable id of a stream named by a human key ("us-cn-fentanyl"): same key, same id."""
    return uuid5(LEDGER_NAMESPACE, f"{kind}:{key}")


class Ledger(Application[UUID]):
    """Use cases of the ledger over both kinds of stream, sharing one ordered event log.

    Writes append to the state this process last saved of a stream, when it still has
    it (see domain.stream_cache), instead of reading the stream first: one round trip
    per write. Every decision made on that state which does not end in a committed
    insert (a conflict, a domain error, an unexpected version, a batch of items all
    already recorded) is made again on the stream as the store holds it. The Ledger
    answers no questions about state: the read models do (projections).
    """

    name = "tradeledger"

    STREAM_CACHE_MAXSIZE = "STREAM_CACHE_MAXSIZE"
    """How many streams' last saved states to keep (default 1000; 0 keeps none)."""

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        maxsize = self.env.get(self.STREAM_CACHE_MAXSIZE) or str(DEFAULT_MAXSIZE)
        if not maxsize.strip().lstrip("-").isdigit():
            raise ValueError(f"{self.STREAM_CACHE_MAXSIZE} must be a whole number, not {maxsize!r}")
        self.streams = StreamCache(int(maxsize))
        """The last saved state of the streams written last (see domain.stream_cache)."""
        self.receipts = Receipts(self.repository, self.recorder, self.mapper)
        """What writes report, and the reports of earlier writes under an idempotency key."""
        self._after_commit: list[Callable[[int], None]] = []

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

        With an expected version, a stream at another version is a VersionConflict for
        the caller to resolve. Without one, the changes are decided again on the fresh
        state until they land, so no event is lost and none interleaves with another
        writer's. With a `claim`, the key's record is saved in the same transaction as
        the events, and a retry of the same request returns the first result (see
        domain.idempotency).
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

        def write() -> Written:
            if measure_changes:
                return self._append(
                    stream_id, TariffMeasure, MEASURE, change_measure, expected_version, claim
                )
            return self._append(
                stream_id, Negotiation, NEGOTIATION, take_steps, expected_version, claim
            )

        return self.receipts.idempotently(claim, write)

    def append_batch(self, items: Sequence[BatchItem], patience: float = 30.0) -> BatchResult:
        """Apply `items` in order across any number of streams, then save them all at once.

        All or nothing, and idempotent by event id (see domain.batch: what is skipped,
        what is refused). Domain errors come wrapped in BatchItemError, which names the
        item. A concurrent writer makes the whole batch start again on fresh state (its
        items then count as skipped if they were ours), with jittered backoff for up to
        `patience` seconds, then VersionConflict.
        """

        def attempt(use_kept: bool) -> BatchResult | _Again:
            batch = BatchAttempt(self._load_stream, self.streams if use_kept else None)
            try:
                batch.apply(items)
            except BatchItemError:
                if batch.kept:
                    return _DECIDE_AGAIN  # refused on kept states, maybe behind the store
                raise
            if batch.new_events:
                loaded = batch.loaded_versions()
                try:
                    self.save(*batch.new_events, *batch.touched)
                except IntegrityError:
                    return _Again(lambda: self._batch_conflict(loaded))
                for aggregate in batch.touched:
                    self.streams.keep(aggregate)
            elif batch.kept:
                return _DECIDE_AGAIN  # all recorded already, but the versions are the store's
            return BatchResult(
                added=len(batch.new_events),
                skipped=len(items) - len(batch.new_events),
                versions={aggregate.id: aggregate.version for aggregate in batch.touched},
            )

        return _until_saved(attempt, patience)

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

    def _append(
        self,
        stream_id: UUID,
        cls: type[_A],
        kind: str,
        apply: Callable[[_A], None],
        expected_version: int | None,
        claim: IdempotencyClaim | None,
        patience: float = 30.0,
    ) -> Written:
        """Load, check the version, apply, save (with the claim's record, if any), until
        saved (see `append_to_stream`). A conflict on the claim's key means a duplicate of
        this request won: its result is returned instead."""

        def attempt(use_kept: bool) -> Written | _Again:
            log_position_before = self._log_position() if claim is not None else 0
            aggregate, kept = self._load_to_write(stream_id, cls, kind, use_kept)
            loaded_version = aggregate.version
            try:
                if expected_version is not None and loaded_version != expected_version:
                    raise VersionConflict(stream_id, expected_version, loaded_version)
                apply(aggregate)
            except DomainError:
                if kept:
                    return _DECIDE_AGAIN  # decided on a state that may be behind the store
                raise
            record = self.receipts.claimed(
                claim, aggregate, kind, loaded_version, log_position_before
            )
            try:
                recordings = self.save(aggregate, *record)
            except IntegrityError:
                replay = self.receipts.replay(claim) if claim is not None else None
                if replay is not None:
                    return replay

                def conflict() -> VersionConflict:
                    current = self._stored_version(stream_id)
                    return VersionConflict(stream_id, loaded_version, current)

                if expected_version is not None:
                    raise conflict() from None
                return _Again(conflict)
            self.streams.keep(aggregate)
            return self.receipts.written(recordings, aggregate, kind, created=False)

        return _until_saved(attempt, patience)

    def _batch_conflict(self, loaded: dict[UUID, int]) -> VersionConflict:
        """Name a stream that another writer changed while the batch was being applied."""
        current = {stream_id: self._stored_version(stream_id) for stream_id in loaded}
        stream_id = next((s for s in loaded if current[s] != loaded[s]), next(iter(loaded)))
        return VersionConflict(stream_id, loaded[stream_id], current[stream_id])

    # -- reading the store -----------------------------------------------------------

    def _load(self, stream_id: UUID, cls: type[_A], kind: str) -> _A:
        """The stream as the store holds it (never the kept state)."""
        try:
            aggregate: object = self._get(stream_id)
        except AggregateNotFoundError:
            raise StreamNotFound(stream_id, kind) from None
        if not isinstance(aggregate, cls):
            raise WrongStreamKind(stream_id, kind)
        return aggregate

    def _load_to_write(
        self, stream_id: UUID, cls: type[_A], kind: str, use_kept: bool = True
    ) -> tuple[_A, bool]:
        """The stream to append to, and whether it is the kept state (maybe behind the
        store) rather than the store's. A kept state is taken out of the cache: the
        caller puts it back once its save has committed, or drops it."""
        kept = self.streams.take(stream_id) if use_kept else None
        if kept is not None:
            if not isinstance(kept, cls):
                raise WrongStreamKind(stream_id, kind)
            return kept, True
        return self._load(stream_id, cls, kind), False

    def _load_stream(self, stream_id: UUID) -> LedgerAggregate | None:
        """The stream as the store holds it, of either kind; None when there is none."""
        try:
            aggregate: object = self._get(stream_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, LedgerAggregate):
            # An id of the ledger's own bookkeeping (an idempotency key's record).
            raise StreamNotFound(stream_id)
        return aggregate

    def _get(self, stream_id: UUID) -> object:
        """The stream replayed from the store; StreamUnreadable when one of its stored
        events does not decode or a version is missing (a deleted row), so that a write
        to a damaged stream is refused by name, and writes nothing."""
        try:
            return self.repository.get(stream_id, projector_func=_project)
        except (AggregateNotFoundError, PersistenceError):
            raise  # no such stream, or the store failed: not a damaged row
        except Exception as error:
            damage = self._damage(stream_id)
            if damage is None:
                raise
            raise damage from error

    def _damage(self, stream_id: UUID) -> StreamUnreadable | None:
        """What makes the stored stream unreadable (the first gap in its versions, or its
        first event that does not decode), if anything does."""
        expected = 1
        for stored in self.recorder.select_events(stream_id):
            if stored.originator_version != expected:
                return StreamUnreadable(
                    stream_id, expected, "is missing (a gap in the stream's versions)"
                )
            try:
                self.mapper.to_domain_event(stored)
            except Exception as error:
                cause = error.__cause__ or error
                return StreamUnreadable(
                    stream_id, expected, f"does not decode ({type(cause).__name__})"
                )
            expected += 1
        return None

    def _stored_version(self, stream_id: UUID) -> int:
        last = self.recorder.select_events(stream_id, desc=True, limit=1)
        return last[0].originator_version if last else 0

    def _log_position(self) -> int:
        return self.recorder.max_notification_id() or 0


@dataclass(frozen=True)
class _Again:
    """What an attempt to write returns when it saved nothing and must be made again on
    the store's state: at once, or, when another writer won the race to the store,
    after a pause (`conflict` is then what to raise once patience runs out)."""

    conflict: Callable[[], VersionConflict] | None = None


_DECIDE_AGAIN = _Again()


def _until_saved(attempt: Callable[[bool], _T | _Again], patience: float) -> _T:
    """Run `attempt` until it returns a result (or raises): the first time allowed to use
    the kept states of streams (`use_kept`), after an `_Again` only the store's. After a
    lost race it waits first, a jittered pause doubling from 1 to 50 ms, and raises the
    attempt's VersionConflict once `patience` seconds have passed."""
    deadline = time.monotonic() + patience
    delay = 0.001
    use_kept = True
    while True:
        outcome = attempt(use_kept)
        if not isinstance(outcome, _Again):
            return outcome
        use_kept = False
        if outcome.conflict is not None:
            if time.monotonic() > deadline:
                raise outcome.conflict()
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 0.05)


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    """Replay `events` onto `aggregate`, as the library's `project_aggregate` does, minus
    its per-event `isinstance` check against a runtime-checkable protocol: that check
    alone cost about half of replaying an event (decode and apply: ~40 µs with it,
    ~20 µs without, CPU time, measured on an 11-event measure)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
