"""Calls of an aggregate's verbs: a public type of change makes calls of one verb, with
the verb's own keyword arguments, and applying a call calls the verb."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast
from uuid import uuid4

import pytest

from domain.measure import TariffMeasure
from domain.measure_changes import MEASURE_CHANGES, ChangeRate, MeasureChange
from tests.domain.test_measure import facts, impose_reciprocal


def test_a_verb_makes_a_call_of_its_kind_with_the_arguments_given() -> None:
    change = ChangeRate(facts("R", date(2025, 4, 9)), rate_pct=Decimal(20), hs_prefixes=("8703",))

    assert isinstance(change, MeasureChange)
    assert change.verb is ChangeRate
    assert change.arguments == {"rate_pct": Decimal(20), "hs_prefixes": ("8703",)}
    assert (change.event, change.event_type) == (TariffMeasure.RateChanged, "rate_changed")


def test_calls_with_the_same_verb_facts_and_arguments_are_equal() -> None:
    on = facts("R", date(2025, 4, 9))

    first = ChangeRate(on, rate_pct=Decimal(20), hs_prefixes=())
    second = ChangeRate(on, rate_pct=Decimal(20), hs_prefixes=())

    assert first == second
    assert first != ChangeRate(on, rate_pct=Decimal(25), hs_prefixes=())
    assert hash(first) == hash(second)


def test_applying_a_call_calls_its_verb_with_its_facts_and_arguments() -> None:
    measure = impose_reciprocal(uuid4())
    measure.collect_events()

    ChangeRate(facts("R", date(2025, 4, 9)), rate_pct=Decimal(20), hs_prefixes=()).apply_to(measure)

    (event,) = measure.collect_events()
    assert isinstance(event, TariffMeasure.RateChanged)
    assert (event.event_id, event.rate_pct, tuple(event.hs_prefixes)) == ("R", Decimal(20), ())


def test_a_verb_takes_its_arguments_by_keyword() -> None:
    positional = cast(Any, ChangeRate)

    with pytest.raises(TypeError, match="by keyword"):
        positional(facts("R", date(2025, 4, 9)), Decimal(20), ())


def test_a_call_shows_its_verb_and_arguments() -> None:
    change = ChangeRate(facts("R", date(2025, 4, 9)), rate_pct=Decimal(20), hs_prefixes=())

    assert repr(change).startswith("TariffMeasure.change_rate(Facts(event_id='R'")
    assert repr(change).endswith(", rate_pct=Decimal('20'), hs_prefixes=())")


def test_arguments_gathered_by_name_must_be_the_verb_s() -> None:
    on = facts("R", date(2025, 4, 9))

    with pytest.raises(TypeError, match=r"\['hs_prefixes', 'rate_pct'\], not \['rate_pct'\]"):
        ChangeRate.with_arguments(on, {"rate_pct": Decimal(20)})


def test_the_verbs_of_a_kind_of_stream_are_entered_by_the_type_of_their_event() -> None:
    assert MEASURE_CHANGES["rate_changed"] is ChangeRate
    assert (MEASURE_CHANGES.aggregate, MEASURE_CHANGES.call_class) == (TariffMeasure, MeasureChange)
