"""Worlds for the oracle test: a ledger plus its read side, fresh for every example.

Hypothesis runs a test body hundreds of times with one fixture value, so the fixture
here is a *backend* that hands out a fresh `World` per example, as cheaply as the
backend allows:

* ``popo``: a new in-memory ledger (and in-memory SQLite read model) per example.
* ``sqlite``: a new SQLite file per example, in the test's temporary directory.
* ``postgres``: one database per test (the shared ``postgres_database`` fixture), one
  ledger and read model on it, reused by every example. Creating tables per example
  would cost more than the rest of the example. Each example instead uses fresh
  measure ids (uuid4) and a fresh importer (imposer) drawn in turn from every ISO
  country code, so that in practice no example sees another's measures. Soundness does
  not depend on that: the specification always folds every event of the store that
  the query could see (all streams of the importer, or the one stream asked about),
  exactly as the implementation does. If the pool of countries wraps round, both
  sides see the older measures alike, and only the independence of examples is lost.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import pytest

from domain.ledger import Ledger
from domain.measure import TariffMeasure
from domain.values import ISO_3166_ALPHA_2
from projections.queries import Queries
from tests.conftest import PostgresDatabase
from tests.projections.spec import Recorded, read_log
from tradeledger.bootstrap import Services, open_services
from tradeledger.settings import StoreConfig, parse_database_url

ORIGINS = ("CN", "HK", "MX", "DE")
"""The origins the generated measures target; never used as an importer."""

FOREIGN_IMPOSER = "CA"
"""Imposes measures that must never appear in the importer's answers; never an importer."""

IMPORTER_POOL = tuple(sorted(ISO_3166_ALPHA_2 - {*ORIGINS, FOREIGN_IMPOSER}))


@dataclass
class World:
    """One ledger with its read side, as one example of the oracle test sees it.

    It keeps a decoded copy of the store's log (read incrementally), so that the
    specification can fold over raw events without re-reading the whole store per query.
    """

    services: Services
    importer: str
    _log_position: int = 0
    _streams: dict[UUID, list[Recorded]] = field(default_factory=dict)
    _imposers: dict[UUID, str] = field(default_factory=dict)

    def refresh(self) -> list[Recorded]:
        """Read what the store recorded since the last refresh; return it."""
        new = read_log(self.ledger, start=self._log_position + 1)
        for recorded in new:
            self._streams.setdefault(recorded.stream_id, []).append(recorded)
            if isinstance(recorded.event, TariffMeasure.Imposed):
                self._imposers[recorded.stream_id] = recorded.event.imposer
        if new:
            self._log_position = max(r.position for r in new)
        return new

    def events_of_imposer(self, imposer: str) -> list[Recorded]:
        """Every stored event of every measure `imposer` ever imposed, in log order.

        Streams of other imposers can never be part of a duty answer for `imposer`
        (rule c.), whatever the time axes, so leaving them out changes no answer.
        """
        events = [
            r
            for stream_id, stream in self._streams.items()
            if self._imposers.get(stream_id) == imposer
            for r in stream
        ]
        return sorted(events, key=lambda r: r.position)

    def events_of_stream(self, stream_id: UUID) -> list[Recorded]:
        return list(self._streams.get(stream_id, []))

    @property
    def ledger(self) -> Ledger:
        return self.services.ledger

    @property
    def queries(self) -> Queries:
        return self.services.queries

    def close(self) -> None:
        self.services.close()


def open_world(config: StoreConfig, importer: str) -> World:
    """The ledger and its read side wired as every process wires them (open_services)."""
    services = open_services(config)
    return World(services, importer)


class Backend:
    """Hands out one World per example on one backend."""

    def __init__(self, name: str, tmp_path: Path, postgres_url: str | None = None) -> None:
        self.name = name
        self._tmp_path = tmp_path
        self._counter = itertools.count()
        self._importers = itertools.cycle(IMPORTER_POOL)
        self._shared: World | None = None
        if postgres_url is not None:
            self._shared = open_world(parse_database_url(postgres_url), IMPORTER_POOL[0])

    @contextmanager
    def world(self) -> Iterator[World]:
        """A world with nothing of this example in it yet."""
        if self._shared is not None:
            world = self._shared
            world.importer = next(self._importers)
            world.refresh()
            yield world
            return
        if self.name == "sqlite":
            url = f"sqlite:///{self._tmp_path / f'example-{next(self._counter)}.sqlite'}"
        else:
            url = "memory://"
        world = open_world(parse_database_url(url), "US")
        try:
            yield world
        finally:
            world.close()

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()


@pytest.fixture
def oracle_backend(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Backend]:
    """Each backend (tests/conftest.py) for the oracle test; PostgreSQL gets a database of
    its own."""
    postgres_url = None
    if backend == "postgres":
        database: PostgresDatabase = request.getfixturevalue("postgres_database")
        postgres_url = database.url
    worlds = Backend(backend, tmp_path, postgres_url)
    try:
        yield worlds
    finally:
        worlds.close()
