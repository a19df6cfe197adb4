"""The one settings class: every TRADELEDGER_* variable read once, checked, and mapped onto
the eventsourcing library's environment; the README's table is the class's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.stream_cache import DEFAULT_MAXSIZE
from projections.projector import DEFAULT_BATCH_SIZE
from storage.sqlite import DEFAULT_POLL_INTERVAL
from tradeledger.errors import InvalidSetting
from tradeledger.keys import Role
from tradeledger.settings import Settings, configuration_table

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("domain", "storage", "projections", "eventschema", "api", "cli", "tradeledger")


def test_unset_and_blank_variables_mean_the_defaults() -> None:
    unset = Settings.from_env({})
    blank = Settings.from_env(dict.fromkeys(Settings.variables().values(), " "))

    for settings in (unset, blank):
        assert settings.database_url == "sqlite:///tradeledger.sqlite"
        assert len(settings.api_keys) == 0
        assert settings.api_keys_file is None
        assert settings.public_read is False
        assert settings.max_body_bytes == 1 << 20
        assert settings.sse_heartbeat_seconds == 15
        assert settings.projection_batch == DEFAULT_BATCH_SIZE
        assert settings.stream_cache_maxsize == DEFAULT_MAXSIZE
        assert settings.sqlite_poll_interval == DEFAULT_POLL_INTERVAL


def test_every_variable_is_read(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text("from-file:auditor\n")

    settings = Settings.from_env(
        {
            "TRADELEDGER_DATABASE_URL": "postgresql://u:pw@db.example:6543/ledger",
            "TRADELEDGER_API_KEYS": "from-variable:writer",
            "TRADELEDGER_API_KEYS_FILE": str(keys_file),
            "TRADELEDGER_PUBLIC_READ": "yes",
            "TRADELEDGER_MAX_BODY_BYTES": "2048",
            "TRADELEDGER_SSE_HEARTBEAT_SECONDS": "0.5",
            "TRADELEDGER_PROJECTION_BATCH": "50",
            "TRADELEDGER_STREAM_CACHE_MAXSIZE": "0",
            "TRADELEDGER_SQLITE_POLL_INTERVAL": "0.05",
        }
    )

    assert settings.store.backend == "postgres"
    assert settings.api_keys.identify("from-variable") is Role.WRITER
    assert settings.api_keys.identify("from-file") is Role.AUDITOR
    assert settings.api_keys_file == keys_file
    assert settings.public_read is True
    assert (settings.max_body_bytes, settings.sse_heartbeat_seconds) == (2048, 0.5)
    assert (settings.projection_batch, settings.stream_cache_maxsize) == (50, 0)
    assert settings.sqlite_poll_interval == 0.05


def test_the_process_environment_is_read_by_from_env_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADELEDGER_PROJECTION_BATCH", "7")

    assert Settings.from_env().projection_batch == 7
    assert Settings.of().projection_batch == DEFAULT_BATCH_SIZE
    assert Settings.with_keys({}).projection_batch == DEFAULT_BATCH_SIZE
    assert Settings.from_env({}).projection_batch == DEFAULT_BATCH_SIZE


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRADELEDGER_PROJECTION_BATCH", "0", "must be at least 1, not '0'"),
        ("TRADELEDGER_PROJECTION_BATCH", "-5", "must be at least 1, not '-5'"),
        ("TRADELEDGER_PROJECTION_BATCH", "ten", "expected a whole number, not 'ten'"),
        ("TRADELEDGER_STREAM_CACHE_MAXSIZE", "-1", "must be at least 0"),
        ("TRADELEDGER_MAX_BODY_BYTES", "0", "must be at least 1"),
        ("TRADELEDGER_MAX_BODY_BYTES", "1.5", "expected a whole number"),
        ("TRADELEDGER_SSE_HEARTBEAT_SECONDS", "nan", "expected a number"),
        ("TRADELEDGER_SSE_HEARTBEAT_SECONDS", "inf", "expected a number"),
        ("TRADELEDGER_SQLITE_POLL_INTERVAL", "0", "must be more than 0"),
        ("TRADELEDGER_PUBLIC_READ", "maybe", "expected 1 or 0, not 'maybe'"),
        ("TRADELEDGER_ON_UNDECODABLE", "ignore", "expected 'stop' or 'skip', not 'ignore'"),
        ("TRADELEDGER_DATABASE_URL", "mysql://h/db", "unsupported scheme 'mysql'"),
        ("TRADELEDGER_DATABASE_URL", "postgresql://h", "must look like postgresql://"),
        ("TRADELEDGER_API_KEYS", "secret-key:root", "line 1: unknown role 'root'"),
        ("TRADELEDGER_API_KEYS_FILE", "/no/such/file", "cannot read '/no/such/file'"),
    ],
)
def test_a_value_that_cannot_work_is_one_line_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(InvalidSetting) as raised:
        Settings.from_env({variable: value})

    text = str(raised.value)
    assert text.startswith(variable)
    assert message in text
    assert "\n" not in text
    assert "secret-key" not in text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "sqlite:///ledger.sqlite",
            {"PERSISTENCE_MODULE": "storage.sqlite", "SQLITE_DBNAME": "ledger.sqlite"},
        ),
        ("memory://", {"PERSISTENCE_MODULE": "storage.popo"}),
        (
            "postgresql://u:p%40ss@db:6543/ledger",
            {
                "PERSISTENCE_MODULE": "storage.postgres",
                "POSTGRES_DBNAME": "ledger",
                "POSTGRES_HOST": "db",
                "POSTGRES_PORT": "6543",
                "POSTGRES_USER": "u",
                "POSTGRES_PASSWORD": "p@ss",
            },
        ),
    ],
)
def test_the_store_url_becomes_the_librarys_environment(url: str, expected: dict[str, str]) -> None:
    env = Settings.of(database_url=url, stream_cache_maxsize=5).library_env()

    assert env.items() >= expected.items()
    assert env["STREAM_CACHE_MAXSIZE"] == "5"
    assert ("SQLITE_POLL_INTERVAL" in env) == url.startswith("sqlite")


def test_the_readme_table_is_the_settings_class() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [
        tuple(cell.strip() for cell in line.strip().strip("|").split(" | "))
        for line in section.splitlines()
        if line.startswith("| `TRADELEDGER_")
    ]

    expected = [(f"`{variable}`", meaning, default) for variable, meaning, default in
                configuration_table()]  # fmt: skip
    assert rows == expected, "regenerate the table with: python -m tradeledger.settings"


def test_nothing_below_the_composition_root_reads_the_environment() -> None:
    readers = re.compile(r"\bos\.environ\b|\bgetenv\(|\benviron\.get\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PRODUCT
        if package != "tradeledger"
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if readers.search(line)
    ]

    assert offenders == []
