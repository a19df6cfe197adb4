"""Evaluate measures on a day D from the facts visible at (known_at, recorded_at).

The caller (the SQL views) hands over only rows announced by `known_at`, recorded by
`recorded_at` and not retracted by then; this module applies the effective day and
the combination rules of DOMAIN.md:
  - within a measure a later rate replaces an earlier one (latest effective date wins,
    ties broken by record position); the longest matching HS prefix with a rate wins;
  - a product is in scope when the longest prefix with a coverage fact says covered,
    and excluded when an exclusion at an equal or longer prefix is in force;
  - suspensions remove points from `starts` until the day before their end, the end
    being the latest extension known; the rate snaps back by itself afterwards;
  - across measures rates add, except where a precedence rule of a measure that
    applies displaces another measure or a whole layer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.values import ALL_PRODUCTS, prefixes_of
from projections.facts import (
    LATEST_PER_KEY_KINDS,
    START_UNKNOWN,
    FactRow,
    MeasureDescription,
    MeasureRow,
)


class Reason(StrEnum):
    """Why a measure of the schedule did not apply to a product on a day."""

    NOT_YET_EFFECTIVE = "not_yet_effective"
    TERMINATED = "terminated"
    COLLECTION_STOPPED = "collection_stopped"
    ORIGIN_EXCLUDED = "origin_excluded"
    OUT_OF_SCOPE = "out_of_scope"
    EXCLUDED = "excluded"
    NO_RATE = "no_rate"
    SUSPENDED = "suspended"
    DISPLACED = "displaced"


@dataclass(frozen=True)
class ActiveSuspension:
    event_id: str
    points: Decimal | None
    starts_on: date
    ends_on: date
    extended_by: str | None


@dataclass(frozen=True)
class EvaluatedMeasure:
    """The measure of the schedule that an evaluation for a product is about."""

    measure_id: UUID
    key: str
    name: str
    layer: str


@dataclass(frozen=True)
class AppliedMeasure(EvaluatedMeasure):
    """A measure that charged the product: its rate after suspensions, and why."""

    rate_pct: Decimal
    scheduled_rate_pct: Decimal
    events: tuple[str, ...]
    suspensions: tuple[ActiveSuspension, ...] = ()
    effective_date_unknown: bool = False


@dataclass(frozen=True)
class SkippedMeasure(EvaluatedMeasure):
    """A measure of the schedule that did not charge the product, with the reason and events."""

    reason: Reason
    detail: str
    events: tuple[str, ...]
    until: date | None = None


@dataclass
class _Facts:
    """The facts of one measure, indexed for evaluation on one day."""

    latest: dict[tuple[str, str], FactRow] = field(default_factory=dict)
    terminated: list[FactRow] = field(default_factory=list)
    suspensions: list[FactRow] = field(default_factory=list)
    extensions: dict[str, FactRow] = field(default_factory=dict)
    precedence: list[FactRow] = field(default_factory=list)


def _later(a: FactRow, b: FactRow | None) -> bool:
    return b is None or (a.occurred_on, a.position) > (b.occurred_on, b.position)


def index_facts(facts: Iterable[FactRow], on: date) -> _Facts:
    """Keep, per kind, what can matter on `on` (see projections.facts for the kinds)."""
    indexed = _Facts()
    for fact in facts:
        if fact.kind == "extension":
            current = indexed.extensions.get(fact.key)
            if current is None or (fact.announced_at, fact.position) > (
                current.announced_at,
                current.position,
            ):
                indexed.extensions[fact.key] = fact
            continue
        if fact.occurred_on > on:
            continue
        if fact.kind in LATEST_PER_KEY_KINDS:
            slot = (fact.kind, fact.key)
            if _later(fact, indexed.latest.get(slot)):
                indexed.latest[slot] = fact
        elif fact.kind == "terminated":
            indexed.terminated.append(fact)
        elif fact.kind == "suspension":
            indexed.suspensions.append(fact)
        elif fact.kind == "precedence":
            indexed.precedence.append(fact)
    # The rows come in whatever order the query plan returns them, which a rebuild (new
    # indexes, fresh statistics) may change: these lists are listed in answers, so each
    # is put in the order it took effect, the log position breaking ties.
    for kept in (indexed.terminated, indexed.suspensions, indexed.precedence):
        kept.sort(key=_in_effect_order)
    return indexed


def _in_effect_order(fact: FactRow) -> tuple[date, int]:
    return fact.occurred_on, fact.position


def active_suspensions(indexed: _Facts, on: date) -> list[ActiveSuspension]:
    active = []
    for fact in indexed.suspensions:
        extension = indexed.extensions.get(fact.event_id)
        assert fact.ends_on is not None
        ends_on = extension.ends_on if extension and extension.ends_on else fact.ends_on
        if fact.occurred_on <= on < ends_on:
            active.append(
                ActiveSuspension(
                    event_id=fact.event_id,
                    points=fact.rate_pct,
                    starts_on=fact.occurred_on,
                    ends_on=ends_on,
                    extended_by=extension.event_id if extension else None,
                )
            )
    return active


def _longest(indexed: _Facts, kind: str, prefixes: Sequence[str]) -> FactRow | None:
    for prefix in prefixes:
        fact = indexed.latest.get((kind, prefix))
        if fact is not None:
            return fact
    return None


def _skip(
    m: MeasureRow, reason: Reason, detail: str, events: Sequence[str], until: date | None = None
) -> SkippedMeasure:
    return SkippedMeasure(
        m.measure_id, m.key, m.name, m.layer, reason, detail, tuple(events), until
    )


def evaluate_measure(
    measure: MeasureRow, facts: Iterable[FactRow], origin: str, hs: str, on: date
) -> AppliedMeasure | SkippedMeasure:
    """Does `measure` charge product `hs` (digits) from `origin` on `on`, and at what rate?"""
    if origin in measure.excluded_targets:
        return _skip(
            measure,
            Reason.ORIGIN_EXCLUDED,
            f"{origin} is excluded from the targets",
            [measure.event_id],
        )
    if measure.occurred_on > on:
        return _skip(
            measure,
            Reason.NOT_YET_EFFECTIVE,
            f"in force from {measure.occurred_on.isoformat()}",
            [measure.event_id],
            until=measure.occurred_on,
        )
    indexed = index_facts(facts, on)
    if indexed.terminated:
        first = min(indexed.terminated, key=lambda f: (f.occurred_on, f.position))
        return _skip(
            measure,
            Reason.TERMINATED,
            f"terminated from {first.occurred_on.isoformat()}",
            [first.event_id],
        )
    legal = indexed.latest.get(("legal", ""))
    if legal is not None and legal.state == "stops":
        return _skip(
            measure,
            Reason.COLLECTION_STOPPED,
            f"{legal.detail}: not collected from {legal.occurred_on.isoformat()}",
            [legal.event_id],
        )
    prefixes = prefixes_of(hs)
    coverage = _longest(indexed, "coverage", prefixes)
    if coverage is None or coverage.state != "covered":
        events = [coverage.event_id] if coverage else [measure.event_id]
        return _skip(
            measure, Reason.OUT_OF_SCOPE, "the product is not in the measure's scope", events
        )
    exclusion = _longest(indexed, "exclusion", prefixes)
    if (
        exclusion is not None
        and exclusion.state == "excluded"
        and len(exclusion.key) >= len(coverage.key)
    ):
        detail = f"HS {exclusion.key or '*'} excluded from {exclusion.occurred_on.isoformat()}"
        if exclusion.detail == START_UNKNOWN:
            detail += " (its effective date is unknown: the announcement day is assumed)"
        return _skip(measure, Reason.EXCLUDED, detail, [exclusion.event_id])
    rate = _longest(indexed, "rate", prefixes)
    if rate is None or rate.rate_pct is None:
        return _skip(
            measure, Reason.NO_RATE, "no rate is set for this product", [coverage.event_id]
        )
    return _charge(measure, indexed, coverage, rate, rate.rate_pct, on)


def _charge(
    measure: MeasureRow,
    indexed: _Facts,
    coverage: FactRow,
    rate: FactRow,
    rate_pct: Decimal,
    on: date,
) -> AppliedMeasure | SkippedMeasure:
    """The rate a measure that covers the product charges on `on`, after suspensions."""
    suspensions = active_suspensions(indexed, on)
    suspended = Decimal(0)
    for suspension in suspensions:
        suspended += rate_pct if suspension.points is None else suspension.points
    charged = max(rate_pct - suspended, Decimal(0))
    events = list(dict.fromkeys([measure.event_id, coverage.event_id, rate.event_id]))
    for suspension in suspensions:
        events.append(suspension.event_id)
        if suspension.extended_by:
            events.append(suspension.extended_by)
    if suspensions and charged == 0:
        until = min(s.ends_on for s in suspensions)
        return _skip(
            measure, Reason.SUSPENDED, f"suspended until {until.isoformat()}", events, until=until
        )
    return AppliedMeasure(
        measure_id=measure.measure_id,
        key=measure.key,
        name=measure.name,
        layer=measure.layer,
        rate_pct=charged,
        scheduled_rate_pct=rate_pct,
        events=tuple(events),
        suspensions=tuple(suspensions),
        effective_date_unknown=not measure.effective_known,
    )


@dataclass(frozen=True)
class _Rule:
    measure: MeasureRow
    fact: FactRow
    measures: frozenset[str]
    layers: frozenset[str]


def _rules(measure: MeasureRow, facts: Iterable[FactRow], hs: str, on: date) -> list[_Rule]:
    rules = []
    prefixes = set(prefixes_of(hs))
    for fact in facts:
        if fact.kind != "precedence" or fact.occurred_on > on:
            continue
        detail = json.loads(fact.detail)
        covered = detail["hs_prefixes"]
        if covered and not prefixes.intersection(covered) and ALL_PRODUCTS not in covered:
            continue
        rules.append(
            _Rule(measure, fact, frozenset(detail["measures"]), frozenset(detail["layers"]))
        )
    return rules


def evaluate_duty(
    measures: Sequence[MeasureRow],
    facts_by_measure: dict[UUID, list[FactRow]],
    origin: str,
    hs: str,
    on: date,
) -> tuple[list[AppliedMeasure], list[SkippedMeasure]]:
    """Evaluate every measure of a schedule, then let precedence rules displace others."""
    results = {
        m.measure_id: evaluate_measure(m, facts_by_measure.get(m.measure_id, []), origin, hs, on)
        for m in measures
    }
    by_id = {m.measure_id: m for m in measures}
    rules: list[_Rule] = []
    for measure_id, result in results.items():
        in_force_and_in_scope = (
            isinstance(result, AppliedMeasure) or result.reason is Reason.SUSPENDED
        )
        if in_force_and_in_scope:
            rules += _rules(by_id[measure_id], facts_by_measure.get(measure_id, []), hs, on)
    # The first rule that displaces a measure names it: the earliest in effect.
    rules.sort(key=lambda r: _in_effect_order(r.fact))
    applied: list[AppliedMeasure] = []
    skipped: list[SkippedMeasure] = []
    for measure_id, result in results.items():
        if isinstance(result, AppliedMeasure):
            measure = by_id[measure_id]
            rule = next(
                (
                    r
                    for r in rules
                    if r.measure.measure_id != measure_id
                    and (
                        measure_id.hex in r.measures
                        or str(measure_id) in r.measures
                        or measure.key in r.measures
                        or measure.layer in r.layers
                    )
                ),
                None,
            )
            if rule is None:
                applied.append(result)
                continue
            detail = f"displaced by precedence rule {rule.fact.event_id} of {rule.measure.name}"
            skipped.append(_skip(measure, Reason.DISPLACED, detail, [rule.fact.event_id]))
        else:
            skipped.append(result)
    applied.sort(key=listing_order)
    skipped.sort(key=listing_order)
    return applied, skipped


def listing_order(measure: EvaluatedMeasure | MeasureDescription) -> tuple[str, str, str, str]:
    """How answers list measures: by layer and name, then key and id (which are unique),
    so that two measures alike in layer and name are still listed the same way every time."""
    return measure.layer, measure.name, measure.key, str(measure.measure_id)
