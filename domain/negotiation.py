"""The Negotiation aggregate: one stream per negotiation, from first contact to the end.

Its state on a day is a fold of its events (see domain.negotiation_state), and a new step
is decided on the state on the step's own day.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.errors import InvalidTransition, InvalidValue, UnknownEventReference
from domain.events import Facts, LedgerAggregate, LedgerEvent, type_name

if TYPE_CHECKING:
    from domain.negotiation_state import NegotiationState

NEGOTIATION = "negotiation"
"""The kind of stream of a negotiation, as stream ids, errors and the public schema name it."""


class Negotiation(LedgerAggregate):
    """Talks between two or more parties (ISO 3166 alpha-2), from first contact to the end."""

    class Event(LedgerEvent):
        summary: str

        def apply(self, aggregate: Any) -> None:
            aggregate.event_types[self.event_id] = type_name(type(self))
            aggregate.history.append(self)

    class Opened(Event, LedgerAggregate.Created):
        """The ledger starts following these talks."""

        key: str
        title: str
        parties: tuple[str, ...]

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.key = self.key
            aggregate.title = self.title
            aggregate.parties = tuple(self.parties)

    class ContactMade(Event):
        """First or renewed contact; `channel` is "official" or "back_channel"."""

        by_party: str
        channel: str

    class PreconditionStated(Event):
        """A party says what must happen before it talks (e.g. "meaningful measures" first)."""

        by_party: str

    class PreconditionMet(Event):
        """A precondition stated earlier no longer stands in the way."""

        precondition_event_id: str

    class TalksScheduled(Event):
        talks_on: date | None
        location: str

    class RoundHeld(Event):
        location: str
        round_number: int | None

    class ProposalTabled(Event):
        by_party: str

    class ConcessionOffered(Event):
        by_party: str

    class DevelopmentReported(Event):
        """Something reported about the talks (press, market data) that changes no status."""

    class JointStatementIssued(Event):
        """A joint statement; with `truce_ends_on` it starts a truce that ends on that day."""

        truce_ends_on: date | None

    class FrameworkAgreed(Event):
        truce_ends_on: date | None

    class DealAnnounced(Event):
        """Terms announced (often non-binding); the rates change only when implemented."""

        in_force_on: date | None

    class AgreementSigned(Event):
        in_force_on: date | None

    class ImplementingActionTaken(Event):
        """A step that implements what was agreed; `measure_ids` names the tariff measures."""

        measure_ids: tuple[str, ...]

    class TruceExtended(Event):
        truce_ends_on: date

    class BreachAlleged(Event):
        by_party: str

    class ThreatIssued(Event):
        by_party: str
        threatened_rate_pct: Decimal | None
        threatened_from: date | None

    class TalksPostponed(Event):
        pass

    class TalksResumed(Event):
        pass

    class TalksSuspended(Event):
        pass

    class TalksCollapsed(Event):
        pass

    class Terminated(Event):
        pass

    class Superseded(Event):
        by_negotiation_id: str

    class Invalidated(Event):
        pass

    class RecordCorrected(Event):
        """An earlier event of this stream was recorded in error and must be disregarded."""

        corrected_event_id: str
        reason: str

    def __init__(self) -> None:
        super().__init__()
        self.key = ""
        self.title = ""
        self.parties: tuple[str, ...] = ()
        self.history: list[Negotiation.Event] = []

    @classmethod
    def open(
        cls,
        *,
        negotiation_id: UUID,
        facts: Facts,
        key: str,
        title: str,
        parties: tuple[str, ...],
        summary: str,
    ) -> Negotiation:
        """Open the stream of a negotiation between `parties`."""
        if len(set(parties)) < 2:
            raise InvalidValue("parties", "a negotiation needs at least two distinct parties")
        if not title.strip():
            raise InvalidValue("title", "a negotiation needs a title")
        return cls._create(
            cls.Opened,
            id=negotiation_id,
            **facts.fields(),
            key=key,
            title=title,
            parties=parties,
            summary=summary,
        )

    def state_on(self, on: date) -> NegotiationState:
        """The state on `on` from everything this stream holds (the write side's view)."""
        from domain.negotiation_state import fold_negotiation  # it matches on our events

        return fold_negotiation(self.id, self.history, on)

    def record_step(self, event_type: str, facts: Facts, **fields: Any) -> None:
        """Decide whether the step can follow the state on its day, then record it.

        `event_type` is the public name ("round_held"); `fields` are its own fields.
        """
        event_class = STEP_TYPES[event_type]
        party = fields.get("by_party")
        if party is not None and party not in self.parties:
            raise InvalidValue("by_party", f"{party} is not a party to this negotiation")
        if event_class is Negotiation.RecordCorrected:
            self._check_correction(fields["corrected_event_id"])
        probe = event_class(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=event_class.create_timestamp(),
            **facts.fields(),
            **fields,
        )
        from domain.negotiation_state import check_step  # it matches on our events

        check_step(self.id, self.history, probe)
        self._record(event_class, facts, **fields)

    def _check_correction(self, corrected_event_id: str) -> None:
        corrected_type = self.event_types.get(corrected_event_id)
        if corrected_type is None:
            raise UnknownEventReference(self.id, corrected_event_id, "earlier")
        if corrected_type in ("record_corrected", "opened"):
            raise InvalidTransition(
                self.id,
                "record_corrected",
                "any",
                f"a {corrected_type} event cannot be corrected",
            )


STEP_TYPES: dict[str, type[Negotiation.Event]] = {
    type_name(cls): cls
    for cls in (
        Negotiation.ContactMade,
        Negotiation.PreconditionStated,
        Negotiation.PreconditionMet,
        Negotiation.TalksScheduled,
        Negotiation.RoundHeld,
        Negotiation.ProposalTabled,
        Negotiation.ConcessionOffered,
        Negotiation.DevelopmentReported,
        Negotiation.JointStatementIssued,
        Negotiation.FrameworkAgreed,
        Negotiation.DealAnnounced,
        Negotiation.AgreementSigned,
        Negotiation.ImplementingActionTaken,
        Negotiation.TruceExtended,
        Negotiation.BreachAlleged,
        Negotiation.ThreatIssued,
        Negotiation.TalksPostponed,
        Negotiation.TalksResumed,
        Negotiation.TalksSuspended,
        Negotiation.TalksCollapsed,
        Negotiation.Terminated,
        Negotiation.Superseded,
        Negotiation.Invalidated,
        Negotiation.RecordCorrected,
    )
}
"""Every step a client may append to a negotiation, by public type name."""
