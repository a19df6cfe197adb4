"""Figures: one measured quantity, its runs, their median/min/max, and what it is compared to."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

EVENTS_PER_SECOND = "events/s"
MILLISECONDS = "ms"


@dataclass
class Figure:
    """A quantity measured `len(runs)` times on one backend (and store size, if any).

    Throughputs name a `reference`: the raw limit of the same backend, measured in the
    same run of the suite, that the figure is reported as a ratio of.
    """

    group: str
    name: str
    backend: str
    unit: str
    runs: list[float]
    size: int | None = None
    reference: str | None = None
    """The `key` of the raw-limit figure this one is a ratio of."""
    ratio: float | None = None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        size = "" if self.size is None else f"@{self.size}"
        return f"{self.backend}:{self.name}{size}"

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def low(self) -> float:
        return min(self.runs)

    @property
    def high(self) -> float:
        return max(self.runs)

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "name": self.name,
            "backend": self.backend,
            "size": self.size,
            "unit": self.unit,
            "median": self.median,
            "min": self.low,
            "max": self.high,
            "runs": self.runs,
            "reference": self.reference,
            "ratio": self.ratio,
            "note": self.note,
            "details": self.details,
        }


def rate(work: Callable[[], int]) -> float:
    """Items per second of one call of `work`, which returns how many items it did."""
    started = time.perf_counter()
    done = work()
    return done / (time.perf_counter() - started)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The `fraction` percentile (nearest rank) of already sorted values."""
    if not sorted_values:
        msg = "no values"
        raise ValueError(msg)
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def latencies(call: Callable[[int], object], count: int, warm_up: int) -> list[float]:
    """Sorted latencies in milliseconds of `call(i)` for i in range(count), after warm-up."""
    for i in range(warm_up):
        call(i)
    values = []
    for i in range(count):
        started = time.perf_counter()
        call(warm_up + i)
        values.append((time.perf_counter() - started) * 1000)
    values.sort()
    return values
