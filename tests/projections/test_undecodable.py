"""A stored event that does not decode, met by each reader of the log: the projector
(stop or skip), the log reader, the ledger writing to its stream, and a rebuild.

The damage is done with SQL on a real store (tests.faults.test_corrupt_rows): the state
of the reciprocal measure's version 3 is overwritten, and the talks' version 2 deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from cli.dataset import load_file, read_dataset_file
from domain.commands import Change
from domain.errors import StreamUnreadable
from domain.measure_changes import ChangeRate
from domain.negotiation_steps import HoldRound
from projections.projector import SKIP, Projector
from projections.timepoint import TimePoint
from storage.eventlog import EventLog, LogFilter
from storage.undecodable import UndecodableEvent
from tests.cli.test_cli import DATASET, jsonl
from tests.faults.test_corrupt_rows import RECIPROCAL, TALKS, Damage, damage_store
from tests.projections.test_projector import _facts
from tradeledger.bootstrap import Services, open_services
from tradeledger.settings import parse_database_url

QUESTION = (
    "US",
    "CN",
    "9503.00.0090",
    TimePoint.parse(on="2025-04-12", known_at="2026-01-01", recorded_at="2099-01-01"),
)


@dataclass
class Damaged:
    url: str
    services: Services
    damage: Damage


@pytest.fixture
def damaged(durable_database_url: str, tmp_path: Path) -> Iterator[Damaged]:
    """DATASET recorded and projected, then damaged; services opened after the damage."""
    url = durable_database_url
    (tmp_path / "dataset.jsonl").write_text(jsonl(DATASET))
    services = open_services(parse_database_url(url))
    load_file(services.ledger, read_dataset_file(tmp_path / "dataset.jsonl"))
    services.close()
    damage = damage_store(url)
    services = open_services(parse_database_url(url))
    try:
        yield Damaged(url, services, damage)
    finally:
        services.close()


def test_the_log_ends_a_page_before_an_undecodable_event_and_names_it(damaged: Damaged) -> None:
    log = EventLog(damaged.services.ledger)
    bad = damaged.damage.corrupted

    page = log.read(0, 100)
    with pytest.raises(UndecodableEvent) as raised:
        log.read(page.next_after, 100)
    past = log.read(bad, 100)

    assert [e.position for e in page.entries] == list(range(1, bad))
    assert (raised.value.position, raised.value.stream_id, raised.value.version) == (
        bad,
        str(RECIPROCAL),
        3,
    )
    assert raised.value.reason
    assert past.entries and past.entries[0].position > bad


def test_listing_the_log_can_step_past_undecodable_events(damaged: Damaged) -> None:
    log = EventLog(damaged.services.ledger)
    told: list[int] = []

    listed = [e.position for e in log.entries(on_undecodable=lambda e: told.append(e.position))]
    talks = [e.position for e in log.entries(where=LogFilter(stream_id=TALKS))]

    assert told == [damaged.damage.corrupted]
    assert len(listed) == 5 and damaged.damage.corrupted not in listed
    assert len(talks) == 2  # another stream's damaged event is not this reader's business


def test_stop_mode_projects_up_to_the_undecodable_event_then_stops(damaged: Damaged) -> None:
    services = damaged.services
    services.view.drop()
    services.view.create_table()

    with pytest.raises(UndecodableEvent) as raised:
        services.projector.catch_up()

    assert raised.value.position == damaged.damage.corrupted
    assert services.view.current_position() == damaged.damage.corrupted - 1


def test_skip_mode_records_the_event_and_answers_name_it(damaged: Damaged) -> None:
    services = damaged.services
    services.view.drop()
    services.view.create_table()
    projector = Projector(services.ledger, services.view, on_undecodable=SKIP)

    projector.catch_up()
    answer = services.queries.duty_on(*QUESTION)

    assert services.view.current_position() == 7
    assert projector.undecodable_seen == 1
    assert answer.as_of.undecodable_positions == (damaged.damage.corrupted,)
    assert answer.total_additional_pct == Decimal(84)  # the 125% event is not known


def test_a_rebuild_in_stop_mode_leaves_the_read_models_in_use(damaged: Damaged) -> None:
    services = damaged.services
    before = services.queries.duty_on(*QUESTION)

    with pytest.raises(UndecodableEvent):
        services.projector.rebuild()
    after = services.queries.duty_on(*QUESTION)

    assert after.total_additional_pct == before.total_additional_pct == Decimal(125)
    assert after.as_of.position == 7 and not after.as_of.undecodable_positions


@pytest.mark.parametrize(
    ("stream_id", "change", "version", "why"),
    [
        (
            RECIPROCAL,
            ChangeRate(
                _facts("RECIP-145", date(2025, 4, 20)), rate_pct=Decimal(145), hs_prefixes=()
            ),
            3,
            "does not decode",
        ),
        (
            TALKS,
            HoldRound(
                _facts("LONDON", date(2025, 6, 9)),
                summary="Talks.",
                location="London",
                round_number=None,
            ),
            2,
            "is missing",
        ),
    ],
)
def test_an_append_to_a_damaged_stream_is_refused_by_name_and_writes_nothing(
    damaged: Damaged, stream_id: UUID, change: Change, version: int, why: str
) -> None:
    ledger = damaged.services.ledger
    before = ledger.recorder.max_notification_id()

    with pytest.raises(StreamUnreadable) as raised:
        ledger.append_to_stream(stream_id, [change])

    assert (raised.value.stream_id, raised.value.version) == (stream_id, version)
    assert why in raised.value.message
    assert ledger.recorder.max_notification_id() == before


def test_a_rebuild_switches_to_the_same_answers_on_every_store(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "dataset.jsonl").write_text(jsonl(DATASET))
    services = open_services(parse_database_url(database_url))
    try:
        load_file(services.ledger, read_dataset_file(tmp_path / "dataset.jsonl"))
        before = services.queries.duty_on(*QUESTION)

        rebuilt = services.projector.rebuild()
        again = services.projector.rebuild()
        after = services.queries.duty_on(*QUESTION)
    finally:
        services.close()

    assert (rebuilt, again) == (7, 7)
    assert after == before
