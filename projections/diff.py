"""What changed between two points in time, for a duty question, a measure or a negotiation.

Each answer is flattened into facets (a name, a value in words, the events behind it);
a change is a facet whose value differs, with the events that appear on one side only,
so an auditor sees old -> new and the events that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.negotiation_state import NegotiationState
from projections.answers import AsOf, DutyAnswer, MeasureState
from projections.evaluation import AppliedMeasure, SkippedMeasure
from projections.queries import Queries
from projections.timepoint import TimePoint

Facets = dict[str, tuple[str, frozenset[str]]]


@dataclass(frozen=True)
class Change:
    facet: str
    old: str | None
    new: str | None
    caused_by: tuple[str, ...]
    withdrawn: tuple[str, ...]


@dataclass(frozen=True)
class Diff:
    subject: str
    before: AsOf
    after: AsOf
    changes: tuple[Change, ...]


def duty_facets(answer: DutyAnswer) -> Facets:
    facets: Facets = {"total_additional_pct": (str(answer.total_additional_pct), frozenset())}
    items: list[AppliedMeasure | SkippedMeasure] = [*answer.applied, *answer.not_applied]
    for item in items:
        if isinstance(item, AppliedMeasure):
            text = f"applied at {item.rate_pct}%"
        else:
            text = f"not applied: {item.reason.value} ({item.detail})"
        facets[f"measure {item.key or item.measure_id}"] = (text, frozenset(item.events))
    return facets


def measure_facets(state: MeasureState) -> Facets:
    facets: Facets = {"status": (state.status, frozenset(state.status_events))}
    facets["charged_rate_pct"] = (str(state.charged_rate_pct), frozenset())
    for rate in state.rates:
        facets[f"rate {rate.hs_prefix or '*'}"] = (f"{rate.rate_pct}%", frozenset({rate.event_id}))
    for entry in state.coverage:
        facets[f"coverage {entry.hs_prefix or '*'}"] = (entry.state, frozenset({entry.event_id}))
    for entry in state.exclusions:
        facets[f"exclusion {entry.hs_prefix}"] = ("excluded", frozenset({entry.event_id}))
    for s in state.suspensions:
        points = "all points" if s.points is None else f"{s.points} points"
        events = {s.event_id} | ({s.extended_by} if s.extended_by else set())
        facets[f"suspension {s.event_id}"] = (
            f"{points} until {s.ends_on.isoformat()}",
            frozenset(events),
        )
    if state.legal_status is not None:
        facets["legal_status"] = (state.legal_status, frozenset({state.legal_status_event or ""}))
    for rule in state.precedence:
        facets[f"precedence {rule.event_id}"] = ("in force", frozenset({rule.event_id}))
    return facets


def negotiation_facets(state: NegotiationState) -> Facets:
    by = frozenset({state.status_set_by.event_id}) if state.status_set_by else frozenset()
    facets: Facets = {"status": (state.status.value, by)}
    for step in state.open_preconditions:
        facets[f"precondition {step.event_id}"] = (step.summary, frozenset({step.event_id}))
    if state.last_round is not None:
        r = state.last_round
        facets["last_round"] = (f"{r.occurred_on.isoformat()} {r.summary}", frozenset({r.event_id}))
    for step in state.proposals_on_table:
        facets[f"proposal {step.event_id}"] = (step.summary, frozenset({step.event_id}))
    for step in state.agreements:
        facets[f"agreement {step.event_id}"] = (step.summary, frozenset({step.event_id}))
    if state.truce_ends_on is not None:
        events = frozenset(s.event_id for s in state.truce_steps)
        facets["truce_ends_on"] = (state.truce_ends_on.isoformat(), events)
    return facets


def diff(subject: str, before: AsOf, after: AsOf, old: Facets, new: Facets) -> Diff:
    """Every facet whose value differs, with the events only one side relies on."""
    changes = []
    for facet in sorted(old.keys() | new.keys()):
        old_value, old_events = old.get(facet, (None, frozenset()))
        new_value, new_events = new.get(facet, (None, frozenset()))
        if old_value == new_value:
            continue
        changes.append(
            Change(
                facet=facet,
                old=old_value,
                new=new_value,
                caused_by=tuple(sorted(new_events - old_events)),
                withdrawn=tuple(sorted(old_events - new_events)),
            )
        )
    return Diff(subject, before, after, tuple(changes))


def duty_diff(
    queries: Queries,
    importer: str,
    origin: str,
    hs: str,
    first: TimePoint,
    second: TimePoint,
    min_position: int = 0,
) -> Diff:
    a = queries.duty_on(importer, origin, hs, at=first, min_position=min_position)
    b = queries.duty_on(importer, origin, hs, at=second, min_position=min_position)
    subject = f"duty {a.importer} on HS {hs} from {a.origin}"
    return diff(subject, a.as_of, b.as_of, duty_facets(a), duty_facets(b))


def measure_diff(
    queries: Queries, measure: str, first: TimePoint, second: TimePoint, min_position: int = 0
) -> Diff:
    a = queries.measure_state(measure, at=first, min_position=min_position)
    b = queries.measure_state(measure, at=second, min_position=min_position)
    return diff(f"measure {a.name}", a.as_of, b.as_of, measure_facets(a), measure_facets(b))


def negotiation_diff(
    queries: Queries, negotiation: str, first: TimePoint, second: TimePoint, min_position: int = 0
) -> Diff:
    a = queries.negotiation_state(negotiation, at=first, min_position=min_position)
    b = queries.negotiation_state(negotiation, at=second, min_position=min_position)
    return diff(
        f"negotiation {a.state.title}",
        a.as_of,
        b.as_of,
        negotiation_facets(a.state),
        negotiation_facets(b.state),
    )
