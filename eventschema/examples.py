"""The example of every event type, for the API documentation and the JSON Schema: data,
kept in `examples.json` beside this module (package data).

Each event model shows the example of its type, each dataset line model the same example
with the stream it names (`LINE_STREAMS`). Examples reuse the event ids and dates of the
seed timeline (data/sources/tariff-timeline-2025.json) where it has such an event; the
others have ids starting with EXAMPLE- and an "illustrative" source.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

EVENT_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = json.loads(
    resources.files(__package__).joinpath("examples.json").read_text(encoding="utf-8")
)
"""The example of each event type, by the kind of its stream, then by type."""

MEASURE_EXAMPLES: dict[str, dict[str, Any]] = EVENT_EXAMPLES["measure"]
"""The example of each measure event type, by type."""

NEGOTIATION_EXAMPLES: dict[str, dict[str, Any]] = EVENT_EXAMPLES["negotiation"]
"""The example of each negotiation event type, by type."""


LINE_STREAMS: dict[str, str] = {"measure": "us-cn-fentanyl", "negotiation": "us-cn-trade-talks"}
"""The stream a dataset line names in its example, by kind, unless STORY_STREAMS has another."""

STORY_STREAMS: dict[tuple[str, str], str] = {
    # (kind, event type): the stream whose story the example tells.
    ("measure", "exclusion_granted"): "us-cn-reciprocal",
    ("measure", "exclusion_revoked"): "us-cn-reciprocal",
    ("measure", "suspension_granted"): "us-cn-reciprocal",
    ("measure", "suspension_extended"): "us-cn-reciprocal",
    ("measure", "scope_changed"): "us-steel-232",
    ("measure", "precedence_declared"): "us-auto-232",
    ("measure", "legal_status_changed"): "us-cn-reciprocal",
    ("negotiation", "proposal_tabled"): "us-uk-trade-talks",
    ("negotiation", "deal_announced"): "us-uk-trade-talks",
    ("negotiation", "agreement_signed"): "us-uk-trade-talks",
    ("negotiation", "talks_postponed"): "us-in-trade-talks",
    ("negotiation", "talks_resumed"): "us-in-trade-talks",
    ("negotiation", "talks_suspended"): "us-ca-trade-talks",
    ("negotiation", "superseded"): "us-cn-trade-talks",
}
