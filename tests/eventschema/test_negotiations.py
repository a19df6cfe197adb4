"""The events of a negotiation: what is accepted, and how it is normalised."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.commands import OpenNegotiation
from domain.ledger import NEGOTIATION, stream_id_for_key
from domain.negotiation_steps import NEGOTIATION_STEPS
from eventschema import DATASET_LINE, negotiation_event_types, to_batch_item
from tests.eventschema.support import SOURCES


def test_negotiation_models_cover_exactly_the_negotiation_event_types() -> None:
    assert negotiation_event_types() == {"opened", *NEGOTIATION_STEPS}


def test_opening_a_negotiation_gives_the_open_command() -> None:
    line = {
        "negotiation": "us-uk-trade-talks",
        "type": "opened",
        "event_id": "US-UK-TALKS",
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
