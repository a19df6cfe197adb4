"""The steps a client may append to a negotiation: one typed command per public event type.

A step is a call to one of `Negotiation`'s verbs, held until the Ledger has loaded the
negotiation: the common facts of the event, its summary, and the verb's own arguments,
typed as the verb types them. `NEGOTIATION_STEPS` names each by the public type of the
event it records ("round_held"), as clients and dataset files name it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import ClassVar

from domain.events import Facts, type_name
from domain.negotiation import Negotiation


@dataclass(frozen=True)
class NegotiationStep(ABC):
    """A step to append to a negotiation: the facts of its event, and the verb to call."""

    facts: Facts
    summary: str = field(kw_only=True)
    """What happened, in a sentence or two (every step of a negotiation has one)."""

    event: ClassVar[type[Negotiation.Event]]
    """The event the step records."""

    @property
    def event_type(self) -> str:
        """The public name of the event the step records ("round_held")."""
        return type_name(self.event)

    @abstractmethod
    def apply_to(self, negotiation: Negotiation) -> None:
        """Call the verb on `negotiation`: it checks the step against the state on the
        step's own day, then records the event."""


@dataclass(frozen=True, kw_only=True)
class MakeContact(NegotiationStep):
    event = Negotiation.ContactMade
    by_party: str
    channel: str

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.make_contact(
            self.facts, summary=self.summary, by_party=self.by_party, channel=self.channel
        )


@dataclass(frozen=True, kw_only=True)
class StatePrecondition(NegotiationStep):
    event = Negotiation.PreconditionStated
    by_party: str

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.state_precondition(self.facts, summary=self.summary, by_party=self.by_party)


@dataclass(frozen=True, kw_only=True)
class MeetPrecondition(NegotiationStep):
    event = Negotiation.PreconditionMet
    precondition_event_id: str

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.meet_precondition(
            self.facts, summary=self.summary, precondition_event_id=self.precondition_event_id
        )


@dataclass(frozen=True, kw_only=True)
class ScheduleTalks(NegotiationStep):
    event = Negotiation.TalksScheduled
    talks_on: date | None
    location: str

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.schedule_talks(
            self.facts, summary=self.summary, talks_on=self.talks_on, location=self.location
        )


@dataclass(frozen=True, kw_only=True)
class HoldRound(NegotiationStep):
    event = Negotiation.RoundHeld
    location: str
    round_number: int | None

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.hold_round(
            self.facts, summary=self.summary, location=self.location, round_number=self.round_number
        )


@dataclass(frozen=True, kw_only=True)
class TableProposal(NegotiationStep):
    event = Negotiation.ProposalTabled
    by_party: str

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.table_proposal(self.facts, summary=self.summary, by_party=self.by_party)


@dataclass(frozen=True, kw_only=True)
class OfferConcession(NegotiationStep):
    event = Negotiation.ConcessionOffered
    by_party: str

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.offer_concession(self.facts, summary=self.summary, by_party=self.by_party)


@dataclass(frozen=True, kw_only=True)
class ReportDevelopment(NegotiationStep):
    event = Negotiation.DevelopmentReported

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.report_development(self.facts, summary=self.summary)


@dataclass(frozen=True, kw_only=True)
class IssueJointStatement(NegotiationStep):
    event = Negotiation.JointStatementIssued
    truce_ends_on: date | None

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.issue_joint_statement(
            self.facts, summary=self.summary, truce_ends_on=self.truce_ends_on
        )


@dataclass(frozen=True, kw_only=True)
class AgreeFramework(NegotiationStep):
    event = Negotiation.FrameworkAgreed
    truce_ends_on: date | None

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.agree_framework(
            self.facts, summary=self.summary, truce_ends_on=self.truce_ends_on
        )


@dataclass(frozen=True, kw_only=True)
class AnnounceDeal(NegotiationStep):
    event = Negotiation.DealAnnounced
    in_force_on: date | None

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.announce_deal(self.facts, summary=self.summary, in_force_on=self.in_force_on)


