"""Answers compare byte for byte, however the read models were built (issue #13, item 7).

The shipped dataset is recorded one event per append, each projected as it commits (the
read models grow a row at a time, as in production); a broad set of answers is taken as
the bytes the API sends; then `tradeledger rebuild`, in a process of its own, projects
the whole log again in one batch (indexes created after the rows, statistics refreshed),
and a new process asks the same questions. Every list in every answer has a documented
order (evaluation, measure_states, queries), so nothing may depend on the order in which
a query plan happens to return rows: the bytes must be the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import closing
from urllib.parse import urlencode

import pytest

from api.main import create_app
from api.settings import Settings
from cli.dataset import read_dataset
from tests.api.conftest import TestClient
from tests.data.conftest import DATA_DIR, tradeledger
from tradeledger.bootstrap import open_services
from tradeledger.settings import parse_database_url

pytestmark = [pytest.mark.fault, pytest.mark.slow]

FAR_FUTURE = "2099-01-01T00:00:00Z"
"""`recorded_at` of every question: fixed, so that the answers do not move with the clock."""

DAYS = ["2025-02-10", "2025-04-10", "2025-05-14", "2025-08-12", "2025-11-10", "2026-03-01"]
KNOWN_AT = ["2025-04-12", "2026-12-01"]
"""`known_at` of the questions: the second (all of the dataset known) unless a question says."""
DUTY_PAIRS = [("US", "CN"), ("US", "HK"), ("US", "CA"), ("US", "IN"), ("US", "GB"), ("CN", "US")]
HS_CODES = ["9503.00.0090", "8517.13", "8471.30", "8703.80", "8708.29", "7208", "0901.21", "87"]
MEASURES = [
    "us-s301-china",
    "us-cn-ieepa-fentanyl",
    "us-ieepa-reciprocal-baseline",
    "us-cn-ieepa-reciprocal",
    "us-cn-de-minimis-postal",
    "us-s232-auto-parts",
    "us-s232-steel-aluminium",
    "us-in-ieepa-russia-oil",
    "cn-us-retaliation-all-goods",
    "cn-us-retaliation-farm",
]
NEGOTIATIONS = ["us-cn-trade-talks", "us-in-bta", "us-uk-epd"]


def questions() -> list[str]:
    """Every GET the answers are compared on: each route, at fixed points in time."""
    asked: list[str] = []

    def ask(path: str, **params: str) -> None:
        fixed = {"known_at": KNOWN_AT[-1], **params, "recorded_at": FAR_FUTURE}
        asked.append(f"{path}?{urlencode(fixed)}")

    for (importer, origin), hs, on in itertools.product(DUTY_PAIRS, HS_CODES, DAYS[1::2]):
        ask("/v1/duty", importer=importer, origin=origin, hs=hs, on=on)
    for hs, on in itertools.product(HS_CODES, DAYS[1::2]):
        ask("/v1/duty", importer="US", origin="CN", hs=hs, on=on, known_at=KNOWN_AT[0])
    for on in DAYS:
        for imposer, origin in (("US", "CN"), ("US", "GB"), ("CN", "US")):
            ask(f"/v1/schedules/{imposer}", origin=origin, on=on)
        for key in MEASURES:
            ask(f"/v1/measures/{key}", on=on)
        for key in NEGOTIATIONS:
            ask(f"/v1/negotiations/{key}", on=on)
    for order in ("effective", "announced", "recorded"):
        for key in MEASURES:
            ask(f"/v1/measures/{key}/timeline", order=order)
        for key in NEGOTIATIONS:
            ask(f"/v1/negotiations/{key}/timeline", order=order)
    for first, second in itertools.pairwise(DAYS):
        duty = "/v1/diff/duty"
        ask(duty, importer="US", origin="CN", hs="9503.00.0090", on=first, on2=second)
        ask(duty, importer="US", origin="CA", hs="8703.80", on=first, on2=second)
        ask("/v1/measures/us-cn-ieepa-reciprocal/diff", on=first, on2=second)
        ask("/v1/negotiations/us-cn-trade-talks/diff", on=first, on2=second)
    asked += ["/v1/events?limit=1000", "/v1/events?type=rate_changed", "/v1/schemas"]
    return asked


def answers(database_url: str) -> dict[str, tuple[int, bytes]]:
    """The status and bytes of every answer (a measure not yet known is a 404), from a
    process (an app) opened on the store now."""
    services = open_services(parse_database_url(database_url))
    app = create_app(services, Settings.with_keys({}, public_read=True), close_services=True)
    found = {}
    with TestClient(app) as client:
        for question in questions():
            response = client.get(question)
            assert response.status_code in (200, 404), (question, response.text)
            found[question] = (response.status_code, response.content)
    return found


@pytest.fixture
def recorded_one_by_one(durable_database_url: str) -> Iterator[str]:
    """The dataset recorded one event per append, each projected after its commit."""
    with closing(open_services(parse_database_url(durable_database_url))) as services:
        for dataset_file in read_dataset(DATA_DIR):
            for item in dataset_file.items:
                services.ledger.append_batch([item])
                assert services.projector.position == services.projector.log_position()
    yield durable_database_url


def test_answers_are_the_same_bytes_after_a_rebuild(recorded_one_by_one: str) -> None:
    incremental = answers(recorded_one_by_one)

    rebuilt = tradeledger("rebuild", database_url=recorded_one_by_one)
    assert rebuilt.returncode == 0, rebuilt.stderr
    after_rebuild = answers(recorded_one_by_one)

    differing = [q for q in incremental if incremental[q] != after_rebuild[q]]
    assert not differing, f"{len(differing)} answers differ, e.g. {differing[:5]}"
    assert sum(status == 200 for status, _ in incremental.values()) > 300
