"""Examples of every event, for the API documentation and the JSON Schema.

Examples reuse the event ids and dates of the seed timeline
(shared/data/tariff-timeline-2025.json) where it has such an event; the others have ids
starting with EXAMPLE- and an "illustrative" source.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

TALKS = "us-cn-trade-talks"


def examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


def official(citation: str, publisher: str = "The White House") -> list[dict[str, str]]:
    return [{"citation": citation, "publisher": publisher, "reliability": "official"}]


def press(citation: str, publisher: str) -> list[dict[str, str]]:
    return [{"citation": citation, "publisher": publisher, "reliability": "press"}]


BY = "analyst@example.org"
ILLUSTRATIVE = [
    {"citation": "illustrative example", "publisher": "tradeledger", "reliability": "unverified"}
]


def step(event_type: str, event_id: str, on: str, summary: str, **fields: Any) -> ConfigDict:
    """The example of a negotiation step, as reported by the press on the day."""
    return examples(
        {
            "type": event_type,
            "event_id": event_id,
            **fields,
            "summary": summary,
            "effective_on": on,
            "announced_at": on,
            "sources": press("https://www.reuters.com/world/", "Reuters"),
            "recorded_by": BY,
        }
    )
