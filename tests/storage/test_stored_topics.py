"""A store written by an earlier release still loads: event topics are stored data.

`tests/fixtures/store-9f2afe5.sqlite` was written by commit 9f2afe5 (the layout before
the floor plan moved; see tests/fixtures/write_store_9f2afe5.py): the shipped dataset
loaded by the CLI, plus two writes through the HTTP API with idempotency keys. Its
answers were recorded by that release. Whatever moves in the code, opening a copy of it
must give the same duty answers and the same `/v1/events?type=` filtering, from the read
models it holds and after rebuilding them from its events.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import TestClient
from tradeledger.bootstrap import Services, open_services
from tradeledger.settings import parse_database_url

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
STORE = FIXTURES / "store-9f2afe5.sqlite"
ANSWERS: dict[str, Any] = json.loads((FIXTURES / "store-9f2afe5.answers.json").read_text())


@pytest.fixture
def old_store(tmp_path: Path) -> Iterator[Services]:
    copy = tmp_path / "old.sqlite"
    shutil.copyfile(STORE, copy)
    services = open_services(parse_database_url(f"sqlite:///{copy}"))
    try:
        yield services
    finally:
        services.close()


def answers_of(client: TestClient) -> dict[str, Any]:
    duty = []
    for recorded in ANSWERS["duty"]:
        reply = client.get("/v1/duty", params=recorded["question"])
        assert reply.status_code == 200, reply.text
        body = reply.json()
        duty.append(
            {
                "question": recorded["question"],
                "total_additional_pct": body["total_additional_pct"],
                "applied": sorted(a["key"] for a in body["applied"]),
                "not_applied": sorted(n["key"] for n in body["not_applied"]),
            }
        )
    types = {}
    for event_type in ANSWERS["types"]:
        reply = client.get("/v1/events", params={"type": event_type, "limit": 1000})
        assert reply.status_code == 200, reply.text
        types[event_type] = [e["data"]["event_id"] for e in reply.json()["events"]]
    return {"duty": duty, "types": types}


def test_a_store_written_before_the_move_answers_as_it_did(old_store: Services) -> None:
    app = create_app(old_store, Settings.with_keys({}, public_read=True))

    with TestClient(app) as client:
        answers = answers_of(client)

    assert answers == ANSWERS
    assert len(ANSWERS["types"]["measure.imposed"]) == 17
    assert ANSWERS["types"]["measure.rate_changed"]


RETRIED_BODY = {
    "type": "rate_changed",
    "event_id": "FIXTURE-RATE",
    "effective_on": "2025-07-01",
    "announced_at": "2025-07-01",
    "sources": [
        {"citation": "fixture", "publisher": "tradeledger tests", "reliability": "unverified"}
    ],
    "recorded_by": "fixture@example.org",
    "rate_pct": 12,
    "hs_prefixes": ["0901"],
}


def test_its_events_decode_and_project_again_after_a_rebuild(old_store: Services) -> None:
    old_store.projector.rebuild()
    app = create_app(old_store, Settings.with_keys({"writer-key": "writer"}, public_read=True))

    with TestClient(app) as client:
        answers = answers_of(client)
        high_water = client.get("/v1/events", params={"limit": 1}).json()["high_water"]
        retried = client.post(
            "/v1/measures/fixture-measure/events",
            json=RETRIED_BODY,
            headers={
                "Authorization": "Bearer writer-key",
                "Idempotency-Key": "fixture-rate",
                "If-Match": '"1"',
            },
        )
        after = client.get("/v1/events", params={"limit": 1}).json()["high_water"]

    assert answers == ANSWERS
    # The idempotency record stored by the old release still answers a retry.
    assert retried.status_code == 201, retried.text
    assert retried.json()["version"] == 2
    assert after == high_water
