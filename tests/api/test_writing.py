"""Writing through the API: create streams, append one event or a batch, safely."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest

from domain.ledger import MEASURE, NEGOTIATION, stream_id_for_key
from eventschema import MeasureImposed, NegotiationOpened
from tests.api.conftest import (
    TestClient,
    event,
    example,
    examples_by_type,
    fentanyl,
    reciprocal,
    talks,
)

FENTANYL_ID = stream_id_for_key(MEASURE, "us-cn-fentanyl")
TALKS_ID = stream_id_for_key(NEGOTIATION, "us-cn-trade-talks")


def log_size(client: TestClient) -> int:
    response = client.get("/v1/events", params={"limit": 1000})
    assert response.status_code == 200
    return len(response.json()["events"])


def rate(event_id: str, rate_pct: Any, on: str = "2025-03-04") -> dict[str, Any]:
    return event("rate_changed", event_id, on, rate_pct=rate_pct)


# -- creating ---------------------------------------------------------------------------


def test_creating_a_measure_answers_its_id_version_event_and_position(client: TestClient) -> None:
    response = client.post("/v1/measures", json=fentanyl())

    assert response.status_code == 201
    assert response.json() == {
        "kind": "measure",
        "stream_id": str(FENTANYL_ID),
        "key": "us-cn-fentanyl",
        "version": 1,
        "created": True,
        "events": [{"event_id": "US-CN-FENT-10", "version": 1, "position": 1}],
        "position": 1,
    }
    assert response.headers["ETag"] == '"1"'
    assert response.headers["X-Log-Position"] == "1"
    assert response.headers["Location"] == f"/v1/measures/{FENTANYL_ID}"


def test_opening_a_negotiation_answers_its_id_and_position(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post("/v1/negotiations", json=talks())

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["stream_id"], body["created"]) == (
        "negotiation",
        str(TALKS_ID),
        True,
    )
    assert body["events"] == [{"event_id": "US-CN-TALKS", "version": 1, "position": 2}]
    assert response.headers["Location"] == f"/v1/negotiations/{TALKS_ID}"


def test_a_stream_created_without_a_key_gets_a_fresh_id(client: TestClient) -> None:
    body = {k: v for k, v in fentanyl().items() if k != "key"}

    first = client.post("/v1/measures", json=body).json()
    second = client.post("/v1/measures", json={**body, "event_id": "OTHER"}).json()

    assert first["key"] == second["key"] == ""
    assert first["stream_id"] != second["stream_id"]
    assert UUID(first["stream_id"]).version == 4


@pytest.mark.parametrize(
    ("path", "body"), [("/v1/measures", fentanyl()), ("/v1/negotiations", talks())]
)
def test_creating_a_stream_twice_under_one_key_is_a_conflict(
    client: TestClient, path: str, body: dict[str, Any]
) -> None:
    client.post(path, json=body)

    response = client.post(path, json={**body, "event_id": "AGAIN"})

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["rule"] == "stream_already_exists"
    assert log_size(client) == 1


def test_the_documented_examples_create_streams(client: TestClient) -> None:
    measure = client.post("/v1/measures", json=example(MeasureImposed))
    negotiation = client.post("/v1/negotiations", json=example(NegotiationOpened))

    assert (measure.status_code, negotiation.status_code) == (201, 201)


def test_every_documented_measure_change_can_be_appended(client: TestClient) -> None:
    client.post("/v1/measures", json=example(MeasureImposed))
    changes = examples_by_type("measure")
    order = [
        "rate_changed", "scope_changed", "exclusion_granted", "exclusion_revoked",
        "suspension_granted", "suspension_extended", "precedence_declared",
        "legal_status_changed", "record_corrected", "terminated",
    ]  # fmt: skip
    changes["exclusion_revoked"]["hs_prefixes"] = ["8471.30"]

    statuses = {
        name: client.post("/v1/measures/us-cn-fentanyl/events", json=changes[name]).status_code
        for name in order
    }

    assert statuses == dict.fromkeys(order, 201)
    assert set(order) == set(changes) - {"imposed"}


def test_every_documented_negotiation_step_can_be_appended(client: TestClient) -> None:
    client.post("/v1/negotiations", json=example(NegotiationOpened))
    steps = examples_by_type("negotiation")
    order = [
        "contact_made", "precondition_stated", "precondition_met", "talks_scheduled",
        "round_held", "proposal_tabled", "concession_offered", "development_reported",
        "joint_statement_issued", "framework_agreed", "deal_announced", "agreement_signed",
        "implementing_action_taken", "truce_extended", "breach_alleged", "threat_issued",
        "talks_postponed", "talks_resumed", "talks_suspended", "record_corrected", "invalidated",
    ]  # fmt: skip
    for name in ("proposal_tabled", "breach_alleged", "threat_issued"):
        steps[name]["by_party"] = "US"
    steps["record_corrected"]["corrected_event_id"] = "US-CN-GENEVA-TALKS"
    for name in order:
        steps[name]["effective_on"] = steps[name]["announced_at"] = "2025-06-01"

    statuses = {
        name: client.post("/v1/negotiations/us-cn-trade-talks/events", json=steps[name])
        for name in order
    }

    assert {name: r.status_code for name, r in statuses.items()} == dict.fromkeys(order, 201)
    assert set(order) | {"talks_collapsed", "terminated", "superseded"} == set(steps) - {"opened"}


# -- appending --------------------------------------------------------------------------


def test_one_event_is_appended_to_a_stream_named_by_key(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post("/v1/measures/US-CN-Fentanyl/events", json=rate("US-CN-FENT-20", 20))

    assert response.status_code == 201
    assert response.headers["ETag"] == '"2"'
    assert response.json() == {
        "kind": "measure",
        "stream_id": str(FENTANYL_ID),
        "key": "us-cn-fentanyl",
        "version": 2,
        "created": False,
        "events": [{"event_id": "US-CN-FENT-20", "version": 2, "position": 2}],
        "position": 2,
    }
    assert response.headers["X-Log-Position"] == "2"
    assert "Location" not in response.headers


def test_one_event_is_appended_to_a_stream_named_by_uuid(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post(f"/v1/measures/{FENTANYL_ID}/events", json=rate("US-CN-FENT-20", 20))

    assert response.status_code == 201


def test_a_batch_is_recorded_together_in_order(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())
    client.post("/v1/negotiations", json=talks())
    batch = {"events": [rate("A", 20), rate("B", 30, "2025-05-01"), rate("C", 40, "2025-06-01")]}

    response = client.post("/v1/measures/us-cn-fentanyl/events", json=batch)

    assert response.status_code == 201
    assert response.json()["version"] == 4
    assert [(e["event_id"], e["version"], e["position"]) for e in response.json()["events"]] == [
        ("A", 2, 3),
        ("B", 3, 4),
        ("C", 4, 5),
    ]


def test_a_batch_that_breaks_a_rule_records_nothing(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())
    batch = {
        "events": [
            rate("A", 20),
            event("suspension_extended", "B", "2025-05-01", suspension_event_id="NONE",
                  ends_on="2025-09-01"),
        ]
    }  # fmt: skip

    response = client.post("/v1/measures/us-cn-fentanyl/events", json=batch)

    assert response.status_code == 409
    assert response.json()["rule"] == "unknown_event_reference"
    assert "NONE" in response.json()["detail"]
    assert log_size(client) == 1


def test_an_invalid_event_in_a_batch_is_named_by_its_path(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())
    batch = {"events": [rate("A", 20), rate("B", -5)]}

    response = client.post("/v1/measures/us-cn-fentanyl/events", json=batch)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body.events.1.rate_pct", "message": "Input should be greater than or equal to 0"}
    ]
    assert log_size(client) == 1


# -- domain rules -----------------------------------------------------------------------


def collapsed_talks(client: TestClient) -> None:
    client.post("/v1/negotiations", json=talks())
    client.post(
        "/v1/negotiations/us-cn-trade-talks/events",
        json=event("talks_collapsed", "COLLAPSE", "2025-05-01", summary="Talks break down."),
    )


def test_a_round_after_talks_collapsed_is_a_conflict_naming_the_rule(client: TestClient) -> None:
    collapsed_talks(client)
    before = log_size(client)

    response = client.post(
        "/v1/negotiations/us-cn-trade-talks/events",
        json=event("round_held", "ROUND", "2025-05-10", summary="A round."),
    )

    assert response.status_code == 409
    problem = response.json()
    assert problem["rule"] == "invalid_transition"
    assert problem["type"] == "https://tradeledger.example/problems/invalid-transition"
    assert "collapsed" in problem["detail"]
    assert log_size(client) == before


@pytest.mark.parametrize(
    ("body", "status", "rule"),
    [
        (rate("US-CN-FENT-10", 20), 409, "duplicate_event_id"),
        (event("suspension_extended", "X", "2025-05-01", suspension_event_id="NOPE",
               ends_on="2025-06-01"), 409, "unknown_event_reference"),
        (event("record_corrected", "X", None, corrected_event_id="NOPE", reason="typo",
               announced_at="2025-06-01"), 409, "unknown_event_reference"),
        (event("suspension_granted", "X", "2025-05-01", ends_on="2025-04-01"),
         409, "invalid_measure_change"),
        (event("opened", "X", "2025-05-01", title="t", parties=["US", "CN"], summary="s"),
         422, "invalid_request"),
        (event("no_such_type", "X", "2025-05-01"), 422, "invalid_request"),
    ],
)  # fmt: skip
def test_a_change_breaking_a_rule_is_refused_and_records_nothing(
    client: TestClient, body: dict[str, Any], status: int, rule: str
) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post("/v1/measures/us-cn-fentanyl/events", json=body)

    assert (response.status_code, response.json()["rule"]) == (status, rule), response.text
    assert log_size(client) == 1


def test_a_step_by_someone_not_at_the_table_names_the_field(client: TestClient) -> None:
    client.post("/v1/negotiations", json=talks())

    response = client.post(
        "/v1/negotiations/us-cn-trade-talks/events",
        json=event("proposal_tabled", "P", "2025-05-01", by_party="FR", summary="A proposal."),
    )

    assert response.status_code == 422
    assert response.json()["rule"] == "invalid_value"
    assert response.json()["errors"] == [
        {"field": "by_party", "message": "FR is not a party to this negotiation"}
    ]


def test_an_unknown_event_type_is_named_with_the_expected_ones(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post(
        "/v1/measures/us-cn-fentanyl/events", json=event("rate_raised", "X", "2025-05-01")
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "body.type"
    assert "rate_raised" in error["message"] and "rate_changed" in error["message"]


def test_a_body_that_is_neither_an_event_nor_a_batch_is_refused(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post("/v1/measures/us-cn-fentanyl/events", json=[rate("A", 20)])

    assert response.status_code == 422
    assert "one event" in response.json()["errors"][0]["message"]


def test_appending_to_a_stream_that_does_not_exist_is_not_found(client: TestClient) -> None:
    response = client.post("/v1/measures/us-xx-nothing/events", json=rate("A", 20))

    assert response.status_code == 404
    assert response.json()["rule"] == "stream_not_found"


def test_a_negotiation_step_sent_to_a_measure_id_is_not_found(client: TestClient) -> None:
    client.post("/v1/negotiations", json=talks())

    response = client.post(
        f"/v1/measures/{TALKS_ID}/events",
        json=event("development_reported", "D", "2025-05-01", summary="Reported."),
    )

    assert response.status_code in (404, 422)
    assert log_size(client) == 1


def test_a_stream_reference_that_is_no_key_is_refused(client: TestClient) -> None:
    response = client.post("/v1/measures/not a key!/events", json=rate("A", 20))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.id"


# -- optimistic concurrency -------------------------------------------------------------


def test_if_match_with_the_current_version_appends(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post(
        "/v1/measures/us-cn-fentanyl/events", json=rate("A", 20), headers={"If-Match": '"1"'}
    )

    assert response.status_code == 201
    assert response.headers["ETag"] == '"2"'


def test_a_stale_if_match_is_a_conflict_with_the_current_version(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())
    client.post("/v1/measures/us-cn-fentanyl/events", json=rate("A", 20))

    response = client.post(
        "/v1/measures/us-cn-fentanyl/events", json=rate("B", 30), headers={"If-Match": '"1"'}
    )

    assert response.status_code == 409
    problem = response.json()
    assert (problem["rule"], problem["expected_version"], problem["current_version"]) == (
        "version_conflict",
        1,
        2,
    )
    assert response.headers["ETag"] == '"2"'
    assert log_size(client) == 2


def test_a_batch_can_carry_its_expected_version(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())

    stale = client.post(
        "/v1/measures/us-cn-fentanyl/events",
        json={"events": [rate("A", 20)], "expected_version": 0},
    )
    current = client.post(
        "/v1/measures/us-cn-fentanyl/events",
        json={"events": [rate("A", 20)], "expected_version": 1},
    )

    assert (stale.status_code, stale.json()["current_version"]) == (409, 1)
    assert current.status_code == 201


@pytest.mark.parametrize(("in_body", "in_header"), [(1, '"2"'), (2, '"1"')])
def test_a_body_version_differing_from_if_match_is_a_conflict_naming_the_stale_one(
    client: TestClient, in_body: int, in_header: str
) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post(
        "/v1/measures/us-cn-fentanyl/events",
        json={"events": [rate("A", 20)], "expected_version": in_body},
        headers={"If-Match": in_header},
    )

    assert response.status_code == 409
    assert response.json()["current_version"] == 1
    assert "not 2" in response.json()["detail"]
    assert client.get("/v1/measures/us-cn-fentanyl").headers["ETag"] == '"1"'


@pytest.mark.parametrize("if_match", ["1", 'W/"1"', '"one"', '"1", "2"'])
def test_an_if_match_that_is_no_version_tag_is_refused(client: TestClient, if_match: str) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post(
        "/v1/measures/us-cn-fentanyl/events", json=rate("A", 20), headers={"If-Match": if_match}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header.If-Match"


def test_concurrent_appends_without_a_version_lose_and_interleave_nothing(
    client: TestClient,
) -> None:
    client.post("/v1/measures", json=fentanyl())
    client.post("/v1/measures", json=reciprocal())

    def append(n: int) -> Any:
        batch = {"events": [rate(f"E{n}-a", n), rate(f"E{n}-b", n, "2025-05-01")]}
        stream = "us-cn-fentanyl" if n % 2 else "us-cn-reciprocal"
        return client.post(f"/v1/measures/{stream}/events", json=batch)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(append, range(12)))

    assert [r.status_code for r in responses] == [201] * 12
    for response in responses:
        [a, b] = response.json()["events"]
        assert (b["version"], b["position"]) == (a["version"] + 1, a["position"] + 1)
    assert log_size(client) == 2 + 24
