"""The public event schema: one model per domain event, strict input, exact domain output.

The models are written out by hand (for their documentation), so the first tests pin
them to the domain: same event types, same fields. The rest reads as the contract a
client relies on: what is accepted, how it is normalised, and how errors are named.
"""

from __future__ import annotations

import json
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import TypeAdapter, ValidationError

import eventschema as schema
from domain.commands import AppendChange, ImposeMeasure, MeasureTerms, OpenNegotiation
from domain.events import LedgerEvent, type_name
from domain.ledger import MEASURE, NEGOTIATION, stream_id_for_key
from domain.measure import TariffMeasure
from domain.measure_changes import MEASURE_CHANGES, ChangeRate, DeclarePrecedence
from domain.negotiation import Negotiation
from domain.negotiation_steps import NEGOTIATION_STEPS, TerminateNegotiation
from domain.values import Reliability
from eventschema import (
    DATASET_LINE,
    MEASURE_EVENT_MODELS,
    NEGOTIATION_EVENT_MODELS,
    EventIn,
    MeasureEvent,
    MeasureImposed,
    MeasureRateChanged,
    NegotiationEvent,
    describe_errors,
    measure_event_types,
    negotiation_event_types,
    to_batch_item,
)

SOURCES = [
    {"citation": "Executive Order 14228", "publisher": "The White House", "reliability": "official"}
]


def rate_changed(**fields: Any) -> dict[str, Any]:
    """A valid dataset line raising the fentanyl tariff, with `fields` changed."""
    line: dict[str, Any] = {
        "measure": "us-cn-fentanyl",
        "type": "rate_changed",
        "event_id": "US-CN-FENT-20",
        "rate_pct": "20",
        "effective_on": "2025-03-04",
        "announced_at": "2025-03-03",
        "sources": SOURCES,
        "recorded_by": "analyst@example.org",
    }
    line.update(fields)
    return {key: value for key, value in line.items() if value is not ...}


def imposed(**fields: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "measure": "us-cn-fentanyl",
        "type": "imposed",
        "event_id": "US-CN-FENT-10",
        "imposer": "us",
        "name": "IEEPA fentanyl tariff on China",
        "targets": ["cn"],
        "layer": "ieepa_fentanyl",
        "rate_pct": 10,
        "effective_on": "2025-02-04",
        "announced_at": "2025-02-01",
        "sources": SOURCES,
        "recorded_by": "analyst@example.org",
    }
    line.update(fields)
    return {key: value for key, value in line.items() if value is not ...}


def errors_of(data: object) -> str:
    with pytest.raises(ValidationError) as raised:
        DATASET_LINE.validate_python(data)
    return describe_errors(raised.value)


# -- the models mirror the domain --------------------------------------------------------


def test_measure_models_cover_exactly_the_measure_event_types() -> None:
    assert measure_event_types() == {"imposed", *MEASURE_CHANGES}


def test_negotiation_models_cover_exactly_the_negotiation_event_types() -> None:
    assert negotiation_event_types() == {"opened", *NEGOTIATION_STEPS}


def _domain_event_class(kind: str, event_type: str) -> type[LedgerEvent]:
    aggregate = TariffMeasure if kind == MEASURE else Negotiation
    (cls,) = (
        value
        for value in vars(aggregate).values()
        if isinstance(value, type)
        and issubclass(value, LedgerEvent)
        and value.__name__ not in ("Event",)
        and type_name(value) == event_type
    )
    return cls


def _own_fields(event_class: type[LedgerEvent]) -> set[str]:
    """The fields a client gives for this event, beyond the facts every event carries."""
    common = set(typing.get_type_hints(LedgerEvent)) | {"originator_topic"}
    return set(typing.get_type_hints(event_class)) - common


@pytest.mark.parametrize(
    "model", [*MEASURE_EVENT_MODELS, *NEGOTIATION_EVENT_MODELS], ids=lambda m: m.__name__
)
def test_each_model_has_the_fields_of_its_domain_event(model: type[EventIn]) -> None:
    kind = MEASURE if model in MEASURE_EVENT_MODELS else NEGOTIATION
    example = model.model_validate(_example(model))
    event_class = _domain_event_class(kind, example.type)

    assert set(example.event_fields()) == _own_fields(event_class)


@pytest.mark.parametrize(
    "model", [*MEASURE_EVENT_MODELS, *NEGOTIATION_EVENT_MODELS], ids=lambda m: m.__name__
)
def test_each_model_documents_its_fields_and_gives_an_example(model: type[EventIn]) -> None:
    undocumented = [name for name, f in model.model_fields.items() if not f.description]

    assert undocumented == []
    assert model.model_validate(_example(model)).type == _example(model)["type"]


def _example(model: type[Any]) -> dict[str, Any]:
    examples: list[dict[str, Any]] = model.model_config["json_schema_extra"]["examples"]
    return examples[0]


