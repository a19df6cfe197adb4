"""The global event log: CloudEvents pages in commit order, followed by a cursor."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.commands import ImposeMeasure, MeasureTerms
from domain.events import Facts
from domain.ledger import MEASURE, NEGOTIATION, stream_id_for_key
from domain.values import Provenance, Reliability, Source
from eventschema import MEASURE_EVENT_MODELS, NEGOTIATION_EVENT_MODELS
from storage.bell import LogBell
from storage.eventlog import EventLog, LogFilter, parse_event_types
from tests.api.conftest import TestClient, event, fentanyl, seed_us_china, talks
from tests.conftest import durable
from tradeledger.bootstrap import Services, open_ledger

FENTANYL_ID = stream_id_for_key(MEASURE, "us-cn-fentanyl")
TALKS_ID = stream_id_for_key(NEGOTIATION, "us-cn-trade-talks")


def page(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_events_are_cloudevents_in_commit_order(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())
    client.post("/v1/negotiations", json=talks())
    client.post(
        "/v1/measures/us-cn-fentanyl/events",
        json=event("rate_changed", "US-CN-FENT-20", "2025-03-04", rate_pct="20"),
    )

    events = page(client)["events"]

    assert [(e["position"], e["type"]) for e in events] == [
        (1, "tradeledger.measure.imposed"),
        (2, "tradeledger.negotiation.opened"),
        (3, "tradeledger.measure.rate_changed"),
    ]
    rate_changed = events[2]
    assert {k: v for k, v in rate_changed.items() if k not in ("time", "data")} == {
        "specversion": "1.0",
        "id": f"{FENTANYL_ID}/2",
        "source": f"/v1/measures/{FENTANYL_ID}",
        "type": "tradeledger.measure.rate_changed",
        "subject": str(FENTANYL_ID),
        "datacontenttype": "application/json",
        "position": 3,
        "version": 2,
        "effectivedate": "2025-03-04",
        "announcedat": "2025-03-04T00:00:00Z",
        "streamkind": "measure",
        "streamkey": "us-cn-fentanyl",
    }
    assert datetime.fromisoformat(rate_changed["time"]).tzinfo is not None
    assert rate_changed["data"] == {
        "type": "rate_changed",
        "event_id": "US-CN-FENT-20",
        "effective_on": "2025-03-04",
        "announced_at": "2025-03-04T00:00:00Z",
        "rate_pct": 20,
        "hs_prefixes": [],
        "sources": [
            {
                "citation": "Executive Order 14257",
                "publisher": "The White House",
                "reliability": "official",
            }
        ],
        "recorded_by": "analyst@example.org",
        "note": "",
    }


def test_the_data_of_every_event_is_a_valid_event_of_the_public_schema(
    client: TestClient,
) -> None:
    seed_us_china(client)
    models = {
        f"tradeledger.{kind}.{model.model_json_schema()['properties']['type']['const']}": model
        for kind, group in (
            (MEASURE, MEASURE_EVENT_MODELS),
            (NEGOTIATION, NEGOTIATION_EVENT_MODELS),
        )
        for model in group
    }

    events = page(client, limit=1000)["events"]

    assert len(events) == 11
    for cloud_event in events:
        recorded = models[cloud_event["type"]].model_validate(cloud_event["data"])
        assert recorded.event_id == cloud_event["data"]["event_id"]


def test_an_event_of_unknown_effective_date_has_no_effectivedate(client: TestClient) -> None:
    client.post("/v1/negotiations", json={**talks(), "effective_on": None})

    [opened] = page(client)["events"]

    assert "effectivedate" not in opened
    assert opened["data"]["effective_on"] is None


def test_a_cursor_pages_through_the_log(client: TestClient) -> None:
    seed_us_china(client)

    first = client.get("/v1/events", params={"limit": 5})
    second = page(client, after=first.json()["next_after"], limit=100)

    assert [e["position"] for e in first.json()["events"]] == [1, 2, 3, 4, 5]
    assert first.json()["next_after"] == 5
    assert first.json()["high_water"] == 11
    assert first.headers["Link"] == '</v1/events?after=5>; rel="next"'
    assert [e["position"] for e in second["events"]] == list(range(6, 12))
    assert (second["next_after"], second["high_water"]) == (11, 11)


def test_reading_past_the_end_waits_at_the_cursor(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())

    beyond = page(client, after=40)

    assert beyond == {"events": [], "next_after": 40, "high_water": 1}


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (["rate_changed"], {"US-CN-FENT-20", "US-CN-RECIP-84", "US-CN-RECIP-125",
                            "US-CN-GENEVA-34"}),
        (["measure.imposed", "tradeledger.negotiation.opened"],
         {"US-CN-FENT-10", "US-CN-RECIP-34", "US-CN-TALKS"}),
        (["suspension_granted"], {"US-CN-GENEVA"}),
    ],
)  # fmt: skip
def test_events_filtered_by_type(client: TestClient, types: list[str], expected: set[str]) -> None:
    seed_us_china(client)

    body = page(client, type=types)

    assert {e["data"]["event_id"] for e in body["events"]} == expected
    assert body["next_after"] == body["high_water"] == 11


@pytest.mark.parametrize("stream", ["us-cn-trade-talks", "US-CN-TRADE-TALKS", str(TALKS_ID)])
def test_events_filtered_by_stream(client: TestClient, stream: str) -> None:
    seed_us_china(client)

    body = page(client, stream=stream)

    assert [e["data"]["event_id"] for e in body["events"]] == [
        "US-CN-TALKS",
        "GENEVA-ROUND",
        "GENEVA-STATEMENT",
    ]
    assert {e["subject"] for e in body["events"]} == {str(TALKS_ID)}


def test_filters_combine(client: TestClient) -> None:
    seed_us_china(client)

    body = page(client, stream="us-cn-reciprocal", type=["rate_changed", "imposed"], limit=2)

    assert [e["data"]["event_id"] for e in body["events"]] == ["US-CN-RECIP-34", "US-CN-RECIP-84"]
    assert body["next_after"] == 4


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"type": "rate_raised"}, "query.type", "'rate_raised' is not an event type"),
        ({"type": "measure.opened"}, "query.type", "is not an event type"),
        ({"stream": "shared"}, "query.stream", "is the key of a measure and of a negotiation"),
        ({"after": "-1"}, "query.after", "greater than or equal to 0"),
        ({"limit": "0"}, "query.limit", "greater than or equal to 1"),
        ({"limit": "5000"}, "query.limit", "less than or equal to 1000"),
    ],
)
def test_a_bad_filter_is_refused_naming_the_parameter(
    client: TestClient, params: dict[str, str], field: str, says: str
) -> None:
    client.post("/v1/measures", json={**fentanyl(), "key": "shared"})
    client.post("/v1/negotiations", json={**talks(), "key": "shared"})

    response = client.get("/v1/events", params=params)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert says in error["message"]


@pytest.mark.parametrize(
    ("stream", "says"),
    [("us-xx-nothing", "no measure or negotiation has the key"), (str(UUID(int=7)), "no stream")],
)
def test_a_filter_naming_no_stream_is_not_found(client: TestClient, stream: str, says: str) -> None:
    """Like a stream in the path: a well-formed reference to nothing is a 404."""
    response = client.get("/v1/events", params={"stream": stream})

    assert response.status_code == 404
    assert response.json()["rule"] == "stream_not_found"
    assert says in response.json()["detail"]


def test_a_follower_misses_nothing_while_four_writers_append(client: TestClient) -> None:
    """Gap-free under concurrent writers: every acknowledged event is read exactly once,
    in position order, by a reader that only ever reads after its cursor."""
    for n in range(4):
        client.post("/v1/measures", json={**fentanyl(), "key": f"m-{n}", "event_id": f"I-{n}"})
    start = page(client)["high_water"]
    acknowledged: list[int] = []
    done = threading.Event()

    def write(n: int) -> None:
        for i in range(12):
            body = event("rate_changed", f"W{n}-{i}", "2025-03-04", rate_pct=i)
            response = client.post(f"/v1/measures/m-{n}/events", json=body)
            assert response.status_code == 201
            acknowledged.extend(e["position"] for e in response.json()["events"])

    def follow() -> list[int]:
        seen: list[int] = []
        cursor = start
        while True:
            finished = done.is_set()
            body = page(client, after=cursor, limit=7)
            seen += [e["position"] for e in body["events"]]
            cursor = body["next_after"]
            if finished and cursor == body["high_water"]:
                return seen

    with ThreadPoolExecutor(max_workers=5) as pool:
        follower = pool.submit(follow)
        writers = [pool.submit(write, n) for n in range(4)]
        for writer in writers:
            writer.result()
        done.set()
        seen = follower.result()

    assert len(acknowledged) == 48
    assert seen == sorted(acknowledged)


# -- the service behind it --------------------------------------------------------------


def test_a_scan_stops_at_its_limit_and_the_cursor_moves_on(
    client: TestClient, services: Services
) -> None:
    seed_us_china(client)
    log = EventLog(services.ledger, page_size=3, scan_limit=4)
    only_opened = LogFilter(event_types=parse_event_types(["opened"]))

    first = log.read(0, 10, LogFilter(stream_id=TALKS_ID))
    by_topic = log.read(0, 10, only_opened)

    assert (first.entries, first.next_after, first.high_water) == ((), 4, 11)
    assert [e.event_id for e in by_topic.entries] == ["US-CN-TALKS"]
    assert by_topic.caught_up


def test_every_entry_can_be_listed_page_by_page(client: TestClient, services: Services) -> None:
    seed_us_china(client)
    log = EventLog(services.ledger, page_size=4)

    entries = list(log.entries(after=2))
    limited = list(log.entries(after=2, limit=5))

    assert [e.position for e in entries] == list(range(3, 12))
    assert [e.position for e in limited] == [3, 4, 5, 6, 7]
    assert entries[0].key == "us-cn-reciprocal"
    assert entries[0].full_type == "tradeledger.measure.imposed"


def test_the_bell_rings_when_the_log_grows(client: TestClient, services: Services) -> None:
    bell = LogBell(services.ledger)
    rang = threading.Event()
    bell.add(rang.set)
    try:
        assert rang.wait(5)  # rung once when the subscription starts
        rang.clear()

        client.post("/v1/measures", json=fentanyl())

        assert rang.wait(5)
    finally:
        bell.close()
    assert bell._thread is not None and not bell._thread.is_alive()


@durable
def test_the_bell_rings_for_a_commit_made_by_another_ledger_on_the_store(
    services: Services,
) -> None:
    bell = LogBell(services.ledger)
    rang = threading.Event()
    bell.add(rang.set)
    other = open_ledger(services.config)  # as another process writes: its own connections
    try:
        assert rang.wait(5)
        rang.clear()

        other.create_stream(ImposeMeasure(
            measure_id=stream_id_for_key(MEASURE, "written-elsewhere"),
            key="written-elsewhere",
            facts=Facts("ELSEWHERE-1", date(2025, 3, 4), datetime(2025, 3, 1, tzinfo=UTC),
                        Provenance((Source("EO 14257", "The White House",
                                           Reliability.OFFICIAL),), "tests")),
            terms=MeasureTerms("US", "Written elsewhere", ("CN",), "elsewhere",
                               rate_pct=Decimal(5)),
        ))  # fmt: skip

        assert rang.wait(5)
    finally:
        other.close()
        bell.close()
