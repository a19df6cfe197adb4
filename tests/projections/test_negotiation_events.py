"""A negotiation's state is folded from the events the read models keep, never from the
event store; read models written before they kept them are filled when a process opens
them, and answer as a rebuild does."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from domain.negotiation_state import Status
from projections.timepoint import TimePoint
from tradeledger.bootstrap import open_services
from tradeledger.settings import parse_database_url

OLD_STORE = Path(__file__).resolve().parents[1] / "fixtures" / "store-9f2afe5.sqlite"
"""Written by commit 9f2afe5, whose read models kept no negotiation events."""


def test_read_models_of_an_earlier_release_answer_negotiations_as_a_rebuild_does(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "old.sqlite"
    shutil.copyfile(OLD_STORE, copy)
    services = open_services(parse_database_url(f"sqlite:///{copy}"))
    try:
        days = [date(2025, 5, 1), date(2025, 5, 15), date(2025, 10, 15), date(2025, 11, 15)]
        opened = [
            services.queries.negotiation_state("us-cn-trade-talks", at=TimePoint(on=day)).state
            for day in days
        ]
        services.projector.rebuild()
        rebuilt = [
            services.queries.negotiation_state("us-cn-trade-talks", at=TimePoint(on=day)).state
            for day in days
        ]
        filled_again = services.projector.keep_negotiation_events()
    finally:
        services.close()

    assert opened == rebuilt
    assert opened[1].status is Status.TRUCE
    assert filled_again == 0