def test_every_dataset_line_example_converts_to_a_batch_item() -> None:
    line_models = [*schema._MEASURE_LINE_MODELS, *schema._NEGOTIATION_LINE_MODELS]

    for line_model in line_models:
        line = DATASET_LINE.validate_python(_example(line_model))

        item = to_batch_item(line)

        assert type(line).__name__ == line_model.__name__
        if isinstance(item, AppendChange):
            assert item.change.event_type == line.__dict__["type"]


# -- what is accepted, and how it is normalised ------------------------------------------


def test_a_rate_change_becomes_a_domain_change_on_the_keyed_measure() -> None:
    item = to_batch_item(DATASET_LINE.validate_python(rate_changed(hs_prefixes=["8517.13"])))

    assert isinstance(item, AppendChange)
    assert (item.kind, item.stream_id) == (MEASURE, stream_id_for_key(MEASURE, "us-cn-fentanyl"))
    facts = item.change.facts
    assert item.change == ChangeRate(facts, rate_pct=Decimal("20"), hs_prefixes=("851713",))
    assert facts.event_id == "US-CN-FENT-20"
    assert facts.effective_on == date(2025, 3, 4)
    assert facts.announced_at == datetime(2025, 3, 3, tzinfo=UTC)
    assert facts.provenance.sources[0].reliability is Reliability.OFFICIAL
    assert facts.provenance.recorded_by == "analyst@example.org"


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


def test_a_stream_named_by_uuid_is_used_as_is() -> None:
    measure_id = UUID("6f1e5a4e-0000-4000-8000-000000000001")

    item = to_batch_item(DATASET_LINE.validate_python(imposed(measure=measure_id.hex)))

    assert isinstance(item, ImposeMeasure)
    assert (item.measure_id, item.key) == (measure_id, "")


def test_opening_a_negotiation_gives_the_open_command() -> None:
    line = {
        "negotiation": "us-uk-trade-talks",
        "type": "opened",
        "title": "US-UK trade talks",
        "parties": ["us", "gb"],
        "summary": "Talks on a trade deal start.",
        "effective_on": None,
        "announced_at": "2025-04-03T14:00:00+01:00",
        "sources": SOURCES,
        "recorded_by": "analyst@example.org",
    }

    item = to_batch_item(DATASET_LINE.validate_python(line))

    assert isinstance(item, OpenNegotiation)
    assert item.negotiation_id == stream_id_for_key(NEGOTIATION, "us-uk-trade-talks")
    assert (item.key, item.parties, item.title) == (
        "us-uk-trade-talks",
        ("US", "GB"),
        line["title"],
    )
    assert item.facts.announced_at == datetime(2025, 4, 3, 13, 0, tzinfo=UTC)


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


def test_an_announcement_date_means_midnight_utc() -> None:
    line = DATASET_LINE.validate_python(rate_changed(announced_at="2025-03-03"))

    assert isinstance(line, MeasureRateChanged)
    assert line.announced_at == datetime(2025, 3, 3, tzinfo=UTC)


def test_an_announcement_with_an_offset_is_converted_to_utc() -> None:
    line = DATASET_LINE.validate_python(rate_changed(announced_at="2025-04-11T21:00:00-04:00"))

    assert isinstance(line, MeasureRateChanged)
    assert line.announced_at == datetime(2025, 4, 12, 1, 0, tzinfo=UTC)


def test_an_announcement_without_a_time_zone_is_refused() -> None:
    message = errors_of(rate_changed(announced_at="2025-04-11T21:00:00"))

    assert message.startswith("announced_at: ")
    assert "no time zone" in message


@pytest.mark.parametrize("given", [1741046400, "2025-03-04T00:00:00", "04/03/2025", "2025-02-30"])
def test_a_business_date_is_written_yyyy_mm_dd(given: object) -> None:
    assert errors_of(rate_changed(effective_on=given)).startswith("effective_on: ")


def test_an_event_without_an_id_gets_a_fresh_one_at_conversion() -> None:
    line = DATASET_LINE.validate_python(rate_changed(event_id=...))

    first, second = to_batch_item(line), to_batch_item(line)

    assert isinstance(first, AppendChange)
    assert isinstance(second, AppendChange)
    assert len(first.change.facts.event_id) == 32
    assert first.change.facts.event_id != second.change.facts.event_id


def test_measures_named_in_precedence_are_stored_as_ids() -> None:
    line = rate_changed(
        type="precedence_declared",
        rate_pct=...,
        displaces_measure_ids=["us-ca-fentanyl", "6f1e5a4e-0000-4000-8000-000000000001"],
        displaces_layers=["section_232_steel"],
    )

    item = to_batch_item(DATASET_LINE.validate_python(line))

    assert isinstance(item, AppendChange)
    assert isinstance(item.change, DeclarePrecedence)
    assert item.change.displaces_measure_ids == (
        stream_id_for_key(MEASURE, "us-ca-fentanyl").hex,
        "6f1e5a4e000040008000000000000001",
    )