@dataclass(frozen=True, kw_only=True)
class SignAgreement(NegotiationStep):
    event = Negotiation.AgreementSigned
    in_force_on: date | None

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.sign_agreement(self.facts, summary=self.summary, in_force_on=self.in_force_on)


@dataclass(frozen=True, kw_only=True)
class TakeImplementingAction(NegotiationStep):
    event = Negotiation.ImplementingActionTaken
    measure_ids: tuple[str, ...]

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.take_implementing_action(
            self.facts, summary=self.summary, measure_ids=self.measure_ids
        )


@dataclass(frozen=True, kw_only=True)
class ExtendTruce(NegotiationStep):
    event = Negotiation.TruceExtended
    truce_ends_on: date

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.extend_truce(self.facts, summary=self.summary, truce_ends_on=self.truce_ends_on)


@dataclass(frozen=True, kw_only=True)
class AllegeBreach(NegotiationStep):
    event = Negotiation.BreachAlleged
    by_party: str

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.allege_breach(self.facts, summary=self.summary, by_party=self.by_party)


@dataclass(frozen=True, kw_only=True)
class IssueThreat(NegotiationStep):
    event = Negotiation.ThreatIssued
    by_party: str
    threatened_rate_pct: Decimal | None
    threatened_from: date | None

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.issue_threat(
            self.facts,
            summary=self.summary,
            by_party=self.by_party,
            threatened_rate_pct=self.threatened_rate_pct,
            threatened_from=self.threatened_from,
        )


@dataclass(frozen=True, kw_only=True)
class PostponeTalks(NegotiationStep):
    event = Negotiation.TalksPostponed

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.postpone_talks(self.facts, summary=self.summary)


@dataclass(frozen=True, kw_only=True)
class ResumeTalks(NegotiationStep):
    event = Negotiation.TalksResumed

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.resume_talks(self.facts, summary=self.summary)


@dataclass(frozen=True, kw_only=True)
class SuspendTalks(NegotiationStep):
    event = Negotiation.TalksSuspended

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.suspend_talks(self.facts, summary=self.summary)


@dataclass(frozen=True, kw_only=True)
class CollapseTalks(NegotiationStep):
    event = Negotiation.TalksCollapsed

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.collapse_talks(self.facts, summary=self.summary)


@dataclass(frozen=True, kw_only=True)
class TerminateNegotiation(NegotiationStep):
    event = Negotiation.Terminated

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.terminate(self.facts, summary=self.summary)


@dataclass(frozen=True, kw_only=True)
class Supersede(NegotiationStep):
    event = Negotiation.Superseded
    by_negotiation_id: str

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.supersede(
            self.facts, summary=self.summary, by_negotiation_id=self.by_negotiation_id
        )


@dataclass(frozen=True, kw_only=True)
class Invalidate(NegotiationStep):
    event = Negotiation.Invalidated

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.invalidate(self.facts, summary=self.summary)


@dataclass(frozen=True, kw_only=True)
class CorrectNegotiationRecord(NegotiationStep):
    event = Negotiation.RecordCorrected
    corrected_event_id: str
    reason: str

    def apply_to(self, negotiation: Negotiation) -> None:
        negotiation.correct_record(
            self.facts,
            summary=self.summary,
            corrected_event_id=self.corrected_event_id,
            reason=self.reason,
        )


NEGOTIATION_STEPS: Mapping[str, type[NegotiationStep]] = {
    type_name(step.event): step
    for step in (
        MakeContact,
        StatePrecondition,
        MeetPrecondition,
        ScheduleTalks,
        HoldRound,
        TableProposal,
        OfferConcession,
        ReportDevelopment,
        IssueJointStatement,
        AgreeFramework,
        AnnounceDeal,
        SignAgreement,
        TakeImplementingAction,
        ExtendTruce,
        AllegeBreach,
        IssueThreat,
        PostponeTalks,
        ResumeTalks,
        SuspendTalks,
        CollapseTalks,
        TerminateNegotiation,
        Supersede,
        Invalidate,
        CorrectNegotiationRecord,
    )
}
"""Every step a client may append to a negotiation, by the public type of its event."""
