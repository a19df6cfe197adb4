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

    # -- steps: each decides whether it can follow the state on its own day, then records

    def make_contact(self, facts: Facts, *, summary: str, by_party: str, channel: str) -> None:
        self._step(self.ContactMade, facts, summary=summary, by_party=by_party, channel=channel)

    def state_precondition(self, facts: Facts, *, summary: str, by_party: str) -> None:
        self._step(self.PreconditionStated, facts, summary=summary, by_party=by_party)

    def meet_precondition(self, facts: Facts, *, summary: str, precondition_event_id: str) -> None:
        self._step(
            self.PreconditionMet,
            facts,
            summary=summary,
            precondition_event_id=precondition_event_id,
        )

    def schedule_talks(
        self, facts: Facts, *, summary: str, talks_on: date | None, location: str
    ) -> None:
        self._step(
            self.TalksScheduled, facts, summary=summary, talks_on=talks_on, location=location
        )

    def hold_round(
        self, facts: Facts, *, summary: str, location: str, round_number: int | None
    ) -> None:
        self._step(
            self.RoundHeld, facts, summary=summary, location=location, round_number=round_number
        )

    def table_proposal(self, facts: Facts, *, summary: str, by_party: str) -> None:
        self._step(self.ProposalTabled, facts, summary=summary, by_party=by_party)

    def offer_concession(self, facts: Facts, *, summary: str, by_party: str) -> None:
        self._step(self.ConcessionOffered, facts, summary=summary, by_party=by_party)

    def report_development(self, facts: Facts, *, summary: str) -> None:
        self._step(self.DevelopmentReported, facts, summary=summary)

    def issue_joint_statement(
        self, facts: Facts, *, summary: str, truce_ends_on: date | None
    ) -> None:
        self._step(self.JointStatementIssued, facts, summary=summary, truce_ends_on=truce_ends_on)

    def agree_framework(self, facts: Facts, *, summary: str, truce_ends_on: date | None) -> None:
        self._step(self.FrameworkAgreed, facts, summary=summary, truce_ends_on=truce_ends_on)

    def announce_deal(self, facts: Facts, *, summary: str, in_force_on: date | None) -> None:
        self._step(self.DealAnnounced, facts, summary=summary, in_force_on=in_force_on)

    def sign_agreement(self, facts: Facts, *, summary: str, in_force_on: date | None) -> None:
        self._step(self.AgreementSigned, facts, summary=summary, in_force_on=in_force_on)

    def take_implementing_action(
        self, facts: Facts, *, summary: str, measure_ids: tuple[str, ...]
    ) -> None:
        self._step(self.ImplementingActionTaken, facts, summary=summary, measure_ids=measure_ids)

    def extend_truce(self, facts: Facts, *, summary: str, truce_ends_on: date) -> None:
        self._step(self.TruceExtended, facts, summary=summary, truce_ends_on=truce_ends_on)

    def allege_breach(self, facts: Facts, *, summary: str, by_party: str) -> None:
        self._step(self.BreachAlleged, facts, summary=summary, by_party=by_party)

    def issue_threat(
        self,
        facts: Facts,
        *,
        summary: str,
        by_party: str,
        threatened_rate_pct: Decimal | None,
        threatened_from: date | None,
    ) -> None:
        self._step(
            self.ThreatIssued,
            facts,
            summary=summary,
            by_party=by_party,
            threatened_rate_pct=threatened_rate_pct,
            threatened_from=threatened_from,
        )

    def postpone_talks(self, facts: Facts, *, summary: str) -> None:
        self._step(self.TalksPostponed, facts, summary=summary)

    def resume_talks(self, facts: Facts, *, summary: str) -> None:
        self._step(self.TalksResumed, facts, summary=summary)

    def suspend_talks(self, facts: Facts, *, summary: str) -> None:
        self._step(self.TalksSuspended, facts, summary=summary)

    def collapse_talks(self, facts: Facts, *, summary: str) -> None:
        self._step(self.TalksCollapsed, facts, summary=summary)

    def terminate(self, facts: Facts, *, summary: str) -> None:
        self._step(self.Terminated, facts, summary=summary)

    def supersede(self, facts: Facts, *, summary: str, by_negotiation_id: str) -> None:
        self._step(self.Superseded, facts, summary=summary, by_negotiation_id=by_negotiation_id)

    def invalidate(self, facts: Facts, *, summary: str) -> None:
        self._step(self.Invalidated, facts, summary=summary)

    def correct_record(
        self, facts: Facts, *, summary: str, corrected_event_id: str, reason: str
    ) -> None:
        self._check_correction(corrected_event_id)
        self._step(
            self.RecordCorrected,
            facts,
            summary=summary,
            corrected_event_id=corrected_event_id,
            reason=reason,
        )

    def _step(self, event_class: type[Negotiation.Event], facts: Facts, **fields: Any) -> None:
        """Record the step if the party taking it, if any, is one of ours, and if it can
        follow the state on its own day (the verbs' last part; `fields` are the event's
        own, as the verb named and typed them)."""
        if "by_party" in fields:
            self._check_party(fields["by_party"])
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

    def _check_party(self, party: str) -> None:
        if party not in self.parties:
            raise InvalidValue("by_party", f"{party} is not a party to this negotiation")

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
