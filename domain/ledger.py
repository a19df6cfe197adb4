"""The Ledger application: the only code that loads and saves aggregates.

Commands take an optional expected version (optimistic concurrency) and return the
new version; a batch of changes to one stream is saved in one transaction, so it is
all-or-nothing. `append_batch` does the same across streams (a dataset file), and is
idempotent by event id. Queries here serve the write side; the read side lives in
projections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from domain import transcodings
from domain.errors import (
    DomainError,
    DuplicateEventId,
    StreamAlreadyExists,
    StreamNotFound,
    UnknownEventType,
    VersionConflict,
    WrongStreamKind,
)
from domain.events import Facts, LedgerAggregate
from domain.measure import CHANGE_TYPES, TariffMeasure
from domain.negotiation import STEP_TYPES, Negotiation, NegotiationState

LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "https://tradeledger.example/streams")

MEASURE = "measure"
NEGOTIATION = "negotiation"

_A = TypeVar("_A", bound=LedgerAggregate)


def stream_id_for_key(kind: str, key: str) -> UUID:
    """The stable id of a stream named by a human key ("us-cn-fentanyl"): same key, same id."""
    return uuid5(LEDGER_NAMESPACE, f"{kind}:{key}")


@dataclass(frozen=True)
class Change:
    """One event to append: its public type, its common facts, and its own fields."""

    event_type: str
    facts: Facts
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamInfo:
    """What the write side knows about a stream, without its history."""

    stream_id: UUID
    kind: str
    key: str
    version: int
    event_ids: tuple[str, ...]


@dataclass(frozen=True)
class MeasureTerms:
    """The fields of a measure's `imposed` event, apart from the common facts."""

    imposer: str
    name: str
    targets: tuple[str, ...]
    layer: str
    excluded_targets: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    rate_pct: Decimal | None = None
    rate_by_prefix: dict[str, Decimal] = field(default_factory=dict)
    hs_prefixes: tuple[str, ...] = ("",)
    excluded_hs_prefixes: tuple[str, ...] = ()


class Ledger(Application[UUID]):
    """Use cases of the ledger over both kinds of stream, sharing one ordered event log."""

    name = "tradeledger"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in transcodings.ALL:
            transcoder.register(transcoding)

    # -- tariff measures -------------------------------------------------------------

    def impose_measure(
        self, *, measure_id: UUID, key: str, facts: Facts, terms: MeasureTerms
    ) -> int:
        """Create the stream of a new measure; return its version (1)."""
        measure = TariffMeasure.impose(
            measure_id=measure_id,
            facts=facts,
            key=key,
            imposer=terms.imposer,
            name=terms.name,
            targets=terms.targets,
            excluded_targets=terms.excluded_targets,
            layer=terms.layer,
            instruments=terms.instruments,
            rate_pct=terms.rate_pct,
            rate_by_prefix=terms.rate_by_prefix,
            hs_prefixes=terms.hs_prefixes,
            excluded_hs_prefixes=terms.excluded_hs_prefixes,
        )
        self._save_new(measure)
        return measure.version

    def change_measure(
        self, measure_id: UUID, changes: Sequence[Change], expected_version: int | None = None
    ) -> int:
        """Append changes to a measure atomically; return the new version."""
        for change in changes:
            if change.event_type not in CHANGE_TYPES:
                raise UnknownEventType(change.event_type, MEASURE)

        def apply(measure: TariffMeasure) -> None:
            for change in changes:
                CHANGE_TYPES[change.event_type](measure, change.facts, **change.fields)

        return self._append(measure_id, TariffMeasure, MEASURE, apply, expected_version)

    # -- negotiations ----------------------------------------------------------------

    def open_negotiation(
        self,
        *,
        negotiation_id: UUID,
        key: str,
        facts: Facts,
        title: str,
        parties: tuple[str, ...],
        summary: str,
    ) -> int:
        """Create the stream of a negotiation; return its version (1)."""
        negotiation = Negotiation.open(
            negotiation_id=negotiation_id,
            facts=facts,
            key=key,
            title=title,
            parties=parties,
            summary=summary,
        )
        self._save_new(negotiation)
        return negotiation.version

    def record_negotiation_steps(
        self, negotiation_id: UUID, changes: Sequence[Change], expected_version: int | None = None
    ) -> int:
        """Append steps to a negotiation atomically, each checked against the state on its day."""
        for change in changes:
            if change.event_type not in STEP_TYPES:
                raise UnknownEventType(change.event_type, NEGOTIATION)

        def apply(negotiation: Negotiation) -> None:
            for change in changes:
                negotiation.record_step(change.event_type, change.facts, **change.fields)

        return self._append(negotiation_id, Negotiation, NEGOTIATION, apply, expected_version)

    def negotiation_state(self, negotiation_id: UUID, on: Any) -> NegotiationState:
        """The state on `on` from the whole stream (write-side check; auditors use projections)."""
        negotiation = self._load(negotiation_id, Negotiation, NEGOTIATION)
        return negotiation.state_on(on)

    # -- streams ---------------------------------------------------------------------

    def stream_info(self, stream_id: UUID) -> StreamInfo:
        """Kind, key, version and event ids of any stream."""
        try:
            aggregate: object = self.repository.get(stream_id)
        except AggregateNotFoundError:
            raise StreamNotFound(stream_id) from None
        kind = MEASURE if isinstance(aggregate, TariffMeasure) else NEGOTIATION
        assert isinstance(aggregate, LedgerAggregate)
        return StreamInfo(
            stream_id=stream_id,
            kind=kind,
            key=getattr(aggregate, "key", ""),
            version=aggregate.version,
            event_ids=tuple(aggregate.event_types),
        )

    def stream_exists(self, stream_id: UUID) -> bool:
        return bool(self.recorder.select_events(stream_id, desc=True, limit=1))

    # -- internals -------------------------------------------------------------------

    def _load(self, stream_id: UUID, cls: type[_A], kind: str) -> _A:
        try:
            aggregate: object = self.repository.get(stream_id)
        except AggregateNotFoundError:
            raise StreamNotFound(stream_id, kind) from None
        if not isinstance(aggregate, cls):
            raise WrongStreamKind(stream_id, kind)
        return aggregate

    def _save_new(self, aggregate: LedgerAggregate) -> None:
        try:
            self.save(aggregate)
        except IntegrityError:
            raise StreamAlreadyExists(aggregate.id) from None

    def _append(
        self,
        stream_id: UUID,
        cls: type[_A],
        kind: str,
        apply: Any,
        expected_version: int | None,
        attempts: int = 5,
    ) -> int:
        """Load, check the version, apply, save. Without an expected version a conflict
        with a concurrent writer is retried on the fresh state, so no event is lost."""
        for attempt in range(attempts):
            aggregate = self._load(stream_id, cls, kind)
            if expected_version is not None and aggregate.version != expected_version:
                raise VersionConflict(stream_id, expected_version, aggregate.version)
            apply(aggregate)
            try:
                self.save(aggregate)
            except IntegrityError:
                current = self._load(stream_id, cls, kind).version
                if expected_version is not None or attempt == attempts - 1:
                    raise VersionConflict(
                        stream_id, expected_version or aggregate.version, current
                    ) from None
                continue
            return aggregate.version
        raise AssertionError("unreachable")  # pragma: no cover
