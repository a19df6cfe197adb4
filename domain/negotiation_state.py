"""The state of a negotiation on a day: a fold of its events, and which steps can follow it.

The fold is ordered by the day each step happened in the world (`occurred_on`), not by
the order the ledger learned of it, so that a step recorded late lands where it belongs.
A new step is checked against the state on its own day; steps after it are not re-checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import cast
from uuid import UUID

from domain.errors import InvalidTransition
from domain.events import type_name
from domain.negotiation import Negotiation


class Status(StrEnum):
    """Where a negotiation stands. The last four are terminal."""

    NOT_YET_OPENED = "not_yet_opened"
    EXPLORATORY = "exploratory"
    PRECONDITIONS = "preconditions_standoff"
    SCOPING = "scoping"
    ROUNDS = "rounds_in_progress"
    FRAMEWORK = "framework_agreed"
    IMPLEMENTING = "implementing"
    TRUCE = "truce_active"
    TRUCE_EXPIRED = "truce_expired"
    AGREEMENT_SIGNED = "agreement_signed"
    IN_FORCE = "in_force"
    POSTPONED = "postponed"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    BREACH_ALLEGED = "breach_alleged"
    ESCALATION_THREATENED = "escalation_threatened"
    COLLAPSED = "collapsed"
    TERMINATED = "terminated"
    SUPERSEDED = "superseded"
    INVALIDATED = "invalidated"


TERMINAL = frozenset({Status.COLLAPSED, Status.TERMINATED, Status.SUPERSEDED, Status.INVALIDATED})
EARLY = frozenset({Status.EXPLORATORY, Status.PRECONDITIONS, Status.SCOPING})
PAUSED = frozenset({Status.POSTPONED, Status.SUSPENDED})
TROUBLED = PAUSED | {Status.BREACH_ALLEGED, Status.ESCALATION_THREATENED}


@dataclass(frozen=True)
class Step:
    """One element of the state, with the event behind it, so an auditor can follow it."""

    event_id: str
    event_type: str
    occurred_on: date
    summary: str
    party: str | None = None


@dataclass(frozen=True)
class NegotiationState:
    """The state of a negotiation on one day: plain data, safe to hand to any caller."""

    negotiation_id: UUID
    title: str
    parties: tuple[str, ...]
    status: Status
    status_set_by: Step | None
    open_preconditions: tuple[Step, ...]
    last_round: Step | None
    proposals_on_table: tuple[Step, ...]
    agreements: tuple[Step, ...]
    truce_ends_on: date | None
    truce_steps: tuple[Step, ...]
    threats: tuple[Step, ...]
    implementing_measure_ids: tuple[str, ...]
    steps: tuple[Step, ...]


@dataclass
class _Fold:
    status: Status = Status.EXPLORATORY
    status_step: Step | None = None
    preconditions: dict[str, Step] = field(default_factory=dict)
    last_round: Step | None = None
    proposals: list[Step] = field(default_factory=list)
    agreements: list[Step] = field(default_factory=list)
    truce_ends_on: date | None = None
    truce_steps: list[Step] = field(default_factory=list)
    threats: list[Step] = field(default_factory=list)
    in_force_on: date | None = None
    talks_held: bool = False
    something_agreed: bool = False
    measure_ids: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def _step(event: Negotiation.Event) -> Step:
    party = getattr(event, "by_party", None)
    return Step(event.event_id, type_name(type(event)), event.occurred_on, event.summary, party)


def _check(fold: _Fold, event: Negotiation.Event, negotiation_id: UUID) -> None:
    """Reject steps that cannot follow the state `fold` describes."""
    kind = type_name(type(event))

    def refuse(why: str) -> None:
        raise InvalidTransition(negotiation_id, kind, fold.status.value, why)

    if isinstance(event, Negotiation.RecordCorrected):
        return
    if fold.status in TERMINAL:
        refuse("the negotiation has ended")
    if isinstance(event, Negotiation.RoundHeld) and fold.status in PAUSED:
        refuse("talks must be resumed before a round is held")
    if isinstance(event, Negotiation.AgreementSigned) and not fold.talks_held:
        refuse("no talks have been held")
    if isinstance(event, Negotiation.ImplementingActionTaken) and not fold.something_agreed:
        refuse("nothing has been agreed to implement")
    if isinstance(event, Negotiation.TruceExtended) and fold.truce_ends_on is None:
        refuse("there is no truce to extend")
    if isinstance(event, Negotiation.TalksResumed) and fold.status not in TROUBLED:
        refuse("talks are not postponed, suspended or troubled")
    if (
        isinstance(event, Negotiation.PreconditionMet)
        and event.precondition_event_id not in fold.preconditions
    ):
        refuse(f"no open precondition {event.precondition_event_id!r}")


_SETS_STATUS: dict[type[Negotiation.Event], Status] = {
    Negotiation.Opened: Status.EXPLORATORY,
    Negotiation.BreachAlleged: Status.BREACH_ALLEGED,
    Negotiation.TalksPostponed: Status.POSTPONED,
    Negotiation.TalksSuspended: Status.SUSPENDED,
    Negotiation.TalksResumed: Status.RESUMED,
    Negotiation.TalksCollapsed: Status.COLLAPSED,
    Negotiation.Terminated: Status.TERMINATED,
    Negotiation.Superseded: Status.SUPERSEDED,
    Negotiation.Invalidated: Status.INVALIDATED,
}
"""The steps that do nothing to the state but set its status, and the status they set."""


def _apply(fold: _Fold, event: Negotiation.Event) -> None:
    step = _step(event)
    fold.steps.append(step)
    new_status: Status | None = None
    truce_running = fold.status is Status.TRUCE
    match event:
        case Negotiation.ContactMade():
            new_status = Status.EXPLORATORY if fold.status is Status.EXPLORATORY else None
        case Negotiation.PreconditionStated():
            fold.preconditions[event.event_id] = step
            new_status = Status.PRECONDITIONS if fold.status in EARLY else None
        case Negotiation.PreconditionMet():
            fold.preconditions.pop(event.precondition_event_id, None)
            if fold.status is Status.PRECONDITIONS and not fold.preconditions:
                new_status = Status.EXPLORATORY
        case Negotiation.TalksScheduled():
            new_status = Status.SCOPING if fold.status in EARLY else None
        case Negotiation.RoundHeld():
            fold.last_round = step
            fold.talks_held = True
            new_status = None if truce_running else Status.ROUNDS
        case Negotiation.ProposalTabled():
            fold.proposals.append(step)
            new_status = Status.ROUNDS if fold.status in EARLY else None
        case Negotiation.JointStatementIssued() | Negotiation.FrameworkAgreed():
            fold.talks_held = fold.something_agreed = True
            fold.agreements.append(step)
            fold.proposals.clear()
            if event.truce_ends_on is not None:
                fold.truce_ends_on = event.truce_ends_on
                fold.truce_steps.append(step)
                new_status = Status.TRUCE
            else:
                new_status = Status.FRAMEWORK
        case Negotiation.DealAnnounced():
            fold.talks_held = fold.something_agreed = True
            fold.agreements.append(step)
            fold.in_force_on = event.in_force_on or fold.in_force_on
            new_status = Status.FRAMEWORK
        case Negotiation.AgreementSigned():
            fold.something_agreed = True
            fold.agreements.append(step)
            fold.proposals.clear()
            fold.in_force_on = event.in_force_on
            new_status = Status.AGREEMENT_SIGNED
        case Negotiation.ImplementingActionTaken():
            fold.measure_ids.extend(event.measure_ids)
            settled = truce_running or fold.status is Status.AGREEMENT_SIGNED
            new_status = None if settled else Status.IMPLEMENTING
        case Negotiation.TruceExtended():
            fold.truce_ends_on = event.truce_ends_on
            fold.truce_steps.append(step)
            new_status = Status.TRUCE
        case Negotiation.ThreatIssued():
            fold.threats.append(step)
            new_status = Status.ESCALATION_THREATENED
        case _:  # a status alone, or none (concessions offered, developments reported)
            new_status = _SETS_STATUS.get(type(event))
    if new_status is not None:
        fold.status = new_status
        fold.status_step = step


def _ordered(events: Iterable[Negotiation.Event]) -> list[Negotiation.Event]:
    kept = list(events)
    corrected = {e.corrected_event_id for e in kept if isinstance(e, Negotiation.RecordCorrected)}
    kept = [e for e in kept if e.event_id not in corrected]
    # The opening comes first whatever its date: a step dated earlier but recorded later
    # must not be wiped out by it.
    return sorted(
        kept,
        key=lambda e: (not isinstance(e, Negotiation.Opened), e.occurred_on, e.originator_version),
    )


def fold_negotiation(
    negotiation_id: UUID, events: Iterable[Negotiation.Event], on: date
) -> NegotiationState:
    """The state on day `on` of a negotiation, from the events the caller chose to know about.

    The caller filters by `known_at` and `recorded_at`; this fold applies `on` and the
    corrections among the events given.
    """
    ordered = _ordered(events)
    title, parties = "", cast(tuple[str, ...], ())
    fold = _Fold()
    opened = True
    for event in ordered:
        if isinstance(event, Negotiation.Opened):
            title, parties = event.title, tuple(event.parties)
            opened = event.occurred_on <= on
        if event.occurred_on > on:
            continue
        _apply(fold, event)
    status = fold.status if opened or fold.steps else Status.NOT_YET_OPENED
    if status is Status.TRUCE and fold.truce_ends_on is not None and on >= fold.truce_ends_on:
        status = Status.TRUCE_EXPIRED
    agreed = (Status.AGREEMENT_SIGNED, Status.FRAMEWORK, Status.IMPLEMENTING)
    if status in agreed and fold.in_force_on and on >= fold.in_force_on:
        status = Status.IN_FORCE
    return NegotiationState(
        negotiation_id=negotiation_id,
        title=title,
        parties=parties,
        status=status,
        status_set_by=fold.status_step,
        open_preconditions=tuple(fold.preconditions.values()),
        last_round=fold.last_round,
        proposals_on_table=tuple(fold.proposals),
        agreements=tuple(fold.agreements),
        truce_ends_on=fold.truce_ends_on,
        truce_steps=tuple(fold.truce_steps),
        threats=tuple(fold.threats),
        implementing_measure_ids=tuple(fold.measure_ids),
        steps=tuple(fold.steps),
    )


def check_step(
    negotiation_id: UUID, history: Iterable[Negotiation.Event], step: Negotiation.Event
) -> None:
    """Refuse `step` if it cannot follow the state, folded from `history`, on its own day."""
    day = step.occurred_on
    fold = _Fold()
    for event in _ordered(history):
        if event.occurred_on <= day:
            _apply(fold, event)
    _check(fold, step, negotiation_id)
