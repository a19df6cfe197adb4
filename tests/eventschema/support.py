"""Dataset lines for the schema tests: valid ones, changed a field at a time."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from eventschema import DATASET_LINE, EventIn, describe_errors

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


def example_of(model: type[EventIn]) -> dict[str, Any]:
    return model.schema_examples()[0]
