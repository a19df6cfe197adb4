"""Dataset lines: an event plus its stream, and the batch item it becomes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from domain.commands import AppendChange
from domain.ledger import MEASURE, NEGOTIATION, stream_id_for_key
from domain.measure_changes import ChangeRate
from domain.negotiation_steps import TerminateNegotiation
from domain.values import Reliability
from eventschema import DATASET_LINE, LINE_MODELS, MeasureImposed, MeasureLine, to_batch_item
from tests.eventschema.support import example_of, imposed, rate_changed


def test_every_dataset_line_example_converts_to_a_batch_item() -> None:
    for line_model in LINE_MODELS:
        line = DATASET_LINE.validate_python(example_of(line_model))

        item = to_batch_item(line)

        assert type(line).__name__ == line_model.__name__
        if isinstance(item, AppendChange):
            assert item.change.event_type == line.__dict__["type"]


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


def test_a_line_model_is_both_its_event_and_a_line() -> None:
    line = DATASET_LINE.validate_python(imposed())

    assert isinstance(line, MeasureImposed)
    assert isinstance(line, MeasureLine)
    assert line.stream_key == "us-cn-fentanyl"
