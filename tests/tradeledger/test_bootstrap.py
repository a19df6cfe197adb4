"""The composition root opens what the settings say, and nothing else: the process
environment reaches the ledger only through Settings.from_env."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest

from domain.stream_cache import DEFAULT_MAXSIZE
from projections.projector import DEFAULT_BATCH_SIZE
from tradeledger.bootstrap import open_ledger, open_services
from tradeledger.errors import ConfigurationError
from tradeledger.settings import Settings, parse_database_url


def test_the_services_are_opened_as_the_settings_say(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    settings = Settings.of(database_url=url, projection_batch=3, stream_cache_maxsize=7)

    with closing(open_services(settings)) as services:
        assert services.settings is settings
        assert services.config == parse_database_url(url)
        assert services.projector.batch_size == 3
        assert services.ledger.streams.maxsize == 7
    assert (tmp_path / "ledger.sqlite").is_file()


def test_a_store_config_alone_means_every_other_setting_at_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADELEDGER_PROJECTION_BATCH", "3")

    with closing(open_services(parse_database_url("memory://"))) as services:
        assert services.projector.batch_size == DEFAULT_BATCH_SIZE
        assert services.ledger.streams.maxsize == DEFAULT_MAXSIZE


def test_the_ledger_does_not_read_the_process_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The library's Application would take these from os.environ, over the settings.
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.popo")
    monkeypatch.setenv("TRADELEDGER_PERSISTENCE_MODULE", "eventsourcing.popo")
    monkeypatch.setenv("STREAM_CACHE_MAXSIZE", "0")
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"

    with closing(open_ledger(Settings.of(database_url=url))) as ledger:
        assert ledger.env.get("PERSISTENCE_MODULE") == "storage.sqlite"
        assert ledger.streams.maxsize == DEFAULT_MAXSIZE
    assert (tmp_path / "ledger.sqlite").is_file()


def test_by_default_the_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADELEDGER_DATABASE_URL", "memory://")
    monkeypatch.setenv("TRADELEDGER_PROJECTION_BATCH", "11")

    with closing(open_services()) as services:
        assert services.config.backend == "popo"
        assert services.projector.batch_size == 11


def test_a_sqlite_file_in_a_missing_directory_is_refused_before_anything_is_built(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'ledger.sqlite'}"

    with pytest.raises(ConfigurationError, match="TRADELEDGER_DATABASE_URL: directory"):
        open_ledger(Settings.of(database_url=url))
