"""Stored events outlive their classes: `TariffMeasure.RateChanged` v1 events still load.

Version 2 of RateChanged added `hs_prefixes` (a rate change for some products only).
The library's mapper stores `class_version` only for classes above version 1, and on
reading runs `upcast_v1_v2` on any state stored without it. These tests write a v1
event as the mapper wrote it then, straight into the application's recorder, and read
it back through the Ledger.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.commands import ImposeMeasure, MeasureTerms
from domain.events import Facts
from domain.ledger import Ledger
from domain.measure import TariffMeasure
from domain.measure_changes import ChangeRate
from domain.values import Provenance, Reliability, Source

PROVENANCE = Provenance(
    (
        Source(
            "https://www.whitehouse.gov/presidential-actions/2025/04/",
            "White House",
            Reliability.OFFICIAL,
        ),
    ),
    recorded_by="analyst@tradeledger",
)


def impose_reciprocal(ledger: Ledger) -> UUID:
    measure_id = uuid4()
    ledger.create_stream(
        ImposeMeasure(
            measure_id=measure_id,
            key="us-cn-reciprocal",
            facts=Facts(
                "US-CN-RECIP-34",
                date(2025, 4, 9),
                datetime(2025, 4, 2, 20, 0, tzinfo=UTC),
                PROVENANCE,
            ),
            terms=MeasureTerms(
                imposer="US",
                name="Reciprocal tariff on China (EO 14257)",
                targets=("CN",),
                layer="ieepa_reciprocal",
                rate_pct=Decimal("34"),
            ),
        )
    )
    return measure_id


def v1_state() -> dict[str, Any]:
    """The state of a RateChanged event before version 2: no `hs_prefixes`."""
    return {
        "timestamp": datetime(2025, 4, 9, 14, 30, tzinfo=UTC),
        "event_id": "US-CN-RECIP-84",
        "effective_on": date(2025, 4, 9),
        "announced_at": datetime(2025, 4, 8, 22, 0, tzinfo=UTC),
        "provenance": PROVENANCE,
        "rate_pct": Decimal("84"),
    }


def v1_rate_changed(ledger: Ledger, measure_id: UUID, version: int) -> StoredEvent:
    """A v1 RateChanged as Mapper.to_stored_event wrote it while class_version was 1:
    the event's vars less originator id and version, and no `class_version` key."""
    assert ledger.mapper.compressor is None
    assert ledger.mapper.cipher is None
    return StoredEvent(
        originator_id=measure_id,
        originator_version=version,
        topic=get_topic(TariffMeasure.RateChanged),
        state=ledger.mapper.transcoder.encode(v1_state()),
    )


def stored_state(ledger: Ledger, measure_id: UUID, version: int) -> dict[str, Any]:
    (stored,) = ledger.recorder.select_events(measure_id, gt=version - 1, lte=version)
    state: dict[str, Any] = json.loads(stored.state)
    return state


def test_the_upcaster_adds_an_empty_prefix_list_meaning_the_general_rate() -> None:
    state = {"rate_pct": Decimal("84")}

    TariffMeasure.RateChanged.upcast_v1_v2(state)

    assert state == {"rate_pct": Decimal("84"), "hs_prefixes": []}


def test_a_hand_built_v1_state_is_a_v2_state_without_the_v2_additions(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    ledger.append_to_stream(
        measure_id,
        [
            ChangeRate(
                Facts("R", date(2025, 4, 9), datetime(2025, 4, 8, tzinfo=UTC), PROVENANCE),
                rate_pct=Decimal("84"),
                hs_prefixes=(),
            )
        ],
    )

    v2_keys = set(stored_state(ledger, measure_id, 2))

    assert v2_keys - set(v1_state()) == {"hs_prefixes", "class_version"}
    assert set(v1_state()) <= v2_keys


def test_a_v1_rate_change_is_read_as_a_change_of_the_general_rate(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    ledger.recorder.insert_events([v1_rate_changed(ledger, measure_id, version=2)])

    events = list(ledger.events.get(measure_id))

    assert len(events) == 2
    assert isinstance(events[0], TariffMeasure.Imposed)
    upcast = events[1]
    assert isinstance(upcast, TariffMeasure.RateChanged)
    assert tuple(upcast.hs_prefixes) == ()
    assert upcast.rate_pct == Decimal("84")
    assert upcast.event_id == "US-CN-RECIP-84"
    assert upcast.effective_on == date(2025, 4, 9)
    assert upcast.announced_at == datetime(2025, 4, 8, 22, 0, tzinfo=UTC)
    assert upcast.provenance == PROVENANCE
    assert upcast.originator_version == 2
    assert "class_version" not in vars(upcast)


def test_a_measure_with_a_v1_rate_change_loads_and_takes_new_changes(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    ledger.recorder.insert_events([v1_rate_changed(ledger, measure_id, version=2)])

    written = ledger.append_to_stream(
        measure_id,
        [
            ChangeRate(
                Facts(
                    "US-CN-RECIP-125",
                    date(2025, 4, 10),
                    datetime(2025, 4, 9, tzinfo=UTC),
                    PROVENANCE,
                ),
                rate_pct=Decimal("125"),
                hs_prefixes=("8517",),
            )
        ],
    )

    measure: object = ledger.repository.get(measure_id)
    assert isinstance(measure, TariffMeasure)
    assert written.version == 3
    assert measure.event_types == {
        "US-CN-RECIP-34": "imposed",
        "US-CN-RECIP-84": "rate_changed",
        "US-CN-RECIP-125": "rate_changed",
    }
    assert "class_version" not in stored_state(ledger, measure_id, 2)
    assert stored_state(ledger, measure_id, 3)["class_version"] == 2
    assert stored_state(ledger, measure_id, 3)["hs_prefixes"] == ["8517"]


def test_a_v2_rate_change_keeps_its_prefixes(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    ledger.append_to_stream(
        measure_id,
        [
            ChangeRate(
                Facts(
                    "US-301-SEMIS-50",
                    date(2025, 1, 1),
                    datetime(2024, 9, 13, tzinfo=UTC),
                    PROVENANCE,
                ),
                rate_pct=Decimal("50"),
                hs_prefixes=("8541", "8542"),
            )
        ],
    )

    changed = list(ledger.events.get(measure_id))[1]

    assert isinstance(changed, TariffMeasure.RateChanged)
    assert tuple(changed.hs_prefixes) == ("8541", "8542")
    assert changed.rate_pct == Decimal("50")
