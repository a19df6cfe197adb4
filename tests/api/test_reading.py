"""Reading through the API: the state at any point on the three time axes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.ledger import MEASURE, NEGOTIATION, stream_id_for_key
from eventschema import MEASURE_EVENT_MODELS, NEGOTIATION_EVENT_MODELS
from tests.api.conftest import TestClient, seed_us_china

RECIPROCAL_ID = stream_id_for_key(MEASURE, "us-cn-reciprocal")
TALKS_ID = stream_id_for_key(NEGOTIATION, "us-cn-trade-talks")


@pytest.fixture
def seeded(client: TestClient) -> TestClient:
    seed_us_china(client)
    return client


def duty(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get("/v1/duty", params={"importer": "US", "origin": "CN", **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- duty -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hs", "on", "known_at", "total"),
    [
        ("9503.00.0090", "2025-04-15", None, 145),
        ("9503.00.0090", "2025-05-20", None, 30),
        ("8517.13.0000", "2025-04-15", None, 20),
        ("8517.13.0000", "2025-04-10", "2025-04-10", 145),
        ("8517.13.0000", "2025-04-10", "2025-04-12", 20),
    ],
)
def test_the_worked_examples_of_the_domain(
    seeded: TestClient, hs: str, on: str, known_at: str | None, total: int
) -> None:
    params = {"hs": hs, "on": on, **({"known_at": known_at} if known_at else {})}

    answer = duty(seeded, **params)

    assert answer["total_additional_pct"] == total


def test_a_duty_answer_traces_every_number_to_events(seeded: TestClient) -> None:
    answer = duty(seeded, hs="8517.13.0000", on="2025-04-15", known_at="2025-04-20")

    assert {k: answer[k] for k in ("importer", "origin", "hs", "hs_digits", "on")} == {
        "importer": "US",
        "origin": "CN",
        "hs": "8517.13.0000",
        "hs_digits": "8517130000",
        "on": "2025-04-15",
    }
    assert answer["known_at"] == "2025-04-20T23:59:59.999999Z"
    assert answer["position"] > 0
    [applied] = answer["applied"]
    assert applied["key"] == "us-cn-fentanyl"
    assert applied["rate_pct"] == 20
    assert applied["layer"] == "ieepa_fentanyl"
    assert applied["events"] == ["US-CN-FENT-10", "US-CN-FENT-20"]
    [skipped] = answer["not_applied"]
    assert (skipped["key"], skipped["reason"]) == ("us-cn-reciprocal", "excluded")
    assert "US-RECIP-ELEC-EXCL" in skipped["events"]
    assert skipped["measure_id"] == str(RECIPROCAL_ID)


def test_a_suspended_rate_says_until_when(seeded: TestClient) -> None:
    answer = duty(seeded, hs="9503.00.0090", on="2025-05-20")

    reciprocal = next(a for a in answer["applied"] if a["key"] == "us-cn-reciprocal")
    assert (reciprocal["rate_pct"], reciprocal["scheduled_rate_pct"]) == (10, 34)
    [suspension] = reciprocal["suspensions"]
    assert suspension["ends_on"] == "2025-08-12"
    assert suspension["points"] == 24


def test_recorded_at_shows_what_the_ledger_held_then(client: TestClient) -> None:
    before = datetime.now(UTC).isoformat()
    seed_us_china(client)

    then = duty(client, hs="9503.00.0090", on="2025-04-15", recorded_at=before)
    now = duty(client, hs="9503.00.0090", on="2025-04-15")

    assert (then["total_additional_pct"], then["applied"], then["position"]) == (0, [], 0)
    assert now["total_additional_pct"] == 145


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("on", "2025-13-01"),
        ("on", "yesterday"),
        ("known_at", "2025-04-10T10:00"),
        ("recorded_at", "2025-04-10T10:00:00"),
        ("known_at", ""),
    ],
)
def test_a_bad_point_in_time_is_refused_naming_the_parameter(
    client: TestClient, name: str, value: str
) -> None:
    response = client.get(
        "/v1/duty", params={"importer": "US", "origin": "CN", "hs": "9503", name: value}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == f"query.{name}"


def test_a_coarse_code_lists_the_finer_lines_charged_differently(seeded: TestClient) -> None:
    # The reciprocal tariff excludes 8517.13 (smartphones); a question about chapter
    # heading 8517 cannot have one answer, and says which line differs and how.
    answer = duty(seeded, hs="8517", on="2025-04-15", known_at="2025-04-20")
    precise = duty(seeded, hs="8517.13", on="2025-04-15", known_at="2025-04-20")

    assert answer["total_additional_pct"] == 145
    assert answer["finer_lines"] == [
        {"hs_prefix": "851713", "total_additional_pct": 20, "applied": ["us-cn-fentanyl"]}
    ]
    assert answer["finer_lines_truncated"] is False
    assert precise["total_additional_pct"] == 20
    assert precise["finer_lines"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"importer": "XX", "origin": "CN", "hs": "9503"}, "query.importer"),
        ({"importer": "US", "origin": "C", "hs": "9503"}, "query.origin"),
        ({"importer": "US", "origin": "CN", "hs": "95x3"}, "query.hs"),
        ({"importer": "US", "origin": "CN"}, "query.hs"),
    ],
)
def test_a_bad_duty_question_is_refused_naming_the_parameter(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/v1/duty", params=params)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


# -- measures and schedules -------------------------------------------------------------


def test_a_measure_on_a_day(seeded: TestClient) -> None:
    response = seeded.get("/v1/measures/us-cn-reciprocal", params={"on": "2025-05-20"})

    assert response.status_code == 200
    state = response.json()
    assert (state["status"], state["charged_rate_pct"]) == ("in_force", 10)
    assert state["measure_id"] == str(RECIPROCAL_ID)
    assert state["on"] == "2025-05-20"
    assert [e["hs_prefix"] for e in state["exclusions"]] == ["847130", "851713"]
    assert [s["event_id"] for s in state["suspensions"]] == ["US-CN-GENEVA"]
    assert response.headers["ETag"] == '"6"'


def test_a_measure_asked_about_the_past_has_no_version_tag(seeded: TestClient) -> None:
    response = seeded.get(
        f"/v1/measures/{RECIPROCAL_ID}", params={"recorded_at": datetime.now(UTC).isoformat()}
    )

    assert response.status_code == 200
    assert "ETag" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/v1/measures/us-xx-nothing",
        f"/v1/measures/{TALKS_ID}",
        "/v1/negotiations/us-cn-reciprocal",
        "/v1/measures/us-xx-nothing/timeline",
        "/v1/negotiations/us-xx-nothing/timeline",
    ],
)
def test_a_stream_that_is_not_there_is_not_found(seeded: TestClient, path: str) -> None:
    response = seeded.get(path)

    assert response.status_code == 404
    assert response.json()["rule"] == "stream_not_found"


def test_a_schedule_lists_every_measure_on_an_origin(seeded: TestClient) -> None:
    response = seeded.get("/v1/schedules/us", params={"origin": "cn", "on": "2025-04-15"})

    assert response.status_code == 200
    schedule = response.json()
    assert (schedule["imposer"], schedule["origin"]) == ("US", "CN")
    assert {(m["key"], m["charged_rate_pct"]) for m in schedule["measures"]} == {
        ("us-cn-fentanyl", 20),
        ("us-cn-reciprocal", 125),
    }


def test_a_schedule_needs_an_origin(seeded: TestClient) -> None:
    response = seeded.get("/v1/schedules/US")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.origin"


# -- negotiations -----------------------------------------------------------------------


def test_a_negotiation_on_a_day(seeded: TestClient) -> None:
    truce = seeded.get("/v1/negotiations/us-cn-trade-talks", params={"on": "2025-05-20"})
    early = seeded.get(f"/v1/negotiations/{TALKS_ID}", params={"on": "2025-04-10"})

    assert truce.status_code == early.status_code == 200
    assert (truce.json()["status"], truce.json()["truce_ends_on"]) == ("truce_active", "2025-08-12")
    assert truce.json()["status_set_by"]["event_id"] == "GENEVA-STATEMENT"
    assert truce.json()["last_round"]["event_id"] == "GENEVA-ROUND"
    assert early.json()["status"] == "exploratory"
    assert truce.headers["ETag"] == '"3"'


# -- timelines --------------------------------------------------------------------------


def test_a_timeline_in_each_order(seeded: TestClient) -> None:
    def event_ids(order: str) -> list[str]:
        response = seeded.get("/v1/measures/us-cn-reciprocal/timeline", params={"order": order})
        assert response.status_code == 200
        assert response.json()["order"] == order
        return [e["event_id"] for e in response.json()["entries"]]

    effective, recorded = event_ids("effective"), event_ids("recorded")

    assert effective[0] == "US-RECIP-ELEC-EXCL"
    assert recorded == [
        "US-CN-RECIP-34",
        "US-CN-RECIP-84",
        "US-CN-RECIP-125",
        "US-RECIP-ELEC-EXCL",
        "US-CN-GENEVA-34",
        "US-CN-GENEVA",
    ]
    assert sorted(event_ids("announced")) == sorted(recorded)


def test_a_negotiation_timeline_as_known_at_a_moment(seeded: TestClient) -> None:
    response = seeded.get(
        "/v1/negotiations/us-cn-trade-talks/timeline", params={"known_at": "2025-05-10"}
    )

    assert response.status_code == 200
    assert response.json()["kind"] == "negotiation"
    assert [e["event_id"] for e in response.json()["entries"]] == ["US-CN-TALKS", "GENEVA-ROUND"]


def test_an_unknown_timeline_order_is_refused(seeded: TestClient) -> None:
    response = seeded.get("/v1/measures/us-cn-reciprocal/timeline", params={"order": "alphabet"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.order"


# -- diffs ------------------------------------------------------------------------------


def test_a_duty_diff_shows_old_new_and_the_events_that_caused_it(seeded: TestClient) -> None:
    response = seeded.get(
        "/v1/diff/duty",
        params={
            "importer": "US",
            "origin": "CN",
            "hs": "8517.13.0000",
            "on": "2025-04-10",
            "known_at": "2025-04-10",
            "known_at2": "2025-04-12",
        },
    )

    assert response.status_code == 200
    diff = response.json()
    assert diff["before"]["on"] == diff["after"]["on"] == "2025-04-10"
    changes = {c["facet"]: c for c in diff["changes"]}
    assert (changes["total_additional_pct"]["old"], changes["total_additional_pct"]["new"]) == (
        "145",
        "20",
    )
    assert changes["measure us-cn-reciprocal"]["caused_by"] == ["US-RECIP-ELEC-EXCL"]


def test_a_measure_diff_between_two_days(seeded: TestClient) -> None:
    response = seeded.get(
        "/v1/measures/US-CN-Reciprocal/diff", params={"on": "2025-04-15", "on2": "2025-05-20"}
    )

    assert response.status_code == 200
    changes = {c["facet"]: (c["old"], c["new"]) for c in response.json()["changes"]}
    assert changes["charged_rate_pct"] == ("125", "10")


def test_a_negotiation_diff_between_two_days(seeded: TestClient) -> None:
    response = seeded.get(
        f"/v1/negotiations/{TALKS_ID}/diff", params={"on": "2025-04-15", "on2": "2025-05-20"}
    )

    assert response.status_code == 200
    changes = {c["facet"]: (c["old"], c["new"]) for c in response.json()["changes"]}
    assert changes["status"] == ("exploratory", "truce_active")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/diff/duty", {"importer": "US", "origin": "CN"}, "query.hs"),
        ("/v1/measures/bad key!/diff", {}, "path.id"),
        ("/v1/measures/us-cn-reciprocal/diff", {"on2": "2025-02-30"}, "query.on2"),
    ],
)
def test_a_diff_without_its_subject_or_with_a_bad_point_is_refused(
    seeded: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    response = seeded.get(path, params=params)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            {"importer": "US", "origin": "CN", "hs": "8517.13.0000", "known_at": "2025-04-10",
             "known_at2": "2025-04-12", "on": "2025-04-10"},
            "/v1/diff/duty",
        ),
        ({"measure": "US-CN-Reciprocal", "on": "2025-04-15", "on2": "2025-05-20"},
         "/v1/measures/US-CN-Reciprocal/diff"),
        ({"negotiation": str(TALKS_ID), "on": "2025-04-15", "on2": "2025-05-20"},
         f"/v1/negotiations/{TALKS_ID}/diff"),
    ],
)  # fmt: skip
def test_the_old_diff_route_redirects_to_its_subjects_route(
    seeded: TestClient, old: dict[str, str], new: str
) -> None:
    """Clients of the single /v1/diff of earlier releases keep getting their answer."""
    moved = seeded.get("/v1/diff", params=old, follow_redirects=False)

    assert moved.status_code == 308
    assert moved.headers["location"].startswith(new + "?")
    assert moved.headers["deprecation"] == "true"
    assert moved.headers["link"] == f'<{new}>; rel="successor-version"'
    followed = seeded.get("/v1/diff", params=old)
    subject = {"importer", "origin", "hs", "measure", "negotiation"}
    direct = seeded.get(new, params={k: v for k, v in old.items() if k not in subject} | (
        {k: old[k] for k in ("importer", "origin", "hs")} if "hs" in old else {}))  # fmt: skip
    assert followed.status_code == direct.status_code == 200
    # The same answer, but for the moment each was asked at (recorded_at defaults to now).
    assert followed.json()["changes"] == direct.json()["changes"]
    assert followed.json()["before"]["on"] == direct.json()["before"]["on"]


def test_the_old_diff_route_without_a_subject_is_refused(seeded: TestClient) -> None:
    response = seeded.get("/v1/diff", params={"on": "2025-04-15"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


# -- schemas ----------------------------------------------------------------------------


def test_the_schema_of_every_event_type_is_published(client: TestClient) -> None:
    response = client.get("/v1/schemas")

    assert response.status_code == 200
    events = response.json()["events"]
    assert len(events) == len(MEASURE_EVENT_MODELS) + len(NEGOTIATION_EVENT_MODELS)
    rate_changed = events["tradeledger.measure.rate_changed"]
    assert rate_changed["properties"]["type"]["const"] == "rate_changed"
    assert rate_changed["examples"][0]["event_id"] == "US-CN-FENT-20"
    assert all(schema["examples"] for schema in events.values())
    assert response.json()["dataset_line"]["title"] == "tradeledger dataset line"