def test_terminated_means_a_measure_or_a_negotiation_by_the_stream_named() -> None:
    common = rate_changed(type="terminated", rate_pct=..., measure=...)

    measure_item = to_batch_item(DATASET_LINE.validate_python({**common, "measure": "m"}))
    negotiation_item = to_batch_item(
        DATASET_LINE.validate_python({**common, "negotiation": "n", "summary": "The talks end."})
    )

    assert isinstance(measure_item, AppendChange)
    assert isinstance(negotiation_item, AppendChange)
    assert (measure_item.kind, negotiation_item.kind) == (MEASURE, NEGOTIATION)
    assert negotiation_item.change == TerminateNegotiation(
        negotiation_item.change.facts, summary="The talks end."
    )


def test_the_event_unions_discriminate_on_type() -> None:
    measure_event = TypeAdapter(MeasureEvent).validate_python(rate_changed(measure=...))
    negotiation_event = TypeAdapter(NegotiationEvent).validate_python(
        {**rate_changed(measure=..., rate_pct=...), "type": "talks_resumed", "summary": "s"}
    )

    assert isinstance(measure_event, MeasureRateChanged)
    assert negotiation_event.type == "talks_resumed"


# -- what is refused, and how the error names the field ----------------------------------


REFUSED = {
    "unknown-type": (
        rate_changed(type="rate_raised"),
        "type: unknown event type 'rate_raised' for a measure; expected one of 'imposed', ",
    ),
    "no-type": (rate_changed(type=...), "type: Field required"),
    "missing-field": (rate_changed(announced_at=...), "announced_at: Field required"),
    "rate-not-a-number": (
        rate_changed(rate_pct="abc"),
        "rate_pct: Input should be a valid decimal (got 'abc')",
    ),
    "bad-reliability": (
        rate_changed(sources=[{**SOURCES[0], "reliability": "gov"}]),
        "sources.0.reliability: Input should be 'official', 'law_firm', 'press' or "
        "'unverified' (got 'gov')",
    ),
    "no-source": (rate_changed(sources=[]), "sources: List should have at least 1 item"),
    "bad-hs-prefix": (rate_changed(hs_prefixes=["85x"]), "hs_prefixes.0: '85x' is not an HS"),
    "extra-field": (rate_changed(surprise=1), "surprise: Extra inputs are not permitted"),
    "no-stream": (rate_changed(measure=...), "a line names its stream with exactly one of"),
    "two-streams": (rate_changed(negotiation="n"), "a line names its stream with exactly one"),
    "bad-stream": (rate_changed(measure="a key!"), "measure: 'a key!' is neither a UUID nor"),
    "bad-country": (imposed(targets=["XX"]), "targets.0: 'XX' is not an ISO 3166 alpha-2"),
    "no-rate": (imposed(rate_pct=None), "give rate_pct, rate_by_prefix, or both"),
    "key-disagrees": (
        imposed(key="other"),
        "key 'other' differs from the measure 'us-cn-fentanyl' this line names",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_errors_name_the_field_without_pydantic_union_tags(case: str) -> None:
    line, expected = REFUSED[case]

    assert errors_of(line).startswith(expected)


def test_several_errors_fit_on_one_line() -> None:
    message = errors_of(rate_changed(rate_pct="x", effective_on="x", announced_at="x", note=1))

    assert "\n" not in message
    assert message.endswith("; and 1 more")


# -- the JSON Schema ----------------------------------------------------------------------

CHECKED_IN_SCHEMA = Path(__file__).resolve().parent.parent / "eventschema" / "events.schema.json"


def test_the_checked_in_json_schema_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "events.schema.json"

    schema.write_json_schema(fresh)

    assert CHECKED_IN_SCHEMA.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
        "eventschema/events.schema.json is stale: run `python -m eventschema`"
    )


def test_the_json_schema_gives_an_example_for_every_line_type() -> None:
    definitions = json.loads(CHECKED_IN_SCHEMA.read_text(encoding="utf-8"))["$defs"]
    line_definitions = {name: d for name, d in definitions.items() if name.endswith("Line")}

    assert len(line_definitions) == len(MEASURE_EVENT_MODELS) + len(NEGOTIATION_EVENT_MODELS)
    for definition in line_definitions.values():
        for example in definition["examples"]:
            DATASET_LINE.validate_python(example)


def test_a_line_model_is_both_its_event_and_a_line() -> None:
    line = DATASET_LINE.validate_python(imposed())

    assert isinstance(line, MeasureImposed)
    assert isinstance(line, schema.MeasureLine)
    assert line.stream_key == "us-cn-fentanyl"
