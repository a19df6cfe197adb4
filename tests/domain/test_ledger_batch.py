"""Ledger.append_batch: many streams, one transaction, idempotent by event id.

Every test runs on a real store (in memory, a SQLite file, and, marked `postgres`, a
PostgreSQL database of its own); whether something was written is read back from the
recorder's own notification log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.commands import (
    AppendChange,
    BatchItem,
    BatchItemError,
    ImposeMeasure,
    MeasureTerms,
    OpenNegotiation,
    change_type,
)
from domain.errors import (
    DomainError,
    DuplicateEventId,
    InvalidTransition,
    StreamAlreadyExists,
    StreamNotFound,
    UnknownEventReference,
    VersionConflict,
    WrongStreamKind,
)
from domain.events import Facts
from domain.ledger import MEASURE, NEGOTIATION, Ledger, stream_id_for_key
from domain.measure_changes import ChangeRate
from domain.negotiation_steps import ResumeTalks
from domain.stream_queue import StreamBusy
from domain.values import Provenance, Reliability, Source
from tests.domain.test_ledger import event_ids
from tradeledger.settings import parse_database_url

PROVENANCE = Provenance(
    (Source("https://www.federalregister.gov/", "Federal Register", Reliability.OFFICIAL),),
    recorded_by="analyst@tradeledger",
)
RECIPROCAL_ID = stream_id_for_key(MEASURE, "us-cn-reciprocal")
TALKS_ID = stream_id_for_key(NEGOTIATION, "us-cn-trade-talks")


def facts(event_id: str, day: date) -> Facts:
    return Facts(event_id, day, datetime.combine(day, time.min, tzinfo=UTC), PROVENANCE)


def impose_reciprocal(event_id: str = "US-CN-RECIP-34") -> ImposeMeasure:
    return ImposeMeasure(
        measure_id=RECIPROCAL_ID,
        key="us-cn-reciprocal",
        facts=facts(event_id, date(2025, 4, 9)),
        terms=MeasureTerms(
            imposer="US",
            name="Reciprocal tariff on China",
            targets=("CN",),
            layer="ieepa_reciprocal",
            rate_pct=Decimal("34"),
        ),
    )


def open_talks(event_id: str = "US-CN-TALKS") -> OpenNegotiation:
    return OpenNegotiation(
        negotiation_id=TALKS_ID,
        key="us-cn-trade-talks",
        facts=facts(event_id, date(2025, 4, 9)),
        title="US-China trade talks",
        parties=("US", "CN"),
        summary="Both sides say they are open to talks.",
    )


def measure_change(event_type: str, event_id: str, day: date, **fields: Any) -> AppendChange:
    """A change to the reciprocal measure, named by its public type."""
    change = change_type(MEASURE, event_type)(facts(event_id, day), **fields)
    return AppendChange(RECIPROCAL_ID, change)


def step(event_type: str, event_id: str, day: date, **fields: Any) -> AppendChange:
    """A step of the US-China talks, named by its public type; its summary is the type."""
    fields.setdefault("summary", event_type.replace("_", " "))
    return AppendChange(
        TALKS_ID, change_type(NEGOTIATION, event_type)(facts(event_id, day), **fields)
    )


def rate(event_id: str, pct: str, day: date) -> AppendChange:
    change = ChangeRate(facts(event_id, day), rate_pct=Decimal(pct), hs_prefixes=())
    return AppendChange(RECIPROCAL_ID, change)


GENEVA: list[BatchItem] = [
    impose_reciprocal(),
    open_talks(),
    rate("US-CN-RECIP-84", "84", date(2025, 4, 10)),
    step("round_held", "GENEVA-ROUND", date(2025, 5, 10), location="Geneva", round_number=1),
    rate("US-CN-RECIP-125", "125", date(2025, 4, 10)),
    step("joint_statement_issued", "GENEVA-STATEMENT", date(2025, 5, 12), truce_ends_on=None),
]
"""Two streams created and changed, their items interleaved as in a dataset file."""


def _notifications(ledger: Ledger) -> list[Any]:
    return list(ledger.recorder.select_notifications(None, 10_000))


def event_log(ledger: Ledger) -> list[tuple[int, UUID, int, str, bytes]]:
    """Everything the store holds, in order: what "nothing changed" is checked against."""
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state)
        for n in _notifications(ledger)
    ]


def test_a_batch_creates_and_changes_several_streams_in_order(ledger: Ledger) -> None:
    result = ledger.append_batch(GENEVA)

    assert (result.added, result.skipped) == (6, 0)
    assert result.versions == {RECIPROCAL_ID: 3, TALKS_ID: 3}
    assert [(n.originator_id, n.originator_version) for n in _notifications(ledger)] == [
        (RECIPROCAL_ID, 1),
        (TALKS_ID, 1),
        (RECIPROCAL_ID, 2),
        (TALKS_ID, 2),
        (RECIPROCAL_ID, 3),
        (TALKS_ID, 3),
    ]
    assert event_ids(ledger, RECIPROCAL_ID) == [
        "US-CN-RECIP-34",
        "US-CN-RECIP-84",
        "US-CN-RECIP-125",
    ]


def test_loading_the_same_batch_twice_adds_nothing(ledger: Ledger) -> None:
    ledger.append_batch(GENEVA)
    before = event_log(ledger)

    result = ledger.append_batch(GENEVA)

    assert (result.added, result.skipped) == (0, 6)
    assert result.versions == {RECIPROCAL_ID: 3, TALKS_ID: 3}
    assert event_log(ledger) == before


def test_a_batch_overlapping_what_is_recorded_adds_only_the_new_items(ledger: Ledger) -> None:
    ledger.append_batch(GENEVA[:3])

    result = ledger.append_batch(GENEVA)

    assert (result.added, result.skipped) == (3, 3)
    assert len(event_log(ledger)) == 6


def test_a_failing_item_leaves_every_stream_as_it_was(ledger: Ledger) -> None:
    ledger.append_batch(GENEVA[:2])
    before = event_log(ledger)
    batch = [
        *GENEVA[2:],
        measure_change(
            "suspension_extended",
            "EXTEND-NOTHING",
            date(2025, 8, 11),
            suspension_event_id="NO-SUCH-SUSPENSION",
            ends_on=date(2025, 11, 10),
        ),
        rate("US-CN-RECIP-10", "10", date(2025, 5, 14)),
    ]

    with pytest.raises(BatchItemError) as raised:
        ledger.append_batch(batch)

    assert raised.value.index == 4
    assert isinstance(raised.value.error, UnknownEventReference)
    assert str(raised.value).startswith("item 4: ")
    assert event_log(ledger) == before


def test_domain_rules_see_the_items_before_them_in_the_batch(ledger: Ledger) -> None:
    batch: list[BatchItem] = [
        open_talks(),
        step("talks_collapsed", "COLLAPSE", date(2025, 5, 1)),
        step("round_held", "ROUND", date(2025, 5, 10), location="Geneva", round_number=1),
    ]

    with pytest.raises(BatchItemError) as raised:
        ledger.append_batch(batch)

    assert raised.value.index == 2
    assert isinstance(raised.value.error, InvalidTransition)
    assert event_log(ledger) == []


def test_a_suspension_can_be_granted_and_extended_in_one_batch(ledger: Ledger) -> None:
    batch: list[BatchItem] = [
        impose_reciprocal(),
        measure_change(
            "suspension_granted",
            "GENEVA-SUSPEND",
            date(2025, 5, 14),
            points=Decimal("24"),
            ends_on=date(2025, 8, 12),
        ),
        measure_change(
            "suspension_extended",
            "GENEVA-EXTEND",
            date(2025, 8, 12),
            suspension_event_id="GENEVA-SUSPEND",
            ends_on=date(2025, 11, 10),
        ),
    ]

    result = ledger.append_batch(batch)

    assert result.versions == {RECIPROCAL_ID: 3}


STEP_SENT_TO_THE_MEASURE = AppendChange(
    RECIPROCAL_ID, ResumeTalks(facts("R", date(2025, 5, 1)), summary="talks resumed")
)
RULE_BREAKERS: dict[str, tuple[list[BatchItem], int]] = {
    "stream-created-twice": ([impose_reciprocal(), impose_reciprocal("OTHER-ID")], 1),
    "no-such-stream": ([rate("US-CN-RECIP-84", "84", date(2025, 4, 10))], 0),
    "wrong-kind": ([impose_reciprocal(), STEP_SENT_TO_THE_MEASURE], 1),
    "event-id-reused": ([impose_reciprocal(), rate("US-CN-RECIP-34", "84", date(2025, 4, 10))], 1),
}


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("stream-created-twice", StreamAlreadyExists),
        ("no-such-stream", StreamNotFound),
        ("wrong-kind", WrongStreamKind),
        ("event-id-reused", DuplicateEventId),
    ],
)
def test_an_item_breaking_a_rule_is_named_by_its_index(
    ledger: Ledger, case: str, error: type[DomainError]
) -> None:
    batch, index = RULE_BREAKERS[case]

    with pytest.raises(BatchItemError) as raised:
        ledger.append_batch(batch)

    assert raised.value.index == index
    assert isinstance(raised.value.error, error)
    assert raised.value.message == f"item {index}: {raised.value.error.message}"
    assert event_log(ledger) == []


def test_creating_an_existing_stream_under_another_event_id_is_refused(ledger: Ledger) -> None:
    ledger.append_batch([impose_reciprocal()])

    with pytest.raises(BatchItemError) as raised:
        ledger.append_batch([impose_reciprocal("US-CN-RECIP-34-AGAIN")])

    assert isinstance(raised.value.error, StreamAlreadyExists)
    assert raised.value.error.stream_id == RECIPROCAL_ID


def test_a_creating_item_does_not_match_a_stream_of_the_other_kind(ledger: Ledger) -> None:
    ledger.append_batch([impose_reciprocal("SAME-ID")])
    talks_at_the_measure_id = OpenNegotiation(
        RECIPROCAL_ID, "", facts("SAME-ID", date(2025, 4, 9)), "Talks", ("US", "CN"), "summary"
    )

    with pytest.raises(BatchItemError) as raised:
        ledger.append_batch([talks_at_the_measure_id])

    assert isinstance(raised.value.error, StreamAlreadyExists)


def test_an_empty_batch_records_nothing(ledger: Ledger) -> None:
    result = ledger.append_batch([])

    assert (result.added, result.skipped, result.versions) == (0, 0, {})
    assert event_log(ledger) == []


# -- concurrency: a second Ledger on the same SQLite file plays the other writer -----------


class RacedLedger(Ledger):
    """A Ledger whose first save is preceded by another process's write to the same stream."""

    def __init__(self, env: dict[str, str], rival: Ledger) -> None:
        super().__init__(env)
        self.rival = rival
        self.saves = 0

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        self.saves += 1
        if self.saves == 1:
            self.rival.append_batch([rate("RIVAL-RATE", "50", date(2025, 4, 9))])
        return super().save(*objs, **kwargs)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return parse_database_url(f"sqlite:///{tmp_path}/raced.sqlite").env


