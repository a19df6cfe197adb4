"""docker-compose.yml cannot be run here (no Docker engine), so check its wiring instead:
the services, ports and variables must match what the application actually reads, and the
Dockerfile must copy what the wheel is built from (pyproject.toml says what that is)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from tradeledger.settings import DATABASE_URL_VARIABLE, Settings, parse_database_url

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


def test_every_variable_the_services_set_is_a_setting() -> None:
    services = compose()["services"]

    for name in ("api", "projector"):
        for variable in services[name]["environment"]:
            assert variable in Settings.variables().values(), (name, variable)


def test_the_api_loads_the_dataset_the_package_ships() -> None:
    command = compose()["services"]["api"]["command"]

    assert "tradeledger load &&" in command  # no path: the dataset inside the package


def built_from() -> set[str]:
    """The top-level folders the wheel is built from, as pyproject.toml lists them."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = setuptools["package-dir"]
    return {
        folders.get(package, package).split("/")[0]
        for package in setuptools["packages"]
        if "." not in package or package in folders
    }


def test_dockerfile_copies_what_the_wheel_is_built_from_and_nothing_else() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) \./\1$", dockerfile, flags=re.MULTILINE))

    assert built_from() == {
        "domain", "storage", "projections", "eventschema", "api", "cli", "tradeledger", "data"
    }  # fmt: skip
    assert copied == built_from()
    assert "COPY pyproject.toml README.md ./" in dockerfile
    assert "COPY bench" not in dockerfile
    assert "pip install --no-cache-dir ." in dockerfile


def test_every_service_restarts_unless_stopped() -> None:
    services = compose()["services"]
    policies = {name: service.get("restart") for name, service in services.items()}

    assert policies == dict.fromkeys(services, "unless-stopped")
