"""The dataset files against the timeline they record, and against the public schema.

Every fact of the timeline is recorded by at least one event, whose event_id is the
fact's id, or the fact's id, a slash and a suffix when one fact yields several events.
Every event maps back to a fact, or is one of the few seed events listed below.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from eventschema import DATASET_LINE, describe_errors
from tests.data.conftest import dataset_files, dataset_lines, timeline

DERIVED_EVENTS: dict[str, str] = {
    "SEED-2025-04-US-CN-BACK-CHANNEL": (
        "The seed report of late April 2025 says the US discreetly reached out to Chinese "
        "officials; the timeline has no fact for it (it only lists the report's other claims)."
    ),
    "SEED-2025-04-CN-PRECONDITION": (
        "The seed report says China wants 'meaningful measures' first; no timeline fact. "
        "US-CN-GENEVA-TALKS/precondition-met refers to it."
    ),
}
"""Dataset events that carry no timeline fact, with the reason they are in the dataset."""


def fact_of(event_id: str, fact_ids: set[str]) -> str | None:
    """The timeline fact an event carries: its own id, or the part before the first '/'."""
    if event_id in fact_ids:
        return event_id
    head = event_id.split("/", 1)[0]
    return head if "/" in event_id and head in fact_ids else None


def events_by_fact() -> dict[str, list[dict[str, Any]]]:
    fact_ids = {fact["event_id"] for fact in timeline()}
    grouped: dict[str, list[dict[str, Any]]] = {fact_id: [] for fact_id in fact_ids}
    for line in dataset_lines():
        fact_id = fact_of(line["event_id"], fact_ids)
        if fact_id is not None:
            grouped[fact_id].append(line)
    return grouped


def test_the_timeline_has_the_54_facts_the_dataset_records() -> None:
    facts = timeline()

    assert len(facts) == 54
    assert len({fact["event_id"] for fact in facts}) == 54


def test_the_dataset_is_split_into_us_measures_chinese_measures_and_negotiations() -> None:
    names = [path.name for path in dataset_files()]

    assert names == ["cn-measures.jsonl", "negotiations.jsonl", "us-measures.jsonl"]


@pytest.mark.parametrize("fact_id", sorted(fact["event_id"] for fact in timeline()))
def test_every_timeline_fact_is_recorded_by_at_least_one_event(fact_id: str) -> None:
    assert events_by_fact()[fact_id], f"no dataset event carries {fact_id}"


def test_every_dataset_event_maps_back_to_a_fact_or_is_an_allowed_seed_event() -> None:
    fact_ids = {fact["event_id"] for fact in timeline()}

    orphans = [
        line["event_id"]
        for line in dataset_lines()
        if fact_of(line["event_id"], fact_ids) is None and line["event_id"] not in DERIVED_EVENTS
    ]

    assert orphans == []


def test_every_allowed_derived_event_is_in_the_dataset() -> None:
    event_ids = {line["event_id"] for line in dataset_lines()}

    assert set(DERIVED_EVENTS) <= event_ids


@pytest.mark.parametrize("path", dataset_files(), ids=lambda path: path.name)
def test_every_line_validates_against_the_public_schema(path: Path) -> None:
    errors = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            DATASET_LINE.validate_json(text)
        except ValidationError as error:
            errors.append(f"line {number}: {describe_errors(error)}")

    assert errors == []


def test_event_ids_are_unique_within_each_stream() -> None:
    streams = Counter(
        (line.get("measure") or line.get("negotiation"), line["event_id"])
        for line in dataset_lines()
    )

    assert [key for key, count in streams.items() if count > 1] == []


def test_an_event_with_the_facts_own_id_keeps_the_facts_dates() -> None:
    """announced_on -> announced_at (a date), effective_on -> effective_on, unchanged."""
    facts = {fact["event_id"]: fact for fact in timeline()}
    mismatches = [
        (line["event_id"], line["announced_at"], line["effective_on"])
        for line in dataset_lines()
        if line["event_id"] in facts
        and (
            line["announced_at"] != facts[line["event_id"]]["announced_on"]
            or line["effective_on"] != facts[line["event_id"]]["effective_on"]
        )
    ]

    assert mismatches == []


@pytest.mark.parametrize(
    "fact_id",
    sorted(fact["event_id"] for fact in timeline() if fact["expires_on"]),
)
def test_a_facts_expiry_is_recorded_as_an_end_date(fact_id: str) -> None:
    """expires_on -> a suspension's ends_on, a `terminated` event's effective_on, or a truce end."""
    expires_on = next(f["expires_on"] for f in timeline() if f["event_id"] == fact_id)
    ends = {
        line.get("ends_on") or line.get("truce_ends_on") or line["effective_on"]
        for line in events_by_fact()[fact_id]
        if line["type"] in ("suspension_granted", "suspension_extended", "terminated")
    }

    assert expires_on in ends


@pytest.mark.parametrize(
    "fact_id",
    sorted(
        fact["event_id"]
        for fact in timeline()
        if fact["kind"] in ("threat", "report")
        or (fact["kind"] == "negotiation" and fact["effective_on"] is None)
    ),
)
def test_threats_reports_and_talks_are_negotiation_events_never_measure_events(
    fact_id: str,
) -> None:
    kinds = {
        "measure" if "measure" in line else "negotiation" for line in events_by_fact()[fact_id]
    }

    assert kinds == {"negotiation"}


@pytest.mark.parametrize("fact_id", sorted(fact["event_id"] for fact in timeline()))
def test_every_source_of_a_fact_is_cited_by_the_events_recording_it(fact_id: str) -> None:
    """recorded_source and additional_sources, split at ' ; ' (an event may cite more)."""
    fact = next(f for f in timeline() if f["event_id"] == fact_id)
    expected = {
        part.strip()
        for source in [fact["recorded_source"], *fact["additional_sources"]]
        for part in source.split(" ; ")
    }

    for line in events_by_fact()[fact_id]:
        assert {source["citation"] for source in line["sources"]} >= expected, line["event_id"]


@pytest.mark.parametrize("fact_id", sorted(fact["event_id"] for fact in timeline()))
def test_source_reliability_follows_the_facts_confidence(fact_id: str) -> None:
    """Low confidence: every source unverified. Official only with a government text."""
    fact = next(f for f in timeline() if f["event_id"] == fact_id)

    for line in events_by_fact()[fact_id]:
        reliabilities = {source["reliability"] for source in line["sources"]}
        if fact["confidence"] == "low":
            assert reliabilities == {"unverified"}, line["event_id"]
        if "official" in reliabilities:
            assert fact["confidence"] == "high" or any(
                "govinfo.gov" in source["citation"] for source in line["sources"]
            ), line["event_id"]


def test_every_event_carries_a_note_for_auditors() -> None:
    assert [line["event_id"] for line in dataset_lines() if not line["note"].strip()] == []


def test_unofficial_chinese_exemptions_have_no_known_start_and_no_official_source() -> None:
    exemptions = [
        line
        for line in dataset_lines()
        if line["event_id"] in ("CN-US-QUIET-EXEMPTIONS", "CN-US-ETHANE-WAIVER")
    ]

    assert len(exemptions) == 2
    for line in exemptions:
        assert line["type"] == "exclusion_granted"
        assert line["effective_on"] is None
        assert {s["reliability"] for s in line["sources"]} <= {"press", "unverified"}
        assert "UNOFFICIAL" in line["note"]
