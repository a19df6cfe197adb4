"""The HTTP API through the real app, on every backend (tests/conftest.py).

`client` is a TestClient of `create_app(open_services(parse_database_url(url)))` for the
in-memory store, a SQLite file in tmp_path, or a PostgreSQL database of this test session
emptied before each test (TRUNCATE ... RESTART IDENTITY: the same empty store as a new database,
without the second it takes PostgreSQL to drop one). Keys: one per role.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from api.main import create_app
from api.settings import Settings
from eventschema import MEASURE_EVENT_MODELS, NEGOTIATION_EVENT_MODELS, EventIn
from tests.conftest import (
    PostgresDatabase,
    create_database,
    drop_database,
    postgres_server_url,
)
from tradeledger.bootstrap import Services, open_services
from tradeledger.settings import parse_database_url

with warnings.catch_warnings():
    # Starlette would rather the test client ran on `httpx2`; httpx works the same.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient as TestClient

WRITER, AUDITOR, ADMIN = "writer-key", "auditor-key", "admin-key"
KEYS = {WRITER: "writer", AUDITOR: "auditor", ADMIN: "admin"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# -- stores -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def api_postgres_database() -> Iterator[PostgresDatabase]:
    """One PostgreSQL database for this session's API tests (emptied before each)."""
    server_url = postgres_server_url()
    try:
        database = create_database(server_url)
    except psycopg.OperationalError as error:
        pytest.fail(f"cannot create a test database: {error}", pytrace=False)
    try:
        yield database
    finally:
        drop_database(server_url, database)


def empty_postgres(database: PostgresDatabase) -> None:
    """Remove every recorded row (tables stay; sequences restart at 1)."""
    with psycopg.connect(database.url, autocommit=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        # The library marks the tracking table's layout with a "__migration__" row,
        # which must stay, or it would migrate the table again.
        tracking = [name for name in names if name.endswith("_tracking")]
        others = [name for name in names if name not in tracking]
        if others:
            tables = sql.SQL(", ").join(sql.Identifier(name) for name in others)
            connection.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(tables))
        for name in tracking:
            connection.execute(
                sql.SQL("DELETE FROM {} WHERE application_name <> '__migration__'").format(
                    sql.Identifier(name)
                )
            )


@pytest.fixture
def postgres_database(api_postgres_database: PostgresDatabase) -> PostgresDatabase:
    """The session's database, emptied: the API suite's PostgreSQL store (creating a
    database per test would take most of the suite's time)."""
    empty_postgres(api_postgres_database)
    return api_postgres_database


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    services = open_services(parse_database_url(database_url))
    try:
        yield services
    finally:
        services.close()


MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(services: Services) -> Iterator[MakeClient]:
    """Clients of apps over the same store, with settings of the test's choosing."""
    clients: list[TestClient] = []

    def make(settings: Settings | None = None, **options: Any) -> TestClient:
        app = create_app(services, settings or Settings.with_keys(KEYS))
        client = TestClient(app, **options)
        client.__enter__()
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """A client of the app, sending the writer's key by default."""
    made = make_client()
    made.headers.update(bearer(WRITER))
    return made


# -- events -----------------------------------------------------------------------------


def example(model: type[EventIn], index: int = 0, **fields: Any) -> dict[str, Any]:
    """The model's documented example (the one OpenAPI shows), with some fields replaced."""
    found = copy.deepcopy(model.schema_examples()[index])
    return {**found, **fields}


def examples_by_type(kind: str) -> dict[str, dict[str, Any]]:
    models = MEASURE_EVENT_MODELS if kind == "measure" else NEGOTIATION_EVENT_MODELS
    return {example(m)["type"]: example(m) for m in models}


SOURCES = [
    {"citation": "Executive Order 14257", "publisher": "The White House", "reliability": "official"}
]


def event(event_type: str, event_id: str, on: str | None, **fields: Any) -> dict[str, Any]:
    """An event body: effective `on`, announced the same day unless `announced_at` is given."""
    return {
        "type": event_type,
        "event_id": event_id,
        "effective_on": on,
        "announced_at": on,
        "sources": SOURCES,
        "recorded_by": "analyst@example.org",
        **fields,
    }


def fentanyl() -> dict[str, Any]:
    return event(
        "imposed",
        "US-CN-FENT-10",
        "2025-02-04",
        key="us-cn-fentanyl",
        imposer="US",
        name="IEEPA fentanyl tariff on China",
        targets=["CN"],
        layer="ieepa_fentanyl",
        rate_pct=10,
        announced_at="2025-02-01",
    )


def reciprocal() -> dict[str, Any]:
    return event(
        "imposed",
        "US-CN-RECIP-34",
        "2025-04-09",
        key="us-cn-reciprocal",
        imposer="US",
        name="Reciprocal tariff on China",
        targets=["CN"],
        layer="ieepa_reciprocal",
        rate_pct=34,
        announced_at="2025-04-02",
    )


def talks() -> dict[str, Any]:
    return event(
        "opened",
        "US-CN-TALKS",
        "2025-04-09",
        key="us-cn-trade-talks",
        title="US-China trade talks",
        parties=["US", "CN"],
        summary="Both sides say they are open to talks.",
    )


def seed_us_china(client: TestClient) -> None:
    """The 2025 US-China story of DOMAIN.md, as far as its worked examples need it."""
    posts: list[tuple[str, Any]] = [
        ("/v1/measures", fentanyl()),
        ("/v1/measures/us-cn-fentanyl/events", event("rate_changed", "US-CN-FENT-20",
            "2025-03-04", rate_pct=20, announced_at="2025-03-03")),
        ("/v1/measures", reciprocal()),
        ("/v1/measures/us-cn-reciprocal/events", {"events": [
            event("rate_changed", "US-CN-RECIP-84", "2025-04-10", rate_pct=84,
                  announced_at="2025-04-09"),
            event("rate_changed", "US-CN-RECIP-125", "2025-04-10", rate_pct="125",
                  announced_at="2025-04-09T18:00:00Z"),
        ]}),
        ("/v1/measures/us-cn-reciprocal/events", event("exclusion_granted", "US-RECIP-ELEC-EXCL",
            "2025-04-05", hs_prefixes=["8517.13", "8471.30"],
            announced_at="2025-04-11T21:00:00-04:00")),
        ("/v1/negotiations", talks()),
        ("/v1/negotiations/us-cn-trade-talks/events", event("round_held", "GENEVA-ROUND",
            "2025-05-10", location="Geneva", summary="Two days of talks in Geneva.")),
        ("/v1/negotiations/us-cn-trade-talks/events", event("joint_statement_issued",
            "GENEVA-STATEMENT", "2025-05-12", truce_ends_on="2025-08-12",
            summary="A 90-day truce.")),
        ("/v1/measures/us-cn-reciprocal/events", {"events": [
            event("rate_changed", "US-CN-GENEVA-34", "2025-05-14", rate_pct=34,
                  announced_at="2025-05-12"),
            event("suspension_granted", "US-CN-GENEVA", "2025-05-14", points=24,
                  ends_on="2025-08-12", announced_at="2025-05-12"),
        ]}),
    ]  # fmt: skip
    for path, body in posts:
        response = client.post(path, json=body)
        assert response.status_code == 201, response.text
