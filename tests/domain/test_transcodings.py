"""The ledger's transcoder stores exactly what the library's JSONTranscoder stores.

It only prints and parses faster (orjson), so events written by either read back the
same through either, and stored events need no migration.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from domain import transcodings
from domain.ledger import Ledger
from domain.values import Provenance, Reliability, Source
from tradeledger.settings import parse_database_url


def registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *transcodings.ALL):
        transcoder.register(transcoding)
    return transcoder


def library() -> JSONTranscoder:
    return registered(JSONTranscoder())


def ledgers() -> JSONTranscoder:
    return registered(transcodings.LedgerJSONTranscoder())


STATE: dict[str, Any] = {
    "timestamp": datetime(2025, 4, 9, 14, 30, 1, 123456, tzinfo=UTC),
    "event_id": "US-CN-RECIP-84",
    "effective_on": date(2025, 4, 9),
    "announced_at": datetime(2025, 4, 8, 22, 0, tzinfo=UTC),
    "provenance": Provenance(
        (
            Source("Executive Order 14259", "The White House", Reliability.OFFICIAL),
            Source(
                "https://www.reuters.com/ \u00ab quoted \u00bb 关税", "Reuters", Reliability.PRESS
            ),
        ),
        recorded_by="analyst@example.org",
        note="retroactive; see § 2",
    ),
    "rate_pct": Decimal("84.50"),
    "rate_by_prefix": {"8703.80": Decimal("100"), "8517": Decimal("0")},
    "hs_prefixes": ("8517", "851713"),
    "ends_on": None,
    "round_number": 3,
    "collection_stops": False,
    "class_version": 2,
}


def test_it_writes_the_same_bytes_as_the_library() -> None:
    assert ledgers().encode(STATE) == library().encode(STATE)


def test_what_either_writes_the_other_reads_back_alike() -> None:
    stored = library().encode(STATE)

    assert ledgers().decode(stored) == library().decode(stored)
    assert ledgers().decode(ledgers().encode(STATE)) == library().decode(stored)


def test_a_uuid_value_is_tagged_as_the_library_tags_it() -> None:
    state = {"ids": [UUID("0b5f4a5e-2c55-5e43-9d0e-6a4c1f3f2b10")], "n": 1}

    stored = ledgers().encode(state)

    assert stored == library().encode(state)
    assert ledgers().decode(stored) == state


def test_integers_beyond_64_bits_are_written_as_the_library_writes_them() -> None:
    state = {"big": 2**70}

    assert ledgers().encode(state) == library().encode(state)
    assert ledgers().decode(ledgers().encode(state)) == state


def test_an_unknown_type_name_is_refused_as_by_the_library() -> None:
    stored = b'{"x":{"_type_":"no_such_type","_data_":"1"}}'

    with pytest.raises(TranscodingNotRegisteredError):
        ledgers().decode(stored)


def test_the_ledger_uses_it_unless_another_transcoder_is_configured() -> None:
    env = parse_database_url("memory://").env
    default = Ledger(env)
    configured = Ledger({**env, "TRANSCODER_TOPIC": "eventsourcing.persistence:JSONTranscoder"})

    assert type(default.mapper.transcoder) is transcodings.LedgerJSONTranscoder
    assert type(configured.mapper.transcoder) is JSONTranscoder


class DatetimeAsUTC(DatetimeAsISO):
    """A subclass of a library transcoding that decodes differently."""

    def decode(self, data: str) -> datetime:
        return super().decode(data).astimezone(UTC)


def test_a_subclass_of_a_library_transcoding_decodes_its_own_way() -> None:
    transcoder = ledgers()
    transcoder.register(DatetimeAsUTC())
    stored = b'{"at":{"_type_":"datetime_iso","_data_":"2025-04-09T02:00:00+02:00"}}'

    assert transcoder.decode(stored)["at"].tzinfo is UTC


def test_a_transcoding_put_straight_into_names_still_decodes() -> None:
    transcoder = transcodings.LedgerJSONTranscoder()
    transcoder.names["decimal_str"] = DecimalAsStr()

    assert transcoder.decode(b'{"r":{"_type_":"decimal_str","_data_":"8.5"}}') == {
        "r": Decimal("8.5")
    }
