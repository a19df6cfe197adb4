"""The OpenAPI document: complete, with examples, and true to what the server does.

Schemathesis generates requests from /openapi.json (a bounded number per operation) and
checks that none makes the server fail and that every answer matches the document.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as CHECKS_REGISTERED
from schemathesis.config import GenerationConfig, SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.coverage._operation import iter_coverage_cases

from api.dependencies import expected_version
from api.main import create_app
from api.settings import Settings
from eventschema import MEASURE_EVENT_MODELS, NEGOTIATION_EVENT_MODELS
from tests.api.conftest import ADMIN, KEYS, TestClient, bearer, fentanyl, talks
from tests.api.schemathesis_hooks import with_unique_key
from tradeledger.bootstrap import Services, open_services
from tradeledger.settings import parse_database_url

MAX_EXAMPLES = 15
"""Generated requests per operation and mode: enough to find what breaks, quick to run."""


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_route_is_documented_with_its_text_and_response_model(
    document: dict[str, Any],
) -> None:
    documented = operations(document)

    assert {(method, path) for method, path, _ in documented} == {
        ("POST", "/v1/measures"),
        ("POST", "/v1/negotiations"),
        ("POST", "/v1/measures/{id}/events"),
        ("POST", "/v1/negotiations/{id}/events"),
        ("GET", "/v1/duty"),
        ("GET", "/v1/measures/{id}"),
        ("GET", "/v1/negotiations/{id}"),
        ("GET", "/v1/schedules/{imposer}"),
        ("GET", "/v1/measures/{id}/timeline"),
        ("GET", "/v1/negotiations/{id}/timeline"),
        ("GET", "/v1/diff"),
        ("GET", "/v1/diff/duty"),
        ("GET", "/v1/measures/{id}/diff"),
        ("GET", "/v1/negotiations/{id}/diff"),
        ("GET", "/v1/schemas"),
        ("GET", "/v1/events"),
        ("GET", "/v1/events/stream"),
    }
    for method, path, operation in documented:
        assert operation["summary"] and operation["description"], (method, path)
        if operation.get("deprecated"):
            assert "308" in operation["responses"], (method, path)  # moved, answers nothing
            continue
        success = next(r for status, r in operation["responses"].items() if status[0] == "2")
        [(media_type, content)] = success["content"].items()
        assert content["schema"], (method, path)
        assert media_type in ("application/json", "text/event-stream")


def test_every_error_is_documented_as_problem_details(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert "401" in errors, (method, path)
        if path != "/v1/schemas":
            assert "422" in errors, (method, path)
        for response in errors.values():
            assert list(response["content"]) == ["application/problem+json"], (method, path)
            assert response["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }


def test_every_event_type_has_an_example(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    for model in (*MEASURE_EVENT_MODELS, *NEGOTIATION_EVENT_MODELS):
        assert schemas[model.__name__]["examples"], model.__name__


def test_writes_take_the_event_models_and_say_how_to_retry(document: dict[str, Any]) -> None:
    append = document["paths"]["/v1/measures/{id}/events"]["post"]

    body = append["requestBody"]["content"]["application/json"]["schema"]
    headers = {p["name"] for p in append["parameters"] if p["in"] == "header"}
    assert headers == {"Idempotency-Key", "If-Match"}
    assert "oneOf" in body or "anyOf" in body
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


# -- schemathesis -----------------------------------------------------------------------


CHECKS = list(CHECKS_REGISTERED.get_all())
"""Every check schemathesis has (`--checks all`): no server error, statuses, media types,
headers and bodies as documented, valid data accepted and invalid data refused, methods
not allowed answered 405 with Allow, and requests without credentials refused."""


CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"not_a_server_error": {"expected-statuses": ["1XX", "2XX", "3XX", "4XX", "503"]}}}
)
"""A read given a `min_position` not reached in time answers 503 with Retry-After, as
documented: generated positions are mostly past the end of the log (as in
tests/api/schemathesis.toml, for a run of the `st` command)."""


@pytest.fixture
def impatient_services(database_url: str) -> Iterator[Services]:
    """Services whose reads wait 10 ms for a `min_position`: the generated ones are mostly
    never reached, and each would otherwise wait the default seconds for its 503."""
    services = open_services(parse_database_url(database_url), read_wait_timeout=0.01)
    try:
        yield services
    finally:
        services.close()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_makes_the_server_fail(
    impatient_services: Services, mode: GenerationMode
) -> None:
    """No server error, and answers true to the document, for requests generated from it
    (valid ones, then invalid ones), a bounded number per operation.

    Schemathesis's pytest loader cannot resolve fixtures under this pytest, so each
    operation's strategy is driven by Hypothesis here directly.
    """
    app = create_app(impatient_services, Settings.with_keys(KEYS))
    with TestClient(app) as seeding:
        seeding.post("/v1/measures", json=fentanyl(), headers=bearer(ADMIN))
        seeding.post("/v1/negotiations", json=talks(), headers=bearer(ADMIN))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    failures: dict[str, BaseException] = {}
    # Not the endless stream, nor the deprecated /v1/diff (it only redirects).
    generated = schema.exclude(path="/v1/events/stream").exclude(deprecated=True)
    for result in generated.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            # A new Idempotency-Key per request, as the document asks (see the hooks).
            with_unique_key(case.headers)
            case.call_and_validate(headers=bearer(ADMIN), checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # an operation with no input to spoil
        except Exception as error:
            failures[operation.label] = error

    assert not failures, "\n\n".join(f"{label}: {error}" for label, error in failures.items())


@pytest.mark.parametrize("path", ["/v1/measures/{id}/events", "/v1/negotiations/{id}/events"])
def test_every_valid_request_of_the_coverage_phase_carries_an_if_match_the_server_takes(
    document: dict[str, Any], path: str
) -> None:
    """Schemathesis's coverage phase (in `st run`, not in the test above) makes header
    values of letters and digits only; it found no valid If-Match in a pattern admitting
    only `*` or `"N"`, and sent its first invalid value, a bare 0, in requests it called
    valid. The document gives `*` a branch of its own, so it always has a valid one."""
    schema = schemathesis.openapi.from_dict(document)
    operation = schema[path]["POST"]

    sent = {
        case.headers["If-Match"]
        for case in iter_coverage_cases(
            operation=operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generate_duplicate_query_parameters=False,
            unexpected_methods=set(),
            generation_config=GenerationConfig(),
        )
        if case.meta is not None
        and case.meta.generation.mode is GenerationMode.POSITIVE
        and "If-Match" in (case.headers or {})
    }

    assert sent
    for if_match in sent:
        asyncio.run(expected_version(if_match))  # InvalidValue (a 422) if refused


def test_no_string_a_request_body_takes_may_hold_a_nul(document: dict[str, Any]) -> None:
    """check_recordable refuses text with a NUL; every string of every body says so."""
    schemas = document["components"]["schemas"]
    pending = [
        operation["requestBody"]["content"]["application/json"]["schema"]
        for _, _, operation in operations(document)
        if "requestBody" in operation
    ]
    seen: set[str] = set()
    strings = []
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference not in seen:
                seen.add(reference)
                pending.append(schemas[reference.rsplit("/", 1)[1]])
            if node.get("type") == "string" and not {"enum", "const", "format"} & node.keys():
                strings.append(node)
            pending.extend(node.values())

    assert len(seen) > 10
    for string in strings:
        assert not jsonschema_rs.Draft202012Validator(string).is_valid("a\x00b"), string
