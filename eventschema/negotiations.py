"""The events of a negotiation's stream, one model per event type.

`NegotiationOpened` opens a negotiation; every other model is a step appended to one
(`NegotiationStepIn`). `NegotiationEvent` is any of them, discriminated on `type`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import Field, field_validator

from domain.ledger import NEGOTIATION, OpenNegotiation, stream_id_for_key
from eventschema.examples import BY, TALKS, examples, press, step
from eventschema.facts import NegotiationEventIn, NegotiationStepIn, event_type_of
from eventschema.streams import Key, MeasureRef, NegotiationRef
from eventschema.values import Country, IsoDate, NonBlank, Rate, invalid


class NegotiationOpened(NegotiationEventIn):
    """The ledger starts following talks between two or more parties."""

    model_config = examples(
        {
            "type": "opened",
            "event_id": "US-CN-TALKS-OPEN",
            "key": TALKS,
            "title": "US-China trade talks 2025",
            "parties": ["US", "CN"],
            "summary": "Escalating tariffs; both sides say they are open to talks.",
            "effective_on": "2025-04-09",
            "announced_at": "2025-04-09",
            "sources": press("https://www.reuters.com/", "Reuters"),
            "recorded_by": BY,
        }
    )

    type: Literal["opened"] = Field(description="The negotiation is opened.")
    key: Key | None = Field(
        default=None,
        description=(
            "A human key for the negotiation; its id is derived from it. In a dataset line "
            "it defaults to the key naming the stream, and must agree with it."
        ),
        examples=[TALKS],
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
        if negotiation_id is None:
            negotiation_id = stream_id_for_key(NEGOTIATION, key) if key else uuid4()
        return OpenNegotiation(
            negotiation_id=negotiation_id,
            key=key,
            facts=self.to_facts(),
            title=self.title,
            parties=tuple(self.parties),
            summary=self.summary,
        )


_BY_PARTY: Any = Field(description="The party acting (one of the negotiation's parties).")


class NegotiationContactMade(NegotiationStepIn):
    """First or renewed contact, official or through a back channel."""

    model_config = step(
        "contact_made",
        "US-CN-CONTACT-1",
        "2025-04-24",
        "The US side reportedly reached out discreetly to open talks.",
        by_party="US",
        channel="back_channel",
    )

    type: Literal["contact_made"] = Field(description="The parties are in contact.")
    by_party: Country = _BY_PARTY
    channel: Literal["official", "back_channel"] = Field(
        description="How the contact was made.", examples=["back_channel"]
    )


class NegotiationPreconditionStated(NegotiationStepIn):
    """A party says what must happen before it talks."""

    model_config = step(
        "precondition_stated",
        "CN-PRECONDITION-1",
        "2025-04-17",
        "China asks for meaningful measures (tariff cuts) before any talks.",
        by_party="CN",
    )

    type: Literal["precondition_stated"] = Field(description="A precondition is stated.")
    by_party: Country = _BY_PARTY


class NegotiationPreconditionMet(NegotiationStepIn):
    """A precondition stated earlier no longer stands in the way."""

    model_config = step(
        "precondition_met",
        "CN-PRECONDITION-1-MET",
        "2025-05-06",
        "China agrees to meet in Geneva.",
        precondition_event_id="CN-PRECONDITION-1",
    )

    type: Literal["precondition_met"] = Field(description="A precondition is met.")
    precondition_event_id: NonBlank = Field(
        description="The event_id of the precondition_stated event.",
        examples=["CN-PRECONDITION-1"],
    )


class NegotiationTalksScheduled(NegotiationStepIn):
    """Talks are scheduled."""

    model_config = step(
        "talks_scheduled",
        "US-CN-GENEVA-SCHEDULED",
        "2025-05-06",
        "Talks set for Geneva on 10-11 May.",
        talks_on="2025-05-10",
        location="Geneva",
    )

    type: Literal["talks_scheduled"] = Field(description="Talks are scheduled.")
    talks_on: IsoDate | None = Field(
        default=None, description="The day the talks are to start, if known."
    )
    location: str = Field(default="", description="Where.", examples=["Geneva"])


class NegotiationRoundHeld(NegotiationStepIn):
    """A round of talks took place."""

    model_config = step(
        "round_held",
        "US-CN-GENEVA-TALKS",
        "2025-05-10",
        "Two days of talks in Geneva.",
        location="Geneva",
        round_number=1,
    )

    type: Literal["round_held"] = Field(description="A round of talks is held.")
    location: str = Field(default="", description="Where.", examples=["London"])
    round_number: Annotated[int, Field(strict=True, ge=1)] | None = Field(
        default=None, description="The round's number, if the parties number them."
    )


class NegotiationProposalTabled(NegotiationStepIn):
    """A party puts a proposal on the table."""

    model_config = step(
        "proposal_tabled",
        "US-UK-PROPOSAL-1",
        "2025-04-20",
        "The UK tables a proposal on car quotas.",
        by_party="GB",
    )

    type: Literal["proposal_tabled"] = Field(description="A proposal is tabled.")
    by_party: Country = _BY_PARTY


class NegotiationConcessionOffered(NegotiationStepIn):
    """A party offers a concession (changes no status)."""

    model_config = step(
        "concession_offered",
        "CN-US-ETHANE-WAIVER",
        "2025-04-29",
        "China quietly exempts US ethane from its retaliatory tariff.",
        by_party="CN",
    )

    type: Literal["concession_offered"] = Field(description="A concession is offered.")
    by_party: Country = _BY_PARTY


class NegotiationDevelopmentReported(NegotiationStepIn):
    """Something reported about the talks that changes no status (press, market data)."""

    model_config = step(
        "development_reported",
        "US-CN-PHASED-CUT-REPORT",
        "2025-04-23",
        "Report that the US considers phased tariff cuts.",
    )

    type: Literal["development_reported"] = Field(description="Something is reported.")


class NegotiationJointStatementIssued(NegotiationStepIn):
    """A joint statement; with truce_ends_on it starts a truce ending that day."""

    model_config = step(
        "joint_statement_issued",
        "US-CN-GENEVA-STATEMENT",
        "2025-05-12",
        "Geneva joint statement: 90-day truce, reciprocal rates cut to 10%.",
        truce_ends_on="2025-08-12",
    )

    type: Literal["joint_statement_issued"] = Field(description="A joint statement.")
    truce_ends_on: IsoDate | None = Field(
        default=None,
        description="The first day a truce agreed here is no longer in force, if any.",
    )


class NegotiationFrameworkAgreed(NegotiationStepIn):
    """A framework is agreed; with truce_ends_on it starts a truce ending that day."""

    model_config = step(
        "framework_agreed",
        "US-CN-LONDON",
        "2025-06-10",
        "London framework to implement the Geneva consensus.",
    )

    type: Literal["framework_agreed"] = Field(description="A framework is agreed.")
    truce_ends_on: IsoDate | None = Field(
        default=None,
        description="The first day a truce agreed here is no longer in force, if any.",
    )


class NegotiationDealAnnounced(NegotiationStepIn):
    """Terms are announced (often non-binding); rates change only when implemented."""

    model_config = step(
        "deal_announced",
        "US-UK-EPD-ANNOUNCED",
        "2025-05-08",
        "US-UK Economic Prosperity Deal terms announced.",
        in_force_on="2025-06-30",
    )

    type: Literal["deal_announced"] = Field(description="A deal is announced.")
    in_force_on: IsoDate | None = Field(
        default=None, description="The day the terms are to apply, if announced."
    )


class NegotiationAgreementSigned(NegotiationStepIn):
    """An agreement is signed; it is in force from in_force_on."""

    model_config = step(
        "agreement_signed",
        "US-UK-EPD-SIGNED",
        "2025-06-16",
        "The US and the UK sign the general terms.",
        in_force_on="2025-06-30",
    )

    type: Literal["agreement_signed"] = Field(description="An agreement is signed.")
    in_force_on: IsoDate | None = Field(
        default=None, description="The day the agreement enters into force, if known."
    )


class NegotiationImplementingActionTaken(NegotiationStepIn):
    """A step implementing what was agreed, linked to the tariff measures it changed."""

    model_config = step(
        "implementing_action_taken",
        "US-CN-GENEVA-IMPLEMENTED",
        "2025-05-14",
        "The US implements the Geneva rate cuts.",
        measure_ids=["us-cn-reciprocal"],
    )

    type: Literal["implementing_action_taken"] = Field(description="Agreed terms are applied.")
    measure_ids: list[MeasureRef] = Field(
        default_factory=list,
        description="The tariff measures changed by this step (by key or UUID).",
    )


class NegotiationTruceExtended(NegotiationStepIn):
    """A truce now ends on truce_ends_on."""

    model_config = step(
        "truce_extended",
        "US-CN-TRUCE-EXT-1",
        "2025-08-11",
        "The truce is extended by 90 days.",
        truce_ends_on="2025-11-10",
    )

    type: Literal["truce_extended"] = Field(description="A truce is extended.")
    truce_ends_on: IsoDate = Field(
        description="The new end of the truce: the first day it is no longer in force."
    )


class NegotiationBreachAlleged(NegotiationStepIn):
    """A party says the other broke what was agreed."""

    model_config = step(
        "breach_alleged",
        "US-CN-BREACH-1",
        "2025-05-30",
        "The US says China violated the Geneva agreement.",
        by_party="US",
    )

    type: Literal["breach_alleged"] = Field(description="A breach is alleged.")
    by_party: Country = _BY_PARTY


class NegotiationThreatIssued(NegotiationStepIn):
    """A party threatens escalation; a threat never changes a rate."""

    model_config = step(
        "threat_issued",
        "US-CN-THREAT-100",
        "2025-10-10",
        "The US threatens an additional 100% tariff from 1 November.",
        by_party="US",
        threatened_rate_pct="100",
        threatened_from="2025-11-01",
    )

    type: Literal["threat_issued"] = Field(description="Escalation is threatened.")
    by_party: Country = _BY_PARTY
    threatened_rate_pct: Rate | None = Field(
        default=None, description="The rate threatened, if stated."
    )
    threatened_from: IsoDate | None = Field(default=None, description="From when, if stated.")


class NegotiationTalksPostponed(NegotiationStepIn):
    """Talks are postponed."""

    model_config = step(
        "talks_postponed",
        "US-IN-ROUND6-POSTPONED",
        "2025-08-25",
        "The sixth round in New Delhi is postponed indefinitely.",
    )

    type: Literal["talks_postponed"] = Field(description="Talks are postponed.")


class NegotiationTalksResumed(NegotiationStepIn):
    """Talks resume after a pause or trouble."""

    model_config = step(
        "talks_resumed", "US-IN-RESUMED", "2025-09-16", "Talks resume in New Delhi."
    )

    type: Literal["talks_resumed"] = Field(description="Talks resume.")


class NegotiationTalksSuspended(NegotiationStepIn):
    """Talks are suspended."""

    model_config = step(
        "talks_suspended", "US-CA-SUSPENDED", "2025-06-27", "The US ends talks with Canada."
    )

    type: Literal["talks_suspended"] = Field(description="Talks are suspended.")


class NegotiationTalksCollapsed(NegotiationStepIn):
    """Talks collapse (terminal)."""

    model_config = step(
        "talks_collapsed", "EXAMPLE-COLLAPSE", "2025-07-01", "(illustrative) Talks break down."
    )

    type: Literal["talks_collapsed"] = Field(description="Talks collapse.")


class NegotiationTerminated(NegotiationStepIn):
    """The negotiation ends by decision of a party (terminal)."""

    model_config = step(
        "terminated", "EXAMPLE-TERMINATED", "2025-07-01", "(illustrative) A party withdraws."
    )

    type: Literal["terminated"] = Field(description="The negotiation is terminated.")


class NegotiationSuperseded(NegotiationStepIn):
    """The negotiation continues as another one (terminal)."""

    model_config = step(
        "superseded",
        "EXAMPLE-SUPERSEDED",
        "2026-01-15",
        "(illustrative) Talks continue under a new framework.",
        by_negotiation_id="us-cn-trade-talks-2026",
    )

    type: Literal["superseded"] = Field(description="Another negotiation takes over.")
    by_negotiation_id: NegotiationRef = Field(
        description="The negotiation that takes over (by key or UUID)."
    )


class NegotiationInvalidated(NegotiationStepIn):
    """What the negotiation produced lost its legal basis (terminal)."""

    model_config = step(
        "invalidated",
        "EXAMPLE-INVALIDATED",
        "2026-02-20",
        "(illustrative) The ruling removes the legal basis of what was agreed.",
    )

    type: Literal["invalidated"] = Field(description="The negotiation is invalidated.")


class NegotiationRecordCorrected(NegotiationStepIn):
    """An earlier event of this stream was recorded in error and must be disregarded."""

    model_config = step(
        "record_corrected",
        "EXAMPLE-CORRECTION",
        "2025-06-02",
        "(illustrative) Round recorded under the wrong negotiation.",
        corrected_event_id="US-CN-GENEVA-TALKS",
        reason="belongs to the US-UK talks",
    )

    type: Literal["record_corrected"] = Field(description="An earlier record is withdrawn.")
    corrected_event_id: NonBlank = Field(description="The event_id of the event withdrawn.")
    reason: NonBlank = Field(description="Why it was wrong.")


NEGOTIATION_EVENT_MODELS: tuple[type[NegotiationEventIn], ...] = (
    NegotiationOpened,
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

NegotiationEvent = Annotated[
    NegotiationOpened
    | NegotiationContactMade
    | NegotiationPreconditionStated
    | NegotiationPreconditionMet
    | NegotiationTalksScheduled
    | NegotiationRoundHeld
    | NegotiationProposalTabled
    | NegotiationConcessionOffered
    | NegotiationDevelopmentReported
    | NegotiationJointStatementIssued
    | NegotiationFrameworkAgreed
    | NegotiationDealAnnounced
    | NegotiationAgreementSigned
    | NegotiationImplementingActionTaken
    | NegotiationTruceExtended
    | NegotiationBreachAlleged
    | NegotiationThreatIssued
    | NegotiationTalksPostponed
    | NegotiationTalksResumed
    | NegotiationTalksSuspended
    | NegotiationTalksCollapsed
    | NegotiationTerminated
    | NegotiationSuperseded
    | NegotiationInvalidated
    | NegotiationRecordCorrected,
    Field(discriminator="type"),
]
"""Any event of a negotiation's stream (an HTTP body for one negotiation)."""


def negotiation_event_types() -> frozenset[str]:
    """The public type names of negotiation events, from the models."""
    return frozenset(event_type_of(model) for model in NEGOTIATION_EVENT_MODELS)
