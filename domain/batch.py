"""One attempt at a batch (Ledger.append_batch): items across streams, applied in order.

Each stream is loaded once, the first time an item names it, and every later item is
decided on the state the earlier ones left, so a file may create a stream and change
it, or grant a suspension and extend it. Nothing is saved here: the Ledger saves the
new events of every stream in one transaction, or starts a new attempt.

Idempotent by event id, so that loading a file twice adds nothing: an item whose event
id its stream already holds (with the same type) is skipped, and so is a creating item
for a stream whose creation event has the item's id. An event id reused for another
type of event is a DuplicateEventId; a creating item for a stream that exists under
another creation id, a StreamAlreadyExists.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import CanMutateAggregate

from domain.commands import AppendChange, BatchItem, BatchItemError, CreateStream, ImposeMeasure
from domain.errors import (
    DomainError,
    DuplicateEventId,
    StreamAlreadyExists,
    StreamNotFound,
    VersionConflict,
    WrongStreamKind,
)
from domain.events import LedgerAggregate
from domain.measure import TariffMeasure
from domain.measure_changes import MeasureChange
from domain.negotiation import Negotiation
from domain.negotiation_steps import NegotiationStep
from domain.stream_cache import StreamCache
from domain.stream_queue import StreamBusy

_T = TypeVar("_T")


class BatchAttempt:
    """The streams a batch touched, as its items left them, and the events they added.

    `load` reads a stream from the store (None when there is none). With a `cache`, a
    stream's kept state is taken from it instead when it has one (see
    domain.stream_cache); `kept` then says that a decision may rest on a state behind
    the store, so that a refusal, or a batch found all recorded, must be decided again
    on the store's.
    """

    def __init__(
        self, load: Callable[[UUID], LedgerAggregate | None], cache: StreamCache | None
    ) -> None:
        self._load = load
        self._cache = cache
        self.streams: dict[UUID, LedgerAggregate | None] = {}
        self.new_events: list[CanMutateAggregate[UUID]] = []
        self.kept = False

    def apply(self, items: Sequence[BatchItem]) -> None:
        """Apply the items in order; a domain error is raised as a BatchItemError naming
        the item (the streams are then half-changed: the attempt is to be dropped)."""
        for index, item in enumerate(items):
            try:
                changed = (
                    self._append(item) if isinstance(item, AppendChange) else self._create(item)
                )
            except DomainError as error:
                raise BatchItemError(index, error) from error
            if changed is not None:
                # Collected item by item, so the global log keeps the order of the batch.
                self.new_events.extend(changed.collect_events())

    @property
    def touched(self) -> list[LedgerAggregate]:
        """Every stream an item named that exists, or that the batch created."""
        return [aggregate for aggregate in self.streams.values() if aggregate is not None]

    def loaded_versions(self) -> dict[UUID, int]:
        """The version of each touched stream before the batch's events."""
        added_to = Counter(event.originator_id for event in self.new_events)
        return {
            aggregate.id: aggregate.version - added_to[aggregate.id] for aggregate in self.touched
        }

    def _append(self, item: AppendChange) -> LedgerAggregate | None:
        """The stream the change was applied to, or None when it was already recorded."""
        aggregate, change = self._stream(item.stream_id), item.change
        if aggregate is None:
            raise StreamNotFound(item.stream_id, item.kind)
        if isinstance(change, MeasureChange) != isinstance(aggregate, TariffMeasure):
            raise WrongStreamKind(item.stream_id, item.kind)
        recorded_type = aggregate.event_types.get(change.facts.event_id)
        if recorded_type == change.event_type:
            return None
        if recorded_type is not None:
            raise DuplicateEventId(item.stream_id, change.facts.event_id)
        match change, aggregate:
            case MeasureChange(), TariffMeasure():
                change.apply_to(aggregate)
            case NegotiationStep(), Negotiation():
                change.apply_to(aggregate)
        return aggregate

    def _create(self, item: CreateStream) -> LedgerAggregate | None:
        """The stream created, or None when it was already (by this item's event)."""
        existing = self._stream(item.stream_id)
        if existing is not None:
            same_kind = isinstance(existing, TariffMeasure) == isinstance(item, ImposeMeasure)
            created_by = next(iter(existing.event_types), None)
            if same_kind and created_by == item.facts.event_id:
                return None
            raise StreamAlreadyExists(item.stream_id)
        created = item.create()
        self.streams[item.stream_id] = created
        return created

    def _stream(self, stream_id: UUID) -> LedgerAggregate | None:
        """The stream as the batch has left it so far, loaded the first time it is named."""
        if stream_id not in self.streams:
            taken = self._cache.take(stream_id) if self._cache is not None else None
            self.kept = self.kept or taken is not None
            self.streams[stream_id] = taken if taken is not None else self._load(stream_id)
        return self.streams[stream_id]


@dataclass(frozen=True)
class Again:
    """What an attempt at a batch returns when it saved nothing and must be made again
    on the store's state: at once, or, when another writer won the race to the store,
    after a pause (`conflict` then names the stream raced for)."""

    conflict: Callable[[], VersionConflict] | None = None


DECIDE_AGAIN = Again()


def until_saved(attempt: Callable[[bool], _T | Again], patience: float) -> _T:
    """Run `attempt` until it returns a result (or raises): the first time allowed to use
    the kept states of streams (`use_kept`), after an `Again` only the store's. After a
    lost race it waits first, a jittered pause doubling from 1 to 50 ms, and once
    `patience` seconds have passed raises StreamBusy: the caller asked for no version
    check, so a race it kept losing is no conflict of its making."""
    started = time.monotonic()
    delay = 0.001
    use_kept = True
    while True:
        outcome = attempt(use_kept)
        if not isinstance(outcome, Again):
            return outcome
        use_kept = False
        if outcome.conflict is not None:
            if time.monotonic() - started > patience:
                conflict = outcome.conflict()
                raise StreamBusy(conflict.stream_id, time.monotonic() - started) from conflict
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 0.05)
