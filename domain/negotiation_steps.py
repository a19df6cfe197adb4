"""The steps a client may append to a negotiation: one typed command per public event type.

A step is a call to one of `Negotiation`'s verbs, held until the Ledger has loaded the
negotiation (see domain.verb_call): the common facts of the event, its summary, and the
verb's own arguments, typed as the verb types them. The verb checks the step against the
state on the step's own day, then records the event. `NEGOTIATION_STEPS` names each by
the public type of the event it records ("round_held"), as clients and dataset files
name it.
"""

from __future__ import annotations

from domain.negotiation import Negotiation
from domain.verb_call import VerbCall, Verbs


class NegotiationStep(VerbCall[Negotiation]):
    """A step to append to a negotiation: the verb to call, the facts of its event, and the
    verb's arguments (those of every step include its summary: what happened, in a
    sentence or two)."""


NEGOTIATION_STEPS = Verbs(Negotiation, NegotiationStep)
"""Every step a client may append to a negotiation, by the public type of its event."""

_step = NEGOTIATION_STEPS.enter

MakeContact = _step(Negotiation.ContactMade, Negotiation.make_contact)
StatePrecondition = _step(Negotiation.PreconditionStated, Negotiation.state_precondition)
MeetPrecondition = _step(Negotiation.PreconditionMet, Negotiation.meet_precondition)
ScheduleTalks = _step(Negotiation.TalksScheduled, Negotiation.schedule_talks)
HoldRound = _step(Negotiation.RoundHeld, Negotiation.hold_round)
TableProposal = _step(Negotiation.ProposalTabled, Negotiation.table_proposal)
OfferConcession = _step(Negotiation.ConcessionOffered, Negotiation.offer_concession)
ReportDevelopment = _step(Negotiation.DevelopmentReported, Negotiation.report_development)
IssueJointStatement = _step(Negotiation.JointStatementIssued, Negotiation.issue_joint_statement)
AgreeFramework = _step(Negotiation.FrameworkAgreed, Negotiation.agree_framework)
AnnounceDeal = _step(Negotiation.DealAnnounced, Negotiation.announce_deal)
SignAgreement = _step(Negotiation.AgreementSigned, Negotiation.sign_agreement)
TakeImplementingAction = _step(
    Negotiation.ImplementingActionTaken, Negotiation.take_implementing_action
)
ExtendTruce = _step(Negotiation.TruceExtended, Negotiation.extend_truce)
AllegeBreach = _step(Negotiation.BreachAlleged, Negotiation.allege_breach)
IssueThreat = _step(Negotiation.ThreatIssued, Negotiation.issue_threat)
PostponeTalks = _step(Negotiation.TalksPostponed, Negotiation.postpone_talks)
ResumeTalks = _step(Negotiation.TalksResumed, Negotiation.resume_talks)
SuspendTalks = _step(Negotiation.TalksSuspended, Negotiation.suspend_talks)
CollapseTalks = _step(Negotiation.TalksCollapsed, Negotiation.collapse_talks)
TerminateNegotiation = _step(Negotiation.Terminated, Negotiation.terminate)
Supersede = _step(Negotiation.Superseded, Negotiation.supersede)
Invalidate = _step(Negotiation.Invalidated, Negotiation.invalidate)
CorrectNegotiationRecord = _step(Negotiation.RecordCorrected, Negotiation.correct_record)
