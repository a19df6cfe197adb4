"""The events of a negotiation's stream, one model per event type: its opening, the steps
of its course (contacts, preconditions, rounds, proposals), those that end, pause or bind
it (truces and agreements, their breaches and threats, postponements and collapse), and
corrections of the record.

`NegotiationOpened` opens a negotiation; every other model is a step appended to one
(`NegotiationStepIn`). `eventschema.unions.NegotiationEvent` is any of them, told apart by
`type`.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, field_validator

from domain.commands import OpenNegotiation
from domain.ledger import NEGOTIATION
from eventschema import facts
from eventschema.streams import Key, MeasureRef, NegotiationRef, id_of_new_stream
from eventschema.values import Country, EventId, IsoDate, NonBlank, Rate, Text, invalid


class NegotiationOpened(facts.NegotiationEventIn):
    """The ledger starts following talks between two or more parties."""

    type: Literal["opened"] = Field(description="The negotiation is opened.")
    key: Key | None = facts.stream_key("negotiation", "us-cn-trade-talks")
    title: NonBlank = Field(description="A readable title.", examples=["US-UK trade talks"])
    parties: list[Country] = Field(
        min_length=2,
        json_schema_extra={"uniqueItems": True},
        description="The parties, at least two distinct countries.",
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


class NegotiationContactMade(facts.PartyStepIn):
    """First or renewed contact, official or through a back channel."""

    type: Literal["contact_made"] = Field(description="The parties are in contact.")
    channel: Literal["official", "back_channel"] = Field(
        description="How the contact was made.", examples=["back_channel"]
    )


class NegotiationPreconditionStated(facts.PartyStepIn):
    """A party says what must happen before it talks."""

    type: Literal["precondition_stated"] = Field(description="A precondition is stated.")


class NegotiationPreconditionMet(facts.NegotiationStepIn):
    """A precondition stated earlier no longer stands in the way."""

    type: Literal["precondition_met"] = Field(description="A precondition is met.")
    precondition_event_id: EventId = Field(
        description="The event_id of the precondition_stated event.",
        examples=["CN-PRECONDITION-1"],
    )


class NegotiationTalksScheduled(facts.NegotiationStepIn):
    """Talks are scheduled."""

    type: Literal["talks_scheduled"] = Field(description="Talks are scheduled.")
    talks_on: IsoDate | None = Field(
        default=None, description="The day the talks are to start, if known."
    )
    location: Text = Field(default="", description="Where.", examples=["Geneva"])


class NegotiationRoundHeld(facts.NegotiationStepIn):
    """A round of talks took place."""

    type: Literal["round_held"] = Field(description="A round of talks is held.")
    location: Text = Field(default="", description="Where.", examples=["London"])
    round_number: Annotated[int, Field(strict=True, ge=1)] | None = Field(
        default=None, description="The round's number, if the parties number them."
    )


class NegotiationProposalTabled(facts.PartyStepIn):
    """A party puts a proposal on the table."""

    type: Literal["proposal_tabled"] = Field(description="A proposal is tabled.")


class NegotiationConcessionOffered(facts.PartyStepIn):
    """A party offers a concession (changes no status)."""

    type: Literal["concession_offered"] = Field(description="A concession is offered.")


class NegotiationDevelopmentReported(facts.NegotiationStepIn):
    """Something reported about the talks that changes no status (press, market data)."""

    type: Literal["development_reported"] = Field(description="Something is reported.")


class NegotiationJointStatementIssued(facts.TruceStepIn):
    """A joint statement; with truce_ends_on it starts a truce ending that day."""

    type: Literal["joint_statement_issued"] = Field(description="A joint statement.")


class NegotiationFrameworkAgreed(facts.TruceStepIn):
    """A framework is agreed; with truce_ends_on it starts a truce ending that day."""

    type: Literal["framework_agreed"] = Field(description="A framework is agreed.")


class NegotiationDealAnnounced(facts.NegotiationStepIn):
    """Terms are announced (often non-binding); rates change only when implemented."""

    type: Literal["deal_announced"] = Field(description="A deal is announced.")
    in_force_on: IsoDate | None = Field(
        default=None, description="The day the terms are to apply, if announced."
    )


class NegotiationAgreementSigned(facts.NegotiationStepIn):
    """An agreement is signed; it is in force from in_force_on."""

    type: Literal["agreement_signed"] = Field(description="An agreement is signed.")
    in_force_on: IsoDate | None = Field(
        default=None, description="The day the agreement enters into force, if known."
    )


class NegotiationImplementingActionTaken(facts.NegotiationStepIn):
    """A step implementing what was agreed, linked to the tariff measures it changed."""

    type: Literal["implementing_action_taken"] = Field(description="Agreed terms are applied.")
    measure_ids: list[MeasureRef] = Field(
        default_factory=list,
        description="The tariff measures changed by this step (by key or UUID).",
    )


class NegotiationTruceExtended(facts.NegotiationStepIn):
    """A truce now ends on truce_ends_on."""

    type: Literal["truce_extended"] = Field(description="A truce is extended.")
    truce_ends_on: IsoDate = Field(
        description="The new end of the truce: the first day it is no longer in force."
    )


class NegotiationBreachAlleged(facts.PartyStepIn):
    """A party says the other broke what was agreed."""

    type: Literal["breach_alleged"] = Field(description="A breach is alleged.")


class NegotiationThreatIssued(facts.PartyStepIn):
    """A party threatens escalation; a threat never changes a rate."""

    type: Literal["threat_issued"] = Field(description="Escalation is threatened.")
    threatened_rate_pct: Rate | None = Field(
        default=None, description="The rate threatened, if stated."
    )
    threatened_from: IsoDate | None = Field(default=None, description="From when, if stated.")


class NegotiationTalksPostponed(facts.NegotiationStepIn):
    """Talks are postponed."""

    type: Literal["talks_postponed"] = Field(description="Talks are postponed.")


class NegotiationTalksResumed(facts.NegotiationStepIn):
    """Talks resume after a pause or trouble."""

    type: Literal["talks_resumed"] = Field(description="Talks resume.")


class NegotiationTalksSuspended(facts.NegotiationStepIn):
    """Talks are suspended."""

    type: Literal["talks_suspended"] = Field(description="Talks are suspended.")


class NegotiationTalksCollapsed(facts.NegotiationStepIn):
    """Talks collapse (terminal)."""

    type: Literal["talks_collapsed"] = Field(description="Talks collapse.")


class NegotiationTerminated(facts.NegotiationStepIn):
    """The negotiation ends by decision of a party (terminal)."""

    type: Literal["terminated"] = Field(description="The negotiation is terminated.")


class NegotiationSuperseded(facts.NegotiationStepIn):
    """The negotiation continues as another one (terminal)."""

    type: Literal["superseded"] = Field(description="Another negotiation takes over.")
    by_negotiation_id: NegotiationRef = Field(
        description="The negotiation that takes over (by key or UUID)."
    )


class NegotiationInvalidated(facts.NegotiationStepIn):
    """What the negotiation produced lost its legal basis (terminal)."""

    type: Literal["invalidated"] = Field(description="The negotiation is invalidated.")


class NegotiationRecordCorrected(facts.RecordCorrectedIn, facts.NegotiationStepIn):
    """An earlier event of this stream was recorded in error and must be disregarded."""


NEGOTIATION_STEP_MODELS: tuple[type[facts.NegotiationStepIn], ...] = (
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

NEGOTIATION_EVENT_MODELS: tuple[type[facts.NegotiationEventIn], ...] = (
    NegotiationOpened,
    *NEGOTIATION_STEP_MODELS,
)
