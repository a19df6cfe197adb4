"""A measure's state on a day, from its row and the facts visible at the point asked."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from projections.answers import AsOf, MeasureState, PrecedenceRule, RateInForce, ScopeEntry
from projections.evaluation import ActiveSuspension, active_suspensions, index_facts
from projections.facts import FactRow, MeasureRow, description_of


def measure_state(row: MeasureRow, facts: Sequence[FactRow], point: AsOf) -> MeasureState:
    """The state of the measure `row` on `point.on`, from `facts` (read as of `point`)."""
    indexed = index_facts(facts, point.on)
    latest = indexed.latest
    rates = sorted(
        (
            RateInForce(k, f.rate_pct, f.occurred_on, f.event_id)
            for (kind, k), f in latest.items()
            if kind == "rate" and f.rate_pct is not None
        ),
        key=lambda r: r.hs_prefix,
    )
    coverage = sorted(
        (
            ScopeEntry(k, f.state, f.occurred_on, f.event_id)
            for (kind, k), f in latest.items()
            if kind == "coverage"
        ),
        key=lambda s: s.hs_prefix,
    )
    exclusions = sorted(
        (
            ScopeEntry(k, f.state, f.occurred_on, f.event_id)
            for (kind, k), f in latest.items()
            if kind == "exclusion" and f.state == "excluded"
        ),
        key=lambda s: s.hs_prefix,
    )
    suspensions = active_suspensions(indexed, point.on)
    legal = latest.get(("legal", ""))
    status, status_events = "in_force", [row.event_id]
    if row.occurred_on > point.on:
        status = "not_yet_effective"
    elif indexed.terminated:
        status, status_events = "terminated", [f.event_id for f in indexed.terminated]
    elif legal is not None and legal.state == "stops":
        status, status_events = "collection_stopped", [legal.event_id]
    return MeasureState(
        **description_of(row),
        as_of=point,
        status=status,
        status_events=tuple(status_events),
        rates=tuple(rates),
        charged_rate_pct=_charged(rates, suspensions) if status == "in_force" else None,
        coverage=tuple(coverage),
        exclusions=tuple(exclusions),
        suspensions=tuple(suspensions),
        legal_status=legal.detail if legal else None,
        legal_status_event=legal.event_id if legal else None,
        precedence=tuple(_precedence(indexed.precedence)),
        imposed_event=row.event_id,
        effective_from=row.occurred_on,
    )


def _charged(
    rates: Sequence[RateInForce], suspensions: Sequence[ActiveSuspension]
) -> Decimal | None:
    """The general rate less the points suspended (None without a general rate)."""
    general = next((r for r in rates if r.hs_prefix == ""), None)
    if general is None:
        return None
    suspended = sum(
        (general.rate_pct if s.points is None else s.points for s in suspensions), Decimal(0)
    )
    return max(general.rate_pct - suspended, Decimal(0))


def _precedence(facts: Sequence[FactRow]) -> list[PrecedenceRule]:
    rules = []
    for fact in facts:
        detail = json.loads(fact.detail)
        rules.append(
            PrecedenceRule(
                fact.event_id,
                fact.occurred_on,
                tuple(detail["measures"]),
                tuple(detail["layers"]),
                tuple(detail["hs_prefixes"]),
            )
        )
    return rules
