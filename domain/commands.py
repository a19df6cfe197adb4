"""What the Ledger is asked to do, and what it answers.

Commands create a stream (`ImposeMeasure`, `OpenNegotiation`) or append a `Change` to
one (a typed call of one of its aggregate's verbs); a batch (`Ledger.append_batch`) is
a sequence of both (`BatchItem`). A write to one stream answers `Written`, a batch
`BatchResult`; a batch whose item breaks a rule raises `BatchItemError`, naming the item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from domain.errors import DomainError, UnknownEventType
from domain.events import Facts
from domain.measure import MEASURE, TariffMeasure
from domain.measure import MeasureTerms as MeasureTerms  # what ImposeMeasure carries
from domain.measure_changes import MEASURE_CHANGES, MeasureChange
from domain.negotiation import NEGOTIATION, Negotiation
from domain.negotiation_steps import NEGOTIATION_STEPS, NegotiationStep
from domain.verb_call import Verb

Change = MeasureChange | NegotiationStep
"""A change to append to a stream (its kind is the kind of change): see
domain.measure_changes and domain.negotiation_steps."""


ChangeType = Verb[MeasureChange, ...] | Verb[NegotiationStep, ...]
"""A public type of change, which makes changes of its type (`ChangeRate(facts, ...)`)."""


def change_type(kind: str, event_type: str) -> ChangeType:
    """The change a client names by the kind of its stream and the public type of its
    event ("measure", "rate_changed"); UnknownEventType when the kind has no such event."""
    changes: Mapping[str, ChangeType]
    if kind == MEASURE:
        changes = MEASURE_CHANGES
    elif kind == NEGOTIATION:
        changes = NEGOTIATION_STEPS
    else:
        raise ValueError(f"kind must be {MEASURE!r} or {NEGOTIATION!r}, not {kind!r}")
    try:
        return changes[event_type]
    except KeyError:
        raise UnknownEventType(event_type, kind) from None


@dataclass(frozen=True)
class ImposeMeasure:
    """Create the stream of a measure, with its `imposed` event."""

    measure_id: UUID
    key: str
    facts: Facts
    terms: MeasureTerms

    @property
    def stream_id(self) -> UUID:
        return self.measure_id

    def create(self) -> TariffMeasure:
        """The new measure, its `imposed` event pending."""
        return TariffMeasure.impose(
            measure_id=self.measure_id, facts=self.facts, key=self.key, terms=self.terms
        )


@dataclass(frozen=True)
class OpenNegotiation:
    """Create the stream of a negotiation, with its `opened` event."""

    negotiation_id: UUID
    key: str
    facts: Facts
    title: str
    parties: tuple[str, ...]
    summary: str

    @property
    def stream_id(self) -> UUID:
        return self.negotiation_id

    def create(self) -> Negotiation:
        """The new negotiation, its `opened` event pending."""
        return Negotiation.open(
            negotiation_id=self.negotiation_id,
            facts=self.facts,
            key=self.key,
            title=self.title,
            parties=self.parties,
            summary=self.summary,
        )


@dataclass(frozen=True)
class AppendChange:
    """Batch item: append one change to a stream, which must be of the change's kind.

    A change to a measure sent to a negotiation's stream (or the other way round) is an
    error, not something to guess around.
    """

    stream_id: UUID
    change: Change

    @property
    def kind(self) -> str:
        return MEASURE if isinstance(self.change, MeasureChange) else NEGOTIATION


CreateStream = ImposeMeasure | OpenNegotiation
"""A command creating a stream."""

BatchItem = ImposeMeasure | OpenNegotiation | AppendChange


@dataclass(frozen=True)
class BatchResult:
    """What a batch did: items added and skipped (already recorded), versions afterwards."""

    added: int
    skipped: int
    versions: dict[UUID, int]
    """The version of every stream the batch touched, after it (unchanged when all skipped)."""


@dataclass(frozen=True)
class RecordedEvent:
    """One event a write appended: its id, its version in the stream, its place in the log."""

    event_id: str
    version: int
    position: int


@dataclass(frozen=True)
class Written:
    """What one write to one stream did, as the HTTP API reports it.

    `replayed` is true when an idempotency key showed that the write had already been
    made: nothing was recorded this time, and the rest describes the first write.
    """

    kind: str
    stream_id: UUID
    key: str
    version: int
    created: bool
    events: tuple[RecordedEvent, ...]
    replayed: bool = False

    @property
    def position(self) -> int:
        """The log position the write reached (its last event's): a reader that waits for
        it sees the write."""
        return max(event.position for event in self.events)


class BatchItemError(DomainError):
    """Item `index` of a batch broke a rule; nothing of the batch was recorded.

    It wraps the original error (`error`, with its own `rule` and ids) so that callers
    can say which line of a file was wrong, and still map the cause precisely.
    """

    rule = "batch_item_rejected"

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(f"item {index}: {error.message}")
        self.index = index
        self.error = error
