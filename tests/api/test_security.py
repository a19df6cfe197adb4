"""API keys and roles: who may read, who may write, and how a refusal reads."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from api.settings import Settings
from tests.api.conftest import (
    ADMIN,
    AUDITOR,
    KEYS,
    WRITER,
    MakeClient,
    TestClient,
    bearer,
    event,
    fentanyl,
    talks,
)
from tradeledger.errors import ConfigurationError
from tradeledger.keys import ApiKeys, Role

READS = [
    "/v1/duty?importer=US&origin=CN&hs=9503",
    "/v1/measures/us-cn-fentanyl",
    "/v1/negotiations/us-cn-trade-talks",
    "/v1/schedules/US?origin=CN",
    "/v1/measures/us-cn-fentanyl/timeline",
    "/v1/negotiations/us-cn-trade-talks/timeline",
    "/v1/measures/us-cn-fentanyl/diff",
    "/v1/negotiations/us-cn-trade-talks/diff",
    "/v1/diff/duty?importer=US&origin=CN&hs=9503",
    "/v1/events",
    "/v1/schemas",
]
STREAM = "/v1/events/stream"
PUBLIC = ["/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"]
"""FastAPI's documentation, open to all (it says nothing the API would not)."""

PUBLIC_OPERATIONS = {("GET", "/healthz"), ("GET", "/readyz")}
"""Operations of the OpenAPI document open to all: the health probes an orchestrator
calls without a key (if the app has them). Every other one follows the role matrix."""

Write = tuple[str, Callable[[int], dict[str, Any]]]
WRITES: list[Write] = [
    ("/v1/measures", lambda n: {**fentanyl(), "key": f"m-{n}"}),
    ("/v1/negotiations", lambda n: {**talks(), "key": f"n-{n}"}),
    (
        "/v1/measures/us-cn-fentanyl/events",
        lambda n: event("rate_changed", f"R-{n}", "2025-03-04", rate_pct=n),
    ),
    (
        "/v1/negotiations/us-cn-trade-talks/events",
        lambda n: event("development_reported", f"D-{n}", "2025-05-01", summary="Reported."),
    ),
]


@pytest.fixture
def anonymous(make_client: MakeClient) -> TestClient:
    """A client sending no key, to an app with one key per role; the store has two streams."""
    made = make_client()
    made.post("/v1/measures", json=fentanyl(), headers=bearer(WRITER))
    made.post("/v1/negotiations", json=talks(), headers=bearer(WRITER))
    return made


def log_size(client: TestClient) -> int:
    return len(client.get("/v1/events", headers=bearer(ADMIN)).json()["events"])


# -- reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*READS, STREAM])
def test_a_read_without_a_valid_key_is_unauthenticated(anonymous: TestClient, path: str) -> None:
    missing = anonymous.get(path)
    unknown = anonymous.get(path, headers=bearer("not-a-key"))

    assert (missing.status_code, unknown.status_code) == (401, 401)
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="tradeledger"'
    assert unknown.headers["WWW-Authenticate"] == (
        'Bearer realm="tradeledger", error="invalid_token"'
    )
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["status"] == 401


