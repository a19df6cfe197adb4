"""The steps of a negotiation that end, pause or bind it: truces and agreements, their
breaches and threats, postponements and collapse, and corrections of the record.

The steps of its course up to then are in `eventschema.negotiations`, which also lists the
models of every negotiation event.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from eventschema import facts
from eventschema.streams import MeasureRef, NegotiationRef
from eventschema.values import IsoDate, Rate


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


OUTCOME_MODELS: tuple[type[facts.NegotiationStepIn], ...] = (
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
"""The models of these steps, in the order of the unions of negotiation events."""
