"""The JSON Schema of a dataset line, and the checked-in copy of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eventschema.lines import DATASET_LINE
from eventschema.values import ID_RULE

SCHEMA_ID = "https://tradeledger.example/schema/events.schema.json"
SCHEMA_PATH = Path(__file__).resolve().parent / "events.schema.json"
"""The checked-in JSON Schema (in a source checkout); `python -m eventschema` rewrites it."""


def dataset_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one dataset line."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "tradeledger dataset line",
        "description": (
            "One line of a tradeledger dataset file (JSON Lines): an event of a tariff "
            "measure or of a negotiation, plus exactly one of 'measure' or 'negotiation' "
            "naming its stream by key or UUID. Lines are applied in order; a file is "
            "recorded entirely or not at all, and loading it again adds nothing "
            "(events are matched by event_id: a line whose id is recorded with the same "
            "content is skipped, with other content refused). Every line carries its "
            "event_id. Identifiers (event_id, the event ids a line refers to, layer, "
            f"status) follow one rule. {ID_RULE}"
        ),
        **DATASET_LINE.json_schema(),
    }


def write_json_schema(path: Path | str) -> None:
    """Write the dataset line schema (stable output, so the checked-in copy can be diffed)."""
    text = json.dumps(dataset_json_schema(), indent=2, ensure_ascii=False) + "\n"
    Path(path).write_text(text, encoding="utf-8")
