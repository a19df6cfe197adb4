"""What a write refuses that JSON's floats or Unicode would blur: rates beyond the rate's
precision, ids that look like other ids, instants with no UTC equivalent, bodies nested
thousands deep; and how much of a bad body a problem repeats (issue #13, items 6-7)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import TestClient, event, fentanyl

APPEND = "/v1/measures/us-cn-fentanyl/events"


def post_raw(client: TestClient, body: str) -> Any:
    return client.post(APPEND, content=body, headers={"Content-Type": "application/json"})


def rate_changed(**fields: Any) -> dict[str, Any]:
    return {**event("rate_changed", "US-CN-FENT-20", "2025-03-04", rate_pct=20), **fields}


def recorded(client: TestClient) -> int:
    response = client.get("/v1/events", params={"limit": 1000})
    assert response.status_code == 200
    return len(response.json()["events"])


@pytest.mark.parametrize(
    ("literal", "complaint"),
    [
        ("1e-400", "1E-400 has more decimal places than a rate's precision (6)"),
        ("0.0000001", "1E-7 has more decimal places than a rate's precision (6)"),
        ("1e400", "1E+400 is above the largest rate recorded (1000000)"),
    ],
)
def test_a_rate_beyond_the_rates_precision_is_refused_over_http(
    client: TestClient, literal: str, complaint: str
) -> None:
    client.post("/v1/measures", json=fentanyl())
    body = json.dumps(rate_changed(rate_pct="RATE")).replace('"RATE"', literal)

    response = post_raw(client, body)

    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "body.rate_pct"
    assert error["message"].startswith(complaint)
    assert recorded(client) == 1


def test_a_rate_keeps_its_exact_value_over_http(client: TestClient) -> None:
    client.post("/v1/measures", json=fentanyl())
    body = json.dumps(rate_changed(rate_pct="RATE")).replace('"RATE"', "20.000001")

    response = post_raw(client, body)
    events = client.get("/v1/events", params={"limit": 10}).json()["events"]

    assert response.status_code == 201
    assert events[-1]["data"]["rate_pct"] in ("20.000001", 20.000001)


@pytest.mark.parametrize(
    "event_id", ["US-CN-FENT-20\u200b", "US-CN-\u202eFENT-20", "\u0301US-CN-FENT-20", "A\nB"]
)
def test_an_event_id_outside_the_printable_set_is_a_422_naming_the_field(
    client: TestClient, event_id: str
) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post(APPEND, json=rate_changed(event_id=event_id))

    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "body.event_id"
    assert error["message"].startswith("must not ")
    assert recorded(client) == 1


@pytest.mark.parametrize("announced_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_an_instant_with_no_utc_equivalent_is_a_422(client: TestClient, announced_at: str) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post(APPEND, json=rate_changed(announced_at=announced_at))

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "body.announced_at",
            "message": f"{announced_at} is out of range: in UTC it falls outside years 1 to 9999",
        }
    ]


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_a_body_nested_thousands_deep_is_invalid_json(client: TestClient, depth: int) -> None:
    client.post("/v1/measures", json=fentanyl())
    body = json.dumps(rate_changed(note="NOTE")).replace('"NOTE"', "[" * depth + "]" * depth)

    response = post_raw(client, body)

    assert response.status_code == 422
    assert "nested too deeply" in response.json()["detail"]
    assert recorded(client) == 1


def test_a_problem_repeats_at_most_80_characters_of_any_piece_of_the_body(
    client: TestClient,
) -> None:
    client.post("/v1/measures", json=fentanyl())

    response = client.post(APPEND, json=rate_changed(**{"k" * 500_000: 1}))

    assert response.status_code == 422
    assert len(response.content) < 2_000
    (error,) = response.json()["errors"]
    assert error["field"] == "body." + "k" * 79 + "\u2026"
