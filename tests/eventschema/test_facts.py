"""What every event model carries, and how the models mirror the domain's events.

The models are written out by hand (for their documentation), so these tests pin them
to the domain: same event types, same fields.
"""

from __future__ import annotations

import typing

import pytest
from pydantic import TypeAdapter

from domain.events import LedgerEvent, type_name
from domain.ledger import MEASURE, NEGOTIATION
from domain.measure import TariffMeasure
from domain.negotiation import Negotiation
from eventschema import (
    MEASURE_EVENT_MODELS,
    NEGOTIATION_EVENT_MODELS,
    EventIn,
    MeasureEvent,
    MeasureRateChanged,
    NegotiationEvent,
)
from tests.eventschema.support import errors_of, example_of, rate_changed


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
    example = model.model_validate(example_of(model))
    event_class = _domain_event_class(kind, example.type)

    assert set(example.event_fields()) == _own_fields(event_class)


@pytest.mark.parametrize(
    "model", [*MEASURE_EVENT_MODELS, *NEGOTIATION_EVENT_MODELS], ids=lambda m: m.__name__
)
def test_each_model_documents_its_fields_and_gives_anexample_of(model: type[EventIn]) -> None:
    undocumented = [name for name, f in model.model_fields.items() if not f.description]

    assert undocumented == []
    assert model.model_validate(example_of(model)).type == example_of(model)["type"]


def test_a_dataset_line_without_an_id_is_refused() -> None:
    message = errors_of(rate_changed(event_id=...))

    assert message.startswith("event_id: Field required: a dataset line carries its event_id")


def test_an_http_body_without_an_id_gets_a_fresh_one_at_conversion() -> None:
    body = TypeAdapter(MeasureEvent).validate_python(rate_changed(measure=..., event_id=...))

    first, second = body.to_facts(), body.to_facts()

    assert len(first.event_id) == 32
    assert first.event_id != second.event_id


def test_the_event_unions_discriminate_on_type() -> None:
    measure_event = TypeAdapter(MeasureEvent).validate_python(rate_changed(measure=...))
    negotiation_event = TypeAdapter(NegotiationEvent).validate_python(
        {**rate_changed(measure=..., rate_pct=...), "type": "talks_resumed", "summary": "s"}
    )

    assert isinstance(measure_event, MeasureRateChanged)
    assert negotiation_event.type == "talks_resumed"