@pytest.mark.parametrize("authorization", ["Basic d3JpdGVyLWtleTo=", "Bearer", "writer-key"])
def test_credentials_in_another_scheme_are_unauthenticated(
    anonymous: TestClient, authorization: str
) -> None:
    response = anonymous.get("/v1/events", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("path", READS)
def test_every_role_may_read(anonymous: TestClient, path: str) -> None:
    statuses = {key: anonymous.get(path, headers=bearer(key)).status_code for key in KEYS}

    assert statuses == dict.fromkeys(KEYS, 200)


def test_public_reads_open_reads_to_anonymous_callers(make_client: MakeClient) -> None:
    public = make_client(Settings.with_keys(KEYS, public_read=True))
    public.post("/v1/measures", json=fentanyl(), headers=bearer(WRITER))
    public.post("/v1/negotiations", json=talks(), headers=bearer(WRITER))

    statuses = {path: public.get(path).status_code for path in READS}
    unknown_key = public.get("/v1/events", headers=bearer("guess"))

    assert statuses == dict.fromkeys(READS, 200)
    assert unknown_key.status_code == 401


def test_the_documentation_is_public(anonymous: TestClient) -> None:
    statuses = {path: anonymous.get(path).status_code for path in PUBLIC}
    with_a_wrong_key = {
        path: anonymous.get(path, headers=bearer("not-a-key")).status_code for path in PUBLIC
    }

    assert statuses == dict.fromkeys(PUBLIC, 200)
    assert with_a_wrong_key == dict.fromkeys(PUBLIC, 200)


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _concrete(path: str) -> str:
    """A path of the document with a value in each parameter (`{id}` -> a stream key)."""
    return path.replace("{id}", "us-cn-fentanyl").replace("{imposer}", "US")


def test_every_documented_operation_refuses_callers_without_a_valid_key(
    anonymous: TestClient,
) -> None:
    """Walks the app's own OpenAPI document, so a route added later is covered too: with
    reads private, no key and an unknown key are each refused (401 problem+json, with
    the challenge), before the request's own values are even looked at."""
    refused: dict[str, tuple[int, int]] = {}
    walked = []

    for method, path, operation in _operations(anonymous):
        if (method, path) in PUBLIC_OPERATIONS:
            continue
        walked.append((method, path))
        url = _concrete(path)
        missing = anonymous.request(method, url)
        unknown = anonymous.request(method, url, headers=bearer("not-a-key"))

        assert operation.get("security") == [{"HTTPBearer": []}], (method, path)
        assert "401" in operation["responses"], (method, path)
        for response in (missing, unknown):
            if response.status_code != 401:
                refused[f"{method} {path}"] = (missing.status_code, unknown.status_code)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")

    assert not refused, f"answered without a valid key: {refused}"
    assert ("GET", "/v1/schemas") in walked
    assert len(walked) >= 16


def test_only_the_documentation_and_the_probes_are_routes_outside_the_document(
    anonymous: TestClient,
) -> None:
    """A route left out of the OpenAPI document would escape the walk above."""
    documented = {path for _, path, _ in _operations(anonymous)}
    app = anonymous.app
    assert isinstance(app, FastAPI)

    undocumented = {
        path
        for context in iter_route_contexts(app.routes)
        if (path := getattr(context.route, "path", None)) not in documented
    }

    assert undocumented <= set(PUBLIC) | {path for _, path in PUBLIC_OPERATIONS}


# -- writes -----------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_only_writers_and_admins_may_write(
    make_client: MakeClient, path: str, body: Callable[[int], dict[str, Any]]
) -> None:
    client = make_client(Settings.with_keys(KEYS, public_read=True))
    client.post("/v1/measures", json=fentanyl(), headers=bearer(WRITER))
    client.post("/v1/negotiations", json=talks(), headers=bearer(WRITER))
    before = log_size(client)

    anonymous = client.post(path, json=body(1))
    unknown = client.post(path, json=body(1), headers=bearer("guess"))
    auditor = client.post(path, json=body(1), headers=bearer(AUDITOR))
    unchanged = log_size(client)
    writer = client.post(path, json=body(2), headers=bearer(WRITER))
    admin = client.post(path, json=body(3), headers=bearer(ADMIN))

    assert (anonymous.status_code, unknown.status_code, auditor.status_code) == (401, 401, 403)
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="tradeledger"'
    assert auditor.headers["content-type"] == "application/problem+json"
    assert "auditor" in auditor.json()["detail"]
    assert unchanged == before
    assert (writer.status_code, admin.status_code) == (201, 201)


# -- keys -------------------------------------------------------------------------------


def test_every_configured_key_is_compared_whichever_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = ApiKeys([("first", Role.WRITER), ("second", Role.AUDITOR), ("third", Role.ADMIN)])
    compared: list[bool] = []
    compare = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(compare(a, b))
        return compared[-1]

    monkeypatch.setattr(hmac, "compare_digest", counting)

    role = keys.identify("first")
    nobody = keys.identify("fourth")

    assert role is Role.WRITER
    assert nobody is None
    assert compared == [True, False, False, False, False, False]


def test_keys_and_roles_come_from_the_environment_and_a_file(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text("# the team\nfile-writer:writer\nfile-admin : ADMIN # ops\n")

    settings = Settings.from_env(
        {
            "TRADELEDGER_API_KEYS": "env-auditor:auditor, k:with:colon:writer",
            "TRADELEDGER_API_KEYS_FILE": str(keys_file),
            "TRADELEDGER_PUBLIC_READ": "1",
            "TRADELEDGER_MAX_BODY_BYTES": "2048",
            "TRADELEDGER_SSE_HEARTBEAT_SECONDS": "0.5",
        }
    )

    roles = {
        key: settings.api_keys.identify(key)
        for key in ("env-auditor", "k:with:colon", "file-writer", "file-admin", "nope")
    }
    assert roles == {
        "env-auditor": Role.AUDITOR,
        "k:with:colon": Role.WRITER,
        "file-writer": Role.WRITER,
        "file-admin": Role.ADMIN,
        "nope": None,
    }
    assert (settings.public_read, settings.max_body_bytes, settings.sse_heartbeat_seconds) == (
        True,
        2048,
        0.5,
    )


def test_the_defaults_open_nothing() -> None:
    settings = Settings.from_env({})

    assert len(settings.api_keys) == 0
    assert (settings.public_read, settings.max_body_bytes, settings.sse_heartbeat_seconds) == (
        False,
        1 << 20,
        15.0,
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TRADELEDGER_API_KEYS": "secret-key:root"}, "unknown role 'root'"),
        ({"TRADELEDGER_API_KEYS": "secret-key"}, "expected <key>:<role>"),
        ({"TRADELEDGER_API_KEYS_FILE": "/no/such/file"}, "cannot read '/no/such/file'"),
        ({"TRADELEDGER_PUBLIC_READ": "maybe"}, "TRADELEDGER_PUBLIC_READ: expected 1 or 0"),
        (
            {"TRADELEDGER_MAX_BODY_BYTES": "lots"},
            "TRADELEDGER_MAX_BODY_BYTES: expected a whole number",
        ),
        ({"TRADELEDGER_SSE_HEARTBEAT_SECONDS": "0"}, "must be at least"),
    ],
)
def test_settings_that_cannot_work_fail_in_one_line_without_the_key(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(environ)

    assert message in str(raised.value)
    assert "secret-key" not in str(raised.value)
    assert "\n" not in str(raised.value)
