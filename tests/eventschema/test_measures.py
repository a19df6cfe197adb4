"""The events of a measure: what is accepted, and how it is normalised."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.commands import AppendChange, ImposeMeasure, MeasureTerms
from domain.ledger import MEASURE, stream_id_for_key
from domain.measure_changes import MEASURE_CHANGES, DeclarePrecedence
from eventschema import DATASET_LINE, MeasureRateChanged, measure_event_types, to_batch_item
from tests.eventschema.support import errors_of, imposed, rate_changed


def test_measure_models_cover_exactly_the_measure_event_types() -> None:
    assert measure_event_types() == {"imposed", *MEASURE_CHANGES}


def test_imposing_a_measure_normalises_codes_and_takes_the_key_of_its_stream() -> None:
    line = imposed(
        measure="US-CN-Fentanyl",
        hs_prefixes=["*"],
        excluded_hs_prefixes=["9503.00.00"],
        rate_by_prefix={"8703.80": "100"},
    )

    item = to_batch_item(DATASET_LINE.validate_python(line))

    assert isinstance(item, ImposeMeasure)
    assert item == ImposeMeasure(
        measure_id=stream_id_for_key(MEASURE, "us-cn-fentanyl"),
        key="us-cn-fentanyl",
        facts=item.facts,
        terms=MeasureTerms(
            imposer="US",
            name="IEEPA fentanyl tariff on China",
            targets=("CN",),
            layer="ieepa_fentanyl",
            rate_pct=Decimal("10"),
            rate_by_prefix={"870380": Decimal("100")},
            hs_prefixes=("",),
            excluded_hs_prefixes=("95030000",),
        ),
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("7.5", Decimal("7.5")),
        (Decimal("0.1"), Decimal("0.1")),
        (0.1, Decimal("0.1")),
        (125, Decimal(125)),
    ],
)
def test_a_rate_is_an_exact_decimal_from_a_number_or_a_numeric_string(
    given: object, expected: Decimal
) -> None:
    line = MeasureRateChanged.model_validate({**rate_changed(measure=...), "rate_pct": given})

    assert line.rate_pct == expected
    assert isinstance(line.rate_pct, Decimal)


@pytest.mark.parametrize("given", [True, "NaN", float("inf"), "-Infinity", -1, "ten", None])
def test_a_rate_must_be_a_finite_non_negative_number(given: object) -> None:
    assert errors_of(rate_changed(rate_pct=given)).startswith("rate_pct: ")


def test_measures_named_in_precedence_are_stored_as_ids() -> None:
    line = rate_changed(
        type="precedence_declared",
        rate_pct=...,
        displaces_measure_ids=["us-ca-fentanyl", "6f1e5a4e-0000-4000-8000-000000000001"],
        displaces_layers=["section_232_steel"],
    )

    item = to_batch_item(DATASET_LINE.validate_python(line))

    assert isinstance(item, AppendChange)
    assert item.change.verb is DeclarePrecedence
    assert item.change.arguments["displaces_measure_ids"] == (
        stream_id_for_key(MEASURE, "us-ca-fentanyl").hex,
        "6f1e5a4e000040008000000000000001",
    )
