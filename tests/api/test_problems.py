"""Every error is problem+json: FastAPI's own, oversized bodies, and the unexpected."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from api.field_errors import field_path
from api.settings import Settings
from tests.api.conftest import (
    KEYS,
    WRITER,
    MakeClient,
    TestClient,
    bearer,
    event,
    fentanyl,
)
from tradeledger.bootstrap import Services

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


def test_an_unknown_path_is_a_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/tariffs"), 404)

    assert (body["type"], body["title"], body["instance"]) == (
        "about:blank",
        "Not Found",
        "/v1/tariffs",
    )


def test_a_method_not_allowed_is_a_problem_naming_the_allowed_ones(client: TestClient) -> None:
    response = client.put("/v1/measures", json={})

    assert_problem(response, 405)
    assert response.headers["Allow"] == "POST"


def test_malformed_json_is_a_problem_naming_where(client: TestClient) -> None:
    response = client.post(
        "/v1/measures", content=b'{"type": "imposed",', headers={"Content-Type": "application/json"}
    )

    body = assert_problem(response, 422)
    [error] = body["errors"]
    assert error["field"].startswith("body")
    assert error["message"].startswith("JSON decode error")


def test_a_missing_body_is_a_problem(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/measures"), 422)

    assert body["errors"] == [{"field": "body", "message": "Field required"}]


def test_every_invalid_field_is_listed(client: TestClient) -> None:
    bad = {**fentanyl(), "imposer": "USA", "rate_pct": "lots", "sources": []}

    body = assert_problem(client.post("/v1/measures", json=bad), 422)

    assert body["rule"] == "invalid_request"
    assert {e["field"] for e in body["errors"]} == {"body.imposer", "body.rate_pct", "body.sources"}


@pytest.mark.parametrize("announced_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00"])
def test_an_instant_outside_the_calendar_is_refused(client: TestClient, announced_at: str) -> None:
    body = assert_problem(
        client.post("/v1/measures", json={**fentanyl(), "announced_at": announced_at}), 422
    )

    assert body["rule"] == "invalid_request"
    assert body["errors"] == [
        {
            "field": "body.announced_at",
            "message": f"{announced_at} is out of range: in UTC it falls outside years 1 to 9999",
        }
    ]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('"name": "IEEPA\\u0000fentanyl"', "body.name"),
        ('"recorded_by": "analyst\\ud800"', "body.recorded_by"),
        ('"instruments": ["EO\\u0000 14195"]', "body.instruments.0"),
    ],
)
def test_text_the_store_could_not_give_back_is_refused(
    client: TestClient, text: str, field: str
) -> None:
    name = text.split(": ", 1)[0]
    document = json.dumps({k: v for k, v in fentanyl().items() if k != json.loads(name)})
    raw = document[:-1] + ", " + text + "}"

    response = client.post(
        "/v1/measures", content=raw.encode(), headers={"Content-Type": "application/json"}
    )

    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == field
    assert client.get("/v1/events").json()["high_water"] == 0


def test_an_unknown_field_is_refused(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/measures", json={**fentanyl(), "colour": "red"}), 422)

    assert body["errors"][0]["field"] == "body.colour"


@pytest.mark.parametrize(
    ("loc", "error_type", "path"),
    [
        (("body", "batch", "events", 0, "rate_changed", "rate_pct"), "x", "body.events.0.rate_pct"),
        (("body", "event", "rate_changed", "sources", 0, "citation"), "x",
         "body.sources.0.citation"),
        (("body", "event"), "union_tag_invalid", "body.type"),
        (("body", "batch", "events", 2, "terminated", "note"), "x", "body.events.2.note"),
        (("query", "on"), "missing", "query.on"),
    ],
)  # fmt: skip
def test_field_paths_read_like_the_body(
    loc: tuple[int | str, ...], error_type: str, path: str
) -> None:
    assert field_path(loc, error_type) == path


# -- body size --------------------------------------------------------------------------


@pytest.fixture
def small_bodies(make_client: MakeClient) -> TestClient:
    made = make_client(Settings.with_keys(KEYS, max_body_bytes=2000))
    made.headers.update(bearer(WRITER))
    return made


def test_a_body_over_the_limit_is_refused_before_it_is_read(small_bodies: TestClient) -> None:
    big = {**fentanyl(), "note": "x" * 5000}

    response = small_bodies.post("/v1/measures", json=big)

    body = assert_problem(response, 413)
    assert "2000 bytes" in body["detail"]
    assert small_bodies.get("/v1/events").json()["events"] == []


def test_a_chunked_body_over_the_limit_is_refused(small_bodies: TestClient) -> None:
    read: list[int] = []

    def chunks() -> Iterator[bytes]:
        for n in range(100):
            read.append(n)
            yield b'{"note": "' if n == 0 else b"x" * 100

    response = small_bodies.post(
        "/v1/measures", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 413)


def test_a_chunked_body_within_the_limit_is_accepted(small_bodies: TestClient) -> None:
    data = json.dumps(fentanyl()).encode()

    def chunks() -> Iterator[bytes]:
        yield data[:50]
        yield data[50:]

    response = small_bodies.post(
        "/v1/measures", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 201, response.text


def test_a_content_length_that_is_no_number_is_a_bad_request(small_bodies: TestClient) -> None:
    response = small_bodies.post(
        "/v1/measures", content=b"{}", headers={"Content-Length": "two", "Content-Type": "x"}
    )

    assert_problem(response, 400)


# -- the unexpected ---------------------------------------------------------------------


def test_an_unexpected_error_is_a_generic_problem_logged_on_the_server(
    make_client: MakeClient,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(raise_server_exceptions=False)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(services.queries, "duty_on", broken)

    with caplog.at_level(logging.ERROR):
        response = client.get(
            "/v1/duty",
            params={"importer": "US", "origin": "CN", "hs": "9503"},
            headers=bearer(WRITER),
        )

    body = assert_problem(response, 500)
    error_id = body["error_id"]
    assert body["detail"] == f"an unexpected error occurred; it has been logged as error {error_id}"
    assert "hunter2" not in response.text
    assert "secret internals" in caplog.text
    assert f"unexpected error {error_id} on GET /v1/duty" in caplog.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/measures", {**fentanyl(), "rate_pct": "1e999999"}, "body.rate_pct"),
        ("/v1/measures", {**fentanyl(), "rate_by_prefix": {"8517": 1e300}},
         "body.rate_by_prefix.8517"),
        ("/v1/measures/us-cn-fentanyl/events",
         event("rate_changed", "HUGE", "2025-03-04", rate_pct="1e999999"), "body.rate_pct"),
        ("/v1/measures/us-cn-fentanyl/events",
         {"events": [event("suspension_granted", "S", "2025-03-04", points=2e6,
                           ends_on="2025-04-01")]}, "body.events.0.points"),
    ],
)  # fmt: skip
def test_rates_too_large_to_be_real_are_refused(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    client.post("/v1/measures", json={**fentanyl(), "key": "us-cn-fentanyl"})

    response = client.post(path, json={**body, **({"key": "other"} if "key" in body else {})})

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == field
    assert client.get("/v1/events").json()["high_water"] == 1