def test_a_batch_raced_by_another_writer_starts_again_on_fresh_state(
    sqlite_env: dict[str, str],
) -> None:
    rival = Ledger(sqlite_env)
    rival.append_batch([impose_reciprocal()])
    ledger = RacedLedger(sqlite_env, rival)

    result = ledger.append_batch([rate("US-CN-RECIP-84", "84", date(2025, 4, 10))])

    assert (ledger.saves, result.added) == (2, 1)
    assert event_ids(ledger, RECIPROCAL_ID) == ["US-CN-RECIP-34", "RIVAL-RATE", "US-CN-RECIP-84"]
    ledger.close()
    rival.close()


def test_a_batch_raced_when_patience_is_out_is_refused_as_busy_not_as_a_conflict(
    sqlite_env: dict[str, str],
) -> None:
    rival = Ledger(sqlite_env)
    rival.append_batch([impose_reciprocal()])
    ledger = RacedLedger(sqlite_env, rival)

    with pytest.raises(StreamBusy) as raised:
        ledger.append_batch([rate("US-CN-RECIP-84", "84", date(2025, 4, 10))], patience=0)

    assert raised.value.stream_id == RECIPROCAL_ID
    assert raised.value.rule == "stream_busy"
    conflict = raised.value.__cause__
    assert isinstance(conflict, VersionConflict)
    assert (conflict.expected_version, conflict.current_version) == (1, 2)
    assert event_ids(ledger, RECIPROCAL_ID) == ["US-CN-RECIP-34", "RIVAL-RATE"]
    ledger.close()
    rival.close()
