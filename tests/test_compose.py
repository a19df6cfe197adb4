"""docker-compose.yml cannot be run here (no Docker engine), so check its wiring instead:
the services, ports and variables must match what the application actually reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tradeledger.settings import DATABASE_URL_VARIABLE, parse_database_url

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_has_a_healthy_postgres_with_a_volume() -> None:
    postgres = compose()["services"]["postgres"]

    assert postgres["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pgdata" in compose()["volumes"]


def test_api_and_projector_reach_postgres_through_the_database_url() -> None:
    services = compose()["services"]
    postgres_env = services["postgres"]["environment"]

    for name in ("api", "projector"):
        service = services[name]
        url = service["environment"][DATABASE_URL_VARIABLE]
        config = parse_database_url(url)
        assert config.backend == "postgres"
        assert config.env["POSTGRES_HOST"] == "postgres"
        assert config.env["POSTGRES_DBNAME"] == postgres_env["POSTGRES_DB"]
        assert config.env["POSTGRES_USER"] == postgres_env["POSTGRES_USER"]
        assert config.env["POSTGRES_PASSWORD"] == postgres_env["POSTGRES_PASSWORD"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["build"] == "."


def test_api_serves_on_the_published_port() -> None:
    api = compose()["services"]["api"]

    assert "8000:8000" in api["ports"]
    assert "--port 8000" in api["command"]
    assert "tradeledger init" in api["command"]


def test_dockerfile_copies_every_package_the_service_imports() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    for package in (
        "domain",
        "storage",
        "projections",
        "eventschema",
        "api",
        "cli",
        "tradeledger",
        "data",
    ):
        assert f"COPY {package} ./{package}" in dockerfile
