"""Idempotency-Key: a retried write returns the first response and records nothing more.

Keys live in the store, written in the same transaction as the events they protect.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError, StoredEvent

from api.main import create_app
from api.models import WrittenPublic
from api.settings import Settings
from domain.commands import Written
from domain.idempotency import IDEMPOTENCY_NAMESPACE, IdempotencyClaim, IdempotencyRecord
from domain.ledger import MEASURE, stream_id_for_key
from eventschema import MeasureImposed, MeasureRateChanged
from tests.api.conftest import (
    KEYS,
    WRITER,
    MakeClient,
    TestClient,
    bearer,
    event,
    fentanyl,
    talks,
)
from tests.conftest import durable
from tradeledger.bootstrap import Services, open_services
from tradeledger.settings import parse_database_url

APPEND = "/v1/measures/us-cn-fentanyl/events"


def rate(event_id: str, rate_pct: Any) -> dict[str, Any]:
    return event("rate_changed", event_id, "2025-03-04", rate_pct=rate_pct)


def keyed(key: str, **headers: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **headers}


def high_water(client: TestClient) -> int:
    value = client.get("/v1/events", params={"limit": 1}).json()["high_water"]
    assert isinstance(value, int)
    return value


def log_entries(client: TestClient) -> list[tuple[str, int]]:
    events = client.get("/v1/events", params={"limit": 1000}).json()["events"]
    return [(e["data"]["event_id"], e["version"]) for e in events]


def test_a_retry_returns_the_first_response_and_records_nothing(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())
    first = client.post(APPEND, json=rate("A", 20), headers=keyed("k-1"))
    logged = log_entries(client)

    retry = client.post(APPEND, json=rate("A", 20), headers=keyed("k-1"))

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["ETag"] == first.headers["ETag"] == '"2"'
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert log_entries(client) == logged == [("US-CN-FENT-10", 1), ("A", 2)]


def test_a_retried_creation_returns_the_first_response(client: TestClient) -> None:
    first = client.post("/v1/negotiations", json=talks(), headers=keyed("open-talks"))

    retry = client.post("/v1/negotiations", json=talks(), headers=keyed("open-talks"))

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert log_entries(client) == [("US-CN-TALKS", 1)]


def test_a_creation_without_a_key_is_retried_onto_the_same_fresh_id(client: TestClient) -> None:
    body = {k: v for k, v in fentanyl().items() if k != "key"}

    first = client.post("/v1/measures", json=body, headers=keyed("anonymous-measure"))
    retry = client.post("/v1/measures", json=body, headers=keyed("anonymous-measure"))

    assert retry.json()["stream_id"] == first.json()["stream_id"]
    assert len(log_entries(client)) == 1


def test_a_retry_after_the_stream_moved_on_still_returns_the_first_response(
    client: TestClient,
) -> None:
    client.post("/v1/measures", json=fentanyl())
    first = client.post(APPEND, json=rate("A", 20), headers=keyed("k", **{"If-Match": '"1"'}))
    client.post(APPEND, json=rate("B", 30))

    retry = client.post(APPEND, json=rate("A", 20), headers=keyed("k", **{"If-Match": '"1"'}))

    assert retry.status_code == 201
    assert retry.json() == first.json()


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        (APPEND, rate("A", 25), {}),
        ("/v1/measures/us-cn-reciprocal/events", rate("A", 20), {}),
        (APPEND, rate("A", 20), {"If-Match": '"1"'}),
        ("/v1/negotiations", talks(), {}),
    ],
)
def test_the_same_key_for_another_request_is_refused(
    client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> None:
    client.post("/v1/measures", json=fentanyl())
    client.post(APPEND, json=rate("A", 20), headers=keyed("k-1"))
    logged = log_entries(client)

    response = client.post(path, json=body, headers=keyed("k-1", **headers))

    assert response.status_code == 422
    assert response.json()["rule"] == "idempotency_key_reused"
    assert log_entries(client) == logged


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve".encode()])
def test_a_key_that_is_not_visible_ascii_is_refused(client: TestClient, key: str | bytes) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post(APPEND, json=rate("A", 20), headers={"Idempotency-Key": key})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert len(log_entries(client)) == 1


@durable
def test_keys_survive_a_restart(client: TestClient, services: Services) -> None:
    client.post("/v1/measures", json=fentanyl())
    first = client.post(APPEND, json=rate("A", 20), headers=keyed("before-restart"))
    reopened = open_services(parse_database_url(services.config.url))

    try:
        with TestClient(create_app(reopened, Settings.with_keys(KEYS))) as restarted:
            retry = restarted.post(
                APPEND, json=rate("A", 20), headers={**keyed("before-restart"), **bearer(WRITER)}
            )
    finally:
        reopened.close()

    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(log_entries(client)) == 2


def test_concurrent_duplicates_append_once_and_answer_alike(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())

    def send(_: int) -> Any:
        return client.post(APPEND, json=rate("A", 20), headers=keyed("race"))

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(send, range(8)))

    assert {r.status_code for r in responses} == {201}
    assert len({r.text for r in responses}) == 1
    assert [r.headers.get("Idempotent-Replayed") for r in responses].count(None) == 1
    assert log_entries(client) == [("US-CN-FENT-10", 1), ("A", 2)]


def test_the_key_is_written_in_the_same_insert_as_the_events(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post("/v1/measures", json=fentanyl())
    recorder = services.ledger.recorder
    inserts: list[list[StoredEvent]] = []
    insert_events = recorder.insert_events

    def spy(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        inserts.append(list(stored_events))
        return insert_events(stored_events, **kwargs)

    monkeypatch.setattr(recorder, "insert_events", spy)

    client.post(APPEND, json={"events": [rate("A", 20), rate("B", 30)]}, headers=keyed("one"))

    [stored] = inserts
    assert [e.topic.rsplit(".", 1)[-1] for e in stored] == [
        "RateChanged",
        "RateChanged",
        "Recorded",
    ]
    assert stored[-1].topic == f"{IdempotencyRecord.__module__}:IdempotencyRecord.Recorded"


def test_a_failed_write_records_neither_events_nor_key(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post("/v1/measures", json=fentanyl())
    recorder = services.ledger.recorder
    insert_events = recorder.insert_events
    failures = [OperationalError("the connection was lost")]

    def fail_once(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return insert_events(stored_events, **kwargs)

    monkeypatch.setattr(recorder, "insert_events", fail_once)

    failed = client.post(APPEND, json=rate("A", 20), headers=keyed("flaky"))
    after_failure = log_entries(client)
    retry = client.post(APPEND, json=rate("A", 20), headers=keyed("flaky"))

    assert failed.status_code == 503
    assert failed.headers["content-type"] == "application/problem+json"
    assert after_failure == [("US-CN-FENT-10", 1)]
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert log_entries(client) == [("US-CN-FENT-10", 1), ("A", 2)]


def test_an_answer_lost_after_the_commit_is_given_on_retry(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(raise_server_exceptions=False)
    client.headers.update(bearer(WRITER))
    client.post("/v1/measures", json=fentanyl())
    answer = WrittenPublic.of
    lost = [RuntimeError("the process died before answering")]

    def lose_once(written: Any) -> Any:
        if lost:
            raise lost.pop()
        return answer(written)

    monkeypatch.setattr(WrittenPublic, "of", lose_once)

    crashed = client.post(APPEND, json=rate("A", 20), headers=keyed("lost"))
    retry = client.post(APPEND, json=rate("A", 20), headers=keyed("lost"))

    assert crashed.status_code == 500
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["events"] == [{"event_id": "A", "version": 2, "position": 2}]
    assert log_entries(client) == [("US-CN-FENT-10", 1), ("A", 2)]


def test_keys_are_not_events_of_the_log_nor_of_the_read_models(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl(), headers=keyed("k-1"))
    client.post(APPEND, json=rate("A", 20), headers=keyed("k-2"))

    page = client.get("/v1/events").json()
    measure = client.get("/v1/measures/us-cn-fentanyl", params={"on": "2025-06-01"})

    assert [e["position"] for e in page["events"]] == [1, 3]
    assert page["high_water"] == 4
    assert page["next_after"] == 4
    assert measure.json()["charged_rate_pct"] == 20
    assert measure.json()["position"] == 4
    assert str(IDEMPOTENCY_NAMESPACE) not in str(page)


def test_a_duplicate_that_commits_first_answers_the_other(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the store decides: both requests miss the key, both try to save; the one
    that loses on the unique (id, version) constraint answers with the winner's result."""
    ledger = services.ledger
    ledger.create_stream(MeasureImposed.model_validate(fentanyl()).to_command())
    measure_id = stream_id_for_key(MEASURE, "us-cn-fentanyl")
    change = MeasureRateChanged.model_validate(rate("A", 20)).to_change()
    claim = IdempotencyClaim("race", "the same request")
    replay = ledger.receipts.replay
    raced = threading.Event()
    winner: list[Written] = []

    def miss_the_key_while_the_duplicate_commits(claim: IdempotencyClaim) -> Any:
        if not raced.is_set():  # the duplicate commits between this look-up and the save
            raced.set()
            winner.append(ledger.append_to_stream(measure_id, [change], claim=claim))
            return None
        return replay(claim)

    monkeypatch.setattr(ledger.receipts, "replay", miss_the_key_while_the_duplicate_commits)

    loser = ledger.append_to_stream(measure_id, [change], claim=claim)

    assert loser.replayed and not winner[0].replayed
    assert loser.events == winner[0].events
    recorded = [getattr(e, "event_id", None) for e in ledger.events.get(measure_id)]
    assert recorded == ["US-CN-FENT-10", "A"]
