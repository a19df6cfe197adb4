"""The typed steps of a negotiation: each public step type names one step, and each step
calls the verb of Negotiation that records the event of that type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.events import Facts
from domain.negotiation import Negotiation
from domain.negotiation_steps import (
    NEGOTIATION_STEPS,
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
    NegotiationStep,
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
from tests.domain.test_negotiation import facts, open_talks

S = "what happened"

EXAMPLES: dict[str, Callable[[Facts], NegotiationStep]] = {
    "contact_made": lambda f: MakeContact(f, summary=S, by_party="US", channel="official"),
    "precondition_stated": lambda f: StatePrecondition(f, summary=S, by_party="CN"),
    "precondition_met": lambda f: MeetPrecondition(f, summary=S, precondition_event_id="PRE"),
    "talks_scheduled": lambda f: ScheduleTalks(f, summary=S, talks_on=None, location="London"),
    "round_held": lambda f: HoldRound(f, summary=S, location="London", round_number=2),
    "proposal_tabled": lambda f: TableProposal(f, summary=S, by_party="US"),
    "concession_offered": lambda f: OfferConcession(f, summary=S, by_party="CN"),
    "development_reported": lambda f: ReportDevelopment(f, summary=S),
    "joint_statement_issued": lambda f: IssueJointStatement(f, summary=S, truce_ends_on=None),
    "framework_agreed": lambda f: AgreeFramework(f, summary=S, truce_ends_on=None),
    "deal_announced": lambda f: AnnounceDeal(f, summary=S, in_force_on=None),
    "agreement_signed": lambda f: SignAgreement(f, summary=S, in_force_on=date(2026, 1, 1)),
    "implementing_action_taken": lambda f: TakeImplementingAction(f, summary=S, measure_ids=("m",)),
    "truce_extended": lambda f: ExtendTruce(f, summary=S, truce_ends_on=date(2025, 11, 10)),
    "breach_alleged": lambda f: AllegeBreach(f, summary=S, by_party="CN"),
    "threat_issued": lambda f: IssueThreat(
        f, summary=S, by_party="US", threatened_rate_pct=Decimal("100"), threatened_from=None
    ),
    "talks_postponed": lambda f: PostponeTalks(f, summary=S),
    "talks_resumed": lambda f: ResumeTalks(f, summary=S),
    "talks_suspended": lambda f: SuspendTalks(f, summary=S),
    "talks_collapsed": lambda f: CollapseTalks(f, summary=S),
    "terminated": lambda f: TerminateNegotiation(f, summary=S),
    "superseded": lambda f: Supersede(f, summary=S, by_negotiation_id="us-cn-2026"),
    "invalidated": lambda f: Invalidate(f, summary=S),
    "record_corrected": lambda f: CorrectNegotiationRecord(
        f, summary=S, corrected_event_id="PRE", reason="misreported"
    ),
}
"""A step of each public type, valid on the `troubled_truce` negotiation."""


@pytest.fixture
def troubled_truce() -> Negotiation:
    """US-China talks with an open precondition (PRE), a round held, a truce agreed and a
    breach alleged, saved: every step can follow this state."""
    talks = open_talks(uuid4())
    talks.state_precondition(facts("PRE", date(2025, 4, 28)), summary=S, by_party="CN")
    talks.hold_round(
        facts("ROUND", date(2025, 5, 10)), summary=S, location="Geneva", round_number=1
    )
    talks.issue_joint_statement(
        facts("TRUCE", date(2025, 5, 12)), summary=S, truce_ends_on=date(2025, 8, 12)
    )
    talks.allege_breach(facts("BREACH", date(2025, 5, 30)), summary=S, by_party="US")
    talks.collect_events()
    return talks


@pytest.mark.parametrize("step_type", sorted(NEGOTIATION_STEPS))
def test_each_step_records_the_event_its_public_type_names(
    troubled_truce: Negotiation, step_type: str
) -> None:
    step = EXAMPLES[step_type](facts(f"EVT-{step_type}", date(2025, 6, 1)))

    step.apply_to(troubled_truce)

    (event,) = troubled_truce.collect_events()
    assert step.verb is NEGOTIATION_STEPS[step_type]
    assert type(event) is step.event
    assert step.event_type == step_type
    assert getattr(event, "summary", None) == S
    assert troubled_truce.event_types[f"EVT-{step_type}"] == step_type


def test_every_public_step_type_names_its_event_class() -> None:
    names = {name: step.event.__name__ for name, step in NEGOTIATION_STEPS.items()}

    assert names == {
        "contact_made": "ContactMade",
        "precondition_stated": "PreconditionStated",
        "precondition_met": "PreconditionMet",
        "talks_scheduled": "TalksScheduled",
        "round_held": "RoundHeld",
        "proposal_tabled": "ProposalTabled",
        "concession_offered": "ConcessionOffered",
        "development_reported": "DevelopmentReported",
        "joint_statement_issued": "JointStatementIssued",
        "framework_agreed": "FrameworkAgreed",
        "deal_announced": "DealAnnounced",
        "agreement_signed": "AgreementSigned",
        "implementing_action_taken": "ImplementingActionTaken",
        "truce_extended": "TruceExtended",
        "breach_alleged": "BreachAlleged",
        "threat_issued": "ThreatIssued",
        "talks_postponed": "TalksPostponed",
        "talks_resumed": "TalksResumed",
        "talks_suspended": "TalksSuspended",
        "talks_collapsed": "TalksCollapsed",
        "terminated": "Terminated",
        "superseded": "Superseded",
        "invalidated": "Invalidated",
        "record_corrected": "RecordCorrected",
    }
    assert "opened" not in NEGOTIATION_STEPS
