"""The commands of the write side: a change is named by the kind of its stream and the
public type of its event, as clients name it; an unknown name is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.commands import AppendChange, change_type
from domain.errors import UnknownEventType
from domain.events import Facts
from domain.ledger import MEASURE, NEGOTIATION
from domain.measure_changes import ChangeRate, TerminateMeasure
from domain.negotiation_steps import ResumeTalks, TerminateNegotiation
from domain.values import Provenance, Reliability, Source

FACTS = Facts(
    "EVT",
    date(2025, 5, 1),
    datetime(2025, 5, 1, tzinfo=UTC),
    Provenance((Source("https://example.org", "Example", Reliability.PRESS),), "analyst"),
)


def test_a_change_is_named_by_the_kind_of_its_stream_and_its_event_type() -> None:
    assert change_type(MEASURE, "rate_changed") is ChangeRate
    assert change_type(MEASURE, "terminated") is TerminateMeasure
    assert change_type(NEGOTIATION, "terminated") is TerminateNegotiation


@pytest.mark.parametrize("event_type", ["imposed", "round_held", "rate_increased", ""])
def test_an_unknown_measure_event_type_is_refused(event_type: str) -> None:
    with pytest.raises(UnknownEventType) as raised:
        change_type(MEASURE, event_type)

    assert raised.value.event_type == event_type
    assert raised.value.rule == "unknown_event_type"


@pytest.mark.parametrize("event_type", ["opened", "rate_changed", "talks_started"])
def test_an_unknown_negotiation_step_type_is_refused(event_type: str) -> None:
    with pytest.raises(UnknownEventType) as raised:
        change_type(NEGOTIATION, event_type)

    assert raised.value.event_type == event_type


def test_a_change_must_be_named_with_a_kind_of_stream() -> None:
    with pytest.raises(ValueError, match="kind must be"):
        change_type("tariff", "terminated")


def test_an_append_is_to_the_kind_of_stream_of_its_change() -> None:
    to_a_measure = AppendChange(uuid4(), ChangeRate(FACTS, rate_pct=Decimal(1), hs_prefixes=()))
    to_talks = AppendChange(uuid4(), ResumeTalks(FACTS, summary="talks resume"))

    assert (to_a_measure.kind, to_talks.kind) == (MEASURE, NEGOTIATION)
