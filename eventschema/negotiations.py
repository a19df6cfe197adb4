"""The events of a negotiation's stream, one model per event type.

`NegotiationOpened` opens a negotiation; every other model is a step appended to one
(`NegotiationStepIn`). `NegotiationEvent` is any of them, discriminated on `type`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias
from uuid import UUID

from pydantic import Field, field_validator

from domain.commands import OpenNegotiation
from domain.ledger import NEGOTIATION
from domain.negotiation_steps import (
    AgreeFramework,
    AllegeBreach,
    AnnounceDeal,
    CollapseTalks,
    CorrectNegotiationRecord,
    ExtendTruce,
    HoldRound,
    Invalidate,
    IssueJointStatement,
    IssueThreat,
    MakeContact,
    MeetPrecondition,
    OfferConcession,
    PostponeTalks,
    ReportDevelopment,
    ResumeTalks,
    ScheduleTalks,
    SignAgreement,
    StatePrecondition,
    Supersede,
    SuspendTalks,
    TableProposal,
    TakeImplementingAction,
    TerminateNegotiation,
)
from eventschema.examples import NEGOTIATION_EXAMPLES
from eventschema.facts import (
    NegotiationEventIn,
    NegotiationStepIn,
    RecordCorrectedIn,
    event_type_of,
    example_config,
    one_of,
)
from eventschema.streams import Key, MeasureRef, NegotiationRef, id_of_new_stream
from eventschema.values import Country, IsoDate, NonBlank, Rate, invalid


class NegotiationOpened(NegotiationEventIn):
    """The ledger starts following talks between two or more parties."""

    model_config = example_config(NEGOTIATION_EXAMPLES["opened"])

    type: Literal["opened"] = Field(description="The negotiation is opened.")
    key: Key | None = Field(
        default=None,
        description=(
            "A human key for the negotiation; its id is derived from it. In a dataset line "
            "it defaults to the key naming the stream, and must agree with it."
        ),
        examples=["us-cn-trade-talks"],
    )
    title: NonBlank = Field(description="A readable title.", examples=["US-UK trade talks"])
    parties: list[Country] = Field(
        min_length=2, description="The parties, at least two distinct countries."
    )

    @field_validator("parties")
    @classmethod
    def _distinct(cls, parties: list[str]) -> list[str]:
        if len(set(parties)) != len(parties):
            raise invalid("each party may appear only once")
        return parties

    def to_command(self, negotiation_id: UUID | None = None) -> OpenNegotiation:
        """The command opening this negotiation: its id is given, or derived from the key,
        or (no key) a fresh UUID."""
        key = self.key or ""
        return OpenNegotiation(
            negotiation_id=id_of_new_stream(NEGOTIATION, key, negotiation_id),
            key=key,
            facts=self.to_facts(),
            title=self.title,
            parties=tuple(self.parties),
            summary=self.summary,
        )


class _PartyStepIn(NegotiationStepIn):
    """A step one of the parties takes."""

    by_party: Country = Field(description="The party acting (one of the negotiation's parties).")


class _TruceStepIn(NegotiationStepIn):
    """A step that may start a truce: with truce_ends_on, one ending that day."""

    truce_ends_on: IsoDate | None = Field(
        default=None,
        description="The first day a truce agreed here is no longer in force, if any.",
    )


class NegotiationContactMade(_PartyStepIn):
    """First or renewed contact, official or through a back channel."""

    model_config = example_config(NEGOTIATION_EXAMPLES["contact_made"])

    type: Literal["contact_made"] = Field(description="The parties are in contact.")
    channel: Literal["official", "back_channel"] = Field(
        description="How the contact was made.", examples=["back_channel"]
    )

    def to_change(self) -> MakeContact:
        return MakeContact(
            self.to_facts(), summary=self.summary, by_party=self.by_party, channel=self.channel
        )


class NegotiationPreconditionStated(_PartyStepIn):
    """A party says what must happen before it talks."""

    model_config = example_config(NEGOTIATION_EXAMPLES["precondition_stated"])

    type: Literal["precondition_stated"] = Field(description="A precondition is stated.")

    def to_change(self) -> StatePrecondition:
        return StatePrecondition(self.to_facts(), summary=self.summary, by_party=self.by_party)


class NegotiationPreconditionMet(NegotiationStepIn):
    """A precondition stated earlier no longer stands in the way."""

    model_config = example_config(NEGOTIATION_EXAMPLES["precondition_met"])

    type: Literal["precondition_met"] = Field(description="A precondition is met.")
    precondition_event_id: NonBlank = Field(
        description="The event_id of the precondition_stated event.",
        examples=["CN-PRECONDITION-1"],
    )

    def to_change(self) -> MeetPrecondition:
        return MeetPrecondition(
            self.to_facts(), summary=self.summary, precondition_event_id=self.precondition_event_id
        )


class NegotiationTalksScheduled(NegotiationStepIn):
    """Talks are scheduled."""

    model_config = example_config(NEGOTIATION_EXAMPLES["talks_scheduled"])

    type: Literal["talks_scheduled"] = Field(description="Talks are scheduled.")
    talks_on: IsoDate | None = Field(
        default=None, description="The day the talks are to start, if known."
    )
    location: str = Field(default="", description="Where.", examples=["Geneva"])

    def to_change(self) -> ScheduleTalks:
        return ScheduleTalks(
            self.to_facts(), summary=self.summary, talks_on=self.talks_on, location=self.location
        )


class NegotiationRoundHeld(NegotiationStepIn):
    """A round of talks took place."""

    model_config = example_config(NEGOTIATION_EXAMPLES["round_held"])

    type: Literal["round_held"] = Field(description="A round of talks is held.")
    location: str = Field(default="", description="Where.", examples=["London"])
    round_number: Annotated[int, Field(strict=True, ge=1)] | None = Field(
        default=None, description="The round's number, if the parties number them."
    )

    def to_change(self) -> HoldRound:
        return HoldRound(
            self.to_facts(),
            summary=self.summary,
            location=self.location,
            round_number=self.round_number,
        )


class NegotiationProposalTabled(_PartyStepIn):
    """A party puts a proposal on the table."""

    model_config = example_config(NEGOTIATION_EXAMPLES["proposal_tabled"])

    type: Literal["proposal_tabled"] = Field(description="A proposal is tabled.")

    def to_change(self) -> TableProposal:
        return TableProposal(self.to_facts(), summary=self.summary, by_party=self.by_party)


class NegotiationConcessionOffered(_PartyStepIn):
    """A party offers a concession (changes no status)."""

    model_config = example_config(NEGOTIATION_EXAMPLES["concession_offered"])

    type: Literal["concession_offered"] = Field(description="A concession is offered.")

    def to_change(self) -> OfferConcession:
        return OfferConcession(self.to_facts(), summary=self.summary, by_party=self.by_party)


class NegotiationDevelopmentReported(NegotiationStepIn):
    """Something reported about the talks that changes no status (press, market data)."""

    model_config = example_config(NEGOTIATION_EXAMPLES["development_reported"])

    type: Literal["development_reported"] = Field(description="Something is reported.")

    def to_change(self) -> ReportDevelopment:
        return ReportDevelopment(self.to_facts(), summary=self.summary)


class NegotiationJointStatementIssued(_TruceStepIn):
    """A joint statement; with truce_ends_on it starts a truce ending that day."""

    model_config = example_config(NEGOTIATION_EXAMPLES["joint_statement_issued"])

    type: Literal["joint_statement_issued"] = Field(description="A joint statement.")

    def to_change(self) -> IssueJointStatement:
        return IssueJointStatement(
            self.to_facts(), summary=self.summary, truce_ends_on=self.truce_ends_on
        )


class NegotiationFrameworkAgreed(_TruceStepIn):
    """A framework is agreed; with truce_ends_on it starts a truce ending that day."""

    model_config = example_config(NEGOTIATION_EXAMPLES["framework_agreed"])

    type: Literal["framework_agreed"] = Field(description="A framework is agreed.")

    def to_change(self) -> AgreeFramework:
        return AgreeFramework(
            self.to_facts(), summary=self.summary, truce_ends_on=self.truce_ends_on
        )


class NegotiationDealAnnounced(NegotiationStepIn):
    """Terms are announced (often non-binding); rates change only when implemented."""

    model_config = example_config(NEGOTIATION_EXAMPLES["deal_announced"])

    type: Literal["deal_announced"] = Field(description="A deal is announced.")
    in_force_on: IsoDate | None = Field(
        default=None, description="The day the terms are to apply, if announced."
    )

    def to_change(self) -> AnnounceDeal:
        return AnnounceDeal(self.to_facts(), summary=self.summary, in_force_on=self.in_force_on)


class NegotiationAgreementSigned(NegotiationStepIn):
    """An agreement is signed; it is in force from in_force_on."""

    model_config = example_config(NEGOTIATION_EXAMPLES["agreement_signed"])

    type: Literal["agreement_signed"] = Field(description="An agreement is signed.")
    in_force_on: IsoDate | None = Field(
        default=None, description="The day the agreement enters into force, if known."
    )

    def to_change(self) -> SignAgreement:
        return SignAgreement(self.to_facts(), summary=self.summary, in_force_on=self.in_force_on)


class NegotiationImplementingActionTaken(NegotiationStepIn):
    """A step implementing what was agreed, linked to the tariff measures it changed."""

    model_config = example_config(NEGOTIATION_EXAMPLES["implementing_action_taken"])

    type: Literal["implementing_action_taken"] = Field(description="Agreed terms are applied.")
    measure_ids: list[MeasureRef] = Field(
        default_factory=list,
        description="The tariff measures changed by this step (by key or UUID).",
    )

    def to_change(self) -> TakeImplementingAction:
        return TakeImplementingAction(
            self.to_facts(), summary=self.summary, measure_ids=tuple(self.measure_ids)
        )


class NegotiationTruceExtended(NegotiationStepIn):
    """A truce now ends on truce_ends_on."""

    model_config = example_config(NEGOTIATION_EXAMPLES["truce_extended"])

    type: Literal["truce_extended"] = Field(description="A truce is extended.")
    truce_ends_on: IsoDate = Field(
        description="The new end of the truce: the first day it is no longer in force."
    )

    def to_change(self) -> ExtendTruce:
        return ExtendTruce(self.to_facts(), summary=self.summary, truce_ends_on=self.truce_ends_on)


class NegotiationBreachAlleged(_PartyStepIn):
    """A party says the other broke what was agreed."""

    model_config = example_config(NEGOTIATION_EXAMPLES["breach_alleged"])

    type: Literal["breach_alleged"] = Field(description="A breach is alleged.")

    def to_change(self) -> AllegeBreach:
        return AllegeBreach(self.to_facts(), summary=self.summary, by_party=self.by_party)


class NegotiationThreatIssued(_PartyStepIn):
    """A party threatens escalation; a threat never changes a rate."""

    model_config = example_config(NEGOTIATION_EXAMPLES["threat_issued"])

    type: Literal["threat_issued"] = Field(description="Escalation is threatened.")
    threatened_rate_pct: Rate | None = Field(
        default=None, description="The rate threatened, if stated."
    )
    threatened_from: IsoDate | None = Field(default=None, description="From when, if stated.")

    def to_change(self) -> IssueThreat:
        return IssueThreat(
            self.to_facts(),
            summary=self.summary,
            by_party=self.by_party,
            threatened_rate_pct=self.threatened_rate_pct,
            threatened_from=self.threatened_from,
        )


class NegotiationTalksPostponed(NegotiationStepIn):
    """Talks are postponed."""

    model_config = example_config(NEGOTIATION_EXAMPLES["talks_postponed"])

    type: Literal["talks_postponed"] = Field(description="Talks are postponed.")

    def to_change(self) -> PostponeTalks:
        return PostponeTalks(self.to_facts(), summary=self.summary)


class NegotiationTalksResumed(NegotiationStepIn):
    """Talks resume after a pause or trouble."""

    model_config = example_config(NEGOTIATION_EXAMPLES["talks_resumed"])

    type: Literal["talks_resumed"] = Field(description="Talks resume.")

    def to_change(self) -> ResumeTalks:
        return ResumeTalks(self.to_facts(), summary=self.summary)


class NegotiationTalksSuspended(NegotiationStepIn):
    """Talks are suspended."""

    model_config = example_config(NEGOTIATION_EXAMPLES["talks_suspended"])

    type: Literal["talks_suspended"] = Field(description="Talks are suspended.")

    def to_change(self) -> SuspendTalks:
        return SuspendTalks(self.to_facts(), summary=self.summary)


class NegotiationTalksCollapsed(NegotiationStepIn):
    """Talks collapse (terminal)."""

    model_config = example_config(NEGOTIATION_EXAMPLES["talks_collapsed"])

    type: Literal["talks_collapsed"] = Field(description="Talks collapse.")

    def to_change(self) -> CollapseTalks:
        return CollapseTalks(self.to_facts(), summary=self.summary)


class NegotiationTerminated(NegotiationStepIn):
    """The negotiation ends by decision of a party (terminal)."""

    model_config = example_config(NEGOTIATION_EXAMPLES["terminated"])

    type: Literal["terminated"] = Field(description="The negotiation is terminated.")

    def to_change(self) -> TerminateNegotiation:
        return TerminateNegotiation(self.to_facts(), summary=self.summary)


class NegotiationSuperseded(NegotiationStepIn):
    """The negotiation continues as another one (terminal)."""

    model_config = example_config(NEGOTIATION_EXAMPLES["superseded"])

    type: Literal["superseded"] = Field(description="Another negotiation takes over.")
    by_negotiation_id: NegotiationRef = Field(
        description="The negotiation that takes over (by key or UUID)."
    )

    def to_change(self) -> Supersede:
        return Supersede(
            self.to_facts(), summary=self.summary, by_negotiation_id=self.by_negotiation_id
        )


class NegotiationInvalidated(NegotiationStepIn):
    """What the negotiation produced lost its legal basis (terminal)."""

    model_config = example_config(NEGOTIATION_EXAMPLES["invalidated"])

    type: Literal["invalidated"] = Field(description="The negotiation is invalidated.")

    def to_change(self) -> Invalidate:
        return Invalidate(self.to_facts(), summary=self.summary)


class NegotiationRecordCorrected(RecordCorrectedIn, NegotiationStepIn):
    """An earlier event of this stream was recorded in error and must be disregarded."""

    model_config = example_config(NEGOTIATION_EXAMPLES["record_corrected"])

    def to_change(self) -> CorrectNegotiationRecord:
        return CorrectNegotiationRecord(
            self.to_facts(),
            summary=self.summary,
            corrected_event_id=self.corrected_event_id,
            reason=self.reason,
        )


NEGOTIATION_STEP_MODELS: tuple[type[NegotiationStepIn], ...] = (
    NegotiationContactMade,
    NegotiationPreconditionStated,
    NegotiationPreconditionMet,
    NegotiationTalksScheduled,
    NegotiationRoundHeld,
    NegotiationProposalTabled,
    NegotiationConcessionOffered,
    NegotiationDevelopmentReported,
    NegotiationJointStatementIssued,
    NegotiationFrameworkAgreed,
    NegotiationDealAnnounced,
    NegotiationAgreementSigned,
    NegotiationImplementingActionTaken,
    NegotiationTruceExtended,
    NegotiationBreachAlleged,
    NegotiationThreatIssued,
    NegotiationTalksPostponed,
    NegotiationTalksResumed,
    NegotiationTalksSuspended,
    NegotiationTalksCollapsed,
    NegotiationTerminated,
    NegotiationSuperseded,
    NegotiationInvalidated,
    NegotiationRecordCorrected,
)

NEGOTIATION_EVENT_MODELS: tuple[type[NegotiationEventIn], ...] = (
    NegotiationOpened,
    *NEGOTIATION_STEP_MODELS,
)

# What type checkers can know: each is one of the models (isinstance tells which).
if TYPE_CHECKING:
    NegotiationEvent: TypeAlias = NegotiationEventIn
    NegotiationStep: TypeAlias = NegotiationStepIn
else:
    NegotiationEvent = one_of(NEGOTIATION_EVENT_MODELS)
    """Any event of a negotiation's stream (an HTTP body for one negotiation)."""
    NegotiationStep = one_of(NEGOTIATION_STEP_MODELS)
    """Any step of an existing negotiation (an HTTP body appending to one)."""


def negotiation_event_types() -> frozenset[str]:
    """The public type names of negotiation events, from the models."""
    return frozenset(event_type_of(model) for model in NEGOTIATION_EVENT_MODELS)
