"""The Ledger application on every backend (tests/conftest.py), configured the way
deployments configure it: a database URL, parsed by the composition root into the
library's environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.ledger import Ledger
from tradeledger.settings import parse_database_url


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    """A Ledger on a new, empty store of each backend, closed after the test."""
    ledger = Ledger(parse_database_url(database_url).env)
    try:
        yield ledger
    finally:
        ledger.close()
