"""The events of a negotiation's stream, one model per event type: its opening and the
steps of its course (contacts, preconditions, rounds, proposals); the steps that end, pause
or bind it are in `eventschema.negotiation_outcomes`.

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
from eventschema import facts, negotiation_outcomes
from eventschema.streams import Key, id_of_new_stream
from eventschema.values import Country, IsoDate, NonBlank, invalid


class NegotiationOpened(facts.NegotiationEventIn):
    """The ledger starts following talks between two or more parties."""

    type: Literal["opened"] = Field(description="The negotiation is opened.")
    key: Key | None = facts.stream_key("negotiation", "us-cn-trade-talks")
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
    precondition_event_id: NonBlank = Field(
        description="The event_id of the precondition_stated event.",
        examples=["CN-PRECONDITION-1"],
    )


class NegotiationTalksScheduled(facts.NegotiationStepIn):
    """Talks are scheduled."""

    type: Literal["talks_scheduled"] = Field(description="Talks are scheduled.")
    talks_on: IsoDate | None = Field(
        default=None, description="The day the talks are to start, if known."
    )
    location: str = Field(default="", description="Where.", examples=["Geneva"])


class NegotiationRoundHeld(facts.NegotiationStepIn):
    """A round of talks took place."""

    type: Literal["round_held"] = Field(description="A round of talks is held.")
    location: str = Field(default="", description="Where.", examples=["London"])
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


NEGOTIATION_STEP_MODELS: tuple[type[facts.NegotiationStepIn], ...] = (
    NegotiationContactMade,
    NegotiationPreconditionStated,
    NegotiationPreconditionMet,
    NegotiationTalksScheduled,
    NegotiationRoundHeld,
    NegotiationProposalTabled,
    NegotiationConcessionOffered,
    NegotiationDevelopmentReported,
    *negotiation_outcomes.OUTCOME_MODELS,
)

NEGOTIATION_EVENT_MODELS: tuple[type[facts.NegotiationEventIn], ...] = (
    NegotiationOpened,
    *NEGOTIATION_STEP_MODELS,
)
