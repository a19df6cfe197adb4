"""The JSON Schema of a dataset line, checked in beside the package."""

from __future__ import annotations

import json
from pathlib import Path

from eventschema import (
    DATASET_LINE,
    ID_RULE,
    MEASURE_EVENT_MODELS,
    NEGOTIATION_EVENT_MODELS,
    write_json_schema,
)

CHECKED_IN_SCHEMA = Path(__file__).resolve().parents[2] / "eventschema" / "events.schema.json"


def test_the_checked_in_json_schema_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "events.schema.json"

    write_json_schema(fresh)

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


def test_the_json_schema_states_the_identifier_rule_and_requires_an_event_id() -> None:
    schema = json.loads(CHECKED_IN_SCHEMA.read_text(encoding="utf-8"))
    line = schema["$defs"]["MeasureRateChangedLine"]

    assert ID_RULE in schema["description"]
    assert "event_id" in line["required"]
    assert ID_RULE in line["properties"]["event_id"]["description"]
    assert line["properties"]["event_id"]["maxLength"] == 200
