"""The typed changes of a measure: each public change type names one change, and each
change calls the verb of TariffMeasure that records the event of that type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.events import Facts
from domain.measure import TariffMeasure
from domain.measure_changes import (
    MEASURE_CHANGES,
    ChangeLegalStatus,
    ChangeRate,
    ChangeScope,
    CorrectMeasureRecord,
    DeclarePrecedence,
    ExtendSuspension,
    GrantExclusion,
    GrantSuspension,
    MeasureChange,
    RevokeExclusion,
    TerminateMeasure,
)
from tests.domain.test_measure import facts, impose_reciprocal

EXAMPLES: dict[str, Callable[[Facts], MeasureChange]] = {
    "rate_changed": lambda f: ChangeRate(f, rate_pct=Decimal("20"), hs_prefixes=()),
    "scope_changed": lambda f: ChangeScope(f, added_hs_prefixes=("8703",), removed_hs_prefixes=()),
    "exclusion_granted": lambda f: GrantExclusion(f, hs_prefixes=("851713",)),
    "exclusion_revoked": lambda f: RevokeExclusion(f, hs_prefixes=("851713",)),
    "suspension_granted": lambda f: GrantSuspension(
        f, points=Decimal("24"), ends_on=date(2026, 1, 1)
    ),
    "suspension_extended": lambda f: ExtendSuspension(
        f, suspension_event_id="SUSP", ends_on=date(2026, 1, 1)
    ),
    "terminated": lambda f: TerminateMeasure(f),
    "precedence_declared": lambda f: DeclarePrecedence(
        f, displaces_measure_ids=(), displaces_layers=("section_301",), hs_prefixes=()
    ),
    "legal_status_changed": lambda f: ChangeLegalStatus(
        f, status="ruled_unlawful", collection_stops=True
    ),
    "record_corrected": lambda f: CorrectMeasureRecord(f, corrected_event_id="SUSP", reason="typo"),
}
"""A valid change of each public type, on a measure with a suspension `SUSP`."""


@pytest.fixture
def measure() -> TariffMeasure:
    """The reciprocal measure with a suspension granted (SUSP), saved."""
    measure = impose_reciprocal(uuid4())
    measure.grant_suspension(
        facts("SUSP", date(2025, 5, 14)), points=Decimal("24"), ends_on=date(2025, 8, 12)
    )
    measure.collect_events()
    return measure


def test_the_public_change_types_are_those_of_a_measure_s_events_after_imposed() -> None:
    assert set(MEASURE_CHANGES) == {
        "rate_changed",
        "scope_changed",
        "exclusion_granted",
        "exclusion_revoked",
        "suspension_granted",
        "suspension_extended",
        "terminated",
        "precedence_declared",
        "legal_status_changed",
        "record_corrected",
    }


@pytest.mark.parametrize("change_type", sorted(MEASURE_CHANGES))
def test_each_change_records_the_event_its_public_type_names(
    measure: TariffMeasure, change_type: str
) -> None:
    change = EXAMPLES[change_type](facts(f"EVT-{change_type}", date(2025, 9, 1)))

    change.apply_to(measure)

    (event,) = measure.collect_events()
    assert change.verb is MEASURE_CHANGES[change_type]
    assert type(event) is change.event
    assert change.event_type == change_type
    assert measure.event_types[f"EVT-{change_type}"] == change_type
