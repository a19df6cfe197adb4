"""The six public worked examples of DOMAIN.md, on the shipped dataset.

Each is asked twice: through the Python API (`Queries.duty_on`) and through the command
line, as a separate process (`python -m cli.main duty ... --json`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from projections.timepoint import TimePoint
from tests.data.conftest import LoadedStore, tradeledger


@dataclass(frozen=True)
class Example:
    importer: str
    origin: str
    hs: str
    on: str
    known_at: str | None
    total: Decimal
    applied: dict[str, Decimal]
    """The measures charged (by key) and their rates: the 'why' column of DOMAIN.md."""


EXAMPLES = [
    pytest.param(
        Example("US", "CN", "9503.00.0090", "2025-04-15", None, Decimal(145),
                {"us-cn-ieepa-fentanyl": Decimal(20), "us-cn-ieepa-reciprocal": Decimal(125)}),
        id="toy_2025_04_15_fentanyl_20_plus_reciprocal_125",
    ),
    pytest.param(
        Example("US", "CN", "9503.00.0090", "2025-05-20", None, Decimal(30),
                {"us-cn-ieepa-fentanyl": Decimal(20), "us-cn-ieepa-reciprocal": Decimal(10)}),
        id="toy_2025_05_20_fentanyl_20_plus_reciprocal_10_after_geneva",
    ),
    pytest.param(
        Example("US", "CN", "8517.13.0000", "2025-04-15", None, Decimal(20),
                {"us-cn-ieepa-fentanyl": Decimal(20)}),
        id="smartphone_2025_04_15_excluded_from_reciprocal",
    ),
    pytest.param(
        Example("US", "CN", "8517.13.0000", "2025-04-10", "2025-04-10", Decimal(145),
                {"us-cn-ieepa-fentanyl": Decimal(20), "us-cn-ieepa-reciprocal": Decimal(125)}),
        id="smartphone_2025_04_10_known_04_10_exclusion_not_yet_announced",
    ),
    pytest.param(
        Example("US", "CN", "8517.13.0000", "2025-04-10", "2025-04-12", Decimal(20),
                {"us-cn-ieepa-fentanyl": Decimal(20)}),
        id="smartphone_2025_04_10_known_04_12_exclusion_applied_retroactively",
    ),
    pytest.param(
        Example("CN", "US", "1201.90", "2025-04-15", None, Decimal(135),
                {"cn-us-retaliation-farm": Decimal(10),
                 "cn-us-retaliation-all-goods": Decimal(125)}),
        id="soybeans_2025_04_15_march_farm_list_10_plus_125",
    ),
]  # fmt: skip


@pytest.mark.parametrize("example", EXAMPLES)
def test_worked_example_through_the_python_api(store: LoadedStore, example: Example) -> None:
    answer = store.services.queries.duty_on(
        example.importer,
        example.origin,
        example.hs,
        at=TimePoint(
            on=date.fromisoformat(example.on),
            known_at=date.fromisoformat(example.known_at) if example.known_at else None,
        ),
    )

    assert answer.total_additional_pct == example.total
    assert {a.key: a.rate_pct for a in answer.applied} == example.applied


@pytest.mark.parametrize("example", EXAMPLES)
def test_worked_example_through_the_command_line(store: LoadedStore, example: Example) -> None:
    known_at = ["--known-at", example.known_at] if example.known_at else []

    result = tradeledger(
        "duty",
        "--importer", example.importer,
        "--origin", example.origin,
        "--hs", example.hs,
        "--on", example.on,
        *known_at,
        "--json",
        database_url=store.url,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert Decimal(str(answer["total_additional_pct"])) == example.total
    applied = {a["key"]: Decimal(str(a["rate_pct"])) for a in answer["applied"]}
    assert applied == example.applied
