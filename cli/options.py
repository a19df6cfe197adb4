"""The options every query command shares, and how they become a point on the three axes.

--on is the effective day; --known-at what had been announced by then (a date means the
end of that day); --recorded-at the ledger as it stood then; --json prints JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from projections import diff as differ
from projections.render import parse_point

On = Annotated[str | None, typer.Option("--on", help="Effective day (YYYY-MM-DD); default today.")]
KnownAt = Annotated[
    str | None,
    typer.Option("--known-at", help="What had been announced by then (date = end of day)."),
]
RecordedAt = Annotated[
    str | None,
    typer.Option("--recorded-at", help="What this ledger held then (date or instant)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def day(text: str | None, field: str) -> date | None:
    """The effective day an option names (an instant counts as its day)."""
    if text is None:
        return None
    value = parse_point(text, field)
    return value.date() if isinstance(value, datetime) else value


def point(text: str | None, field: str) -> date | datetime | None:
    """The date or instant an option names, or None (now)."""
    return None if text is None else parse_point(text, field)


def as_of(on: str | None, known_at: str | None, recorded_at: str | None) -> differ.Point:
    """The (on, known_at, recorded_at) of a query, parsed from the command's options."""
    return (day(on, "on"), point(known_at, "known_at"), point(recorded_at, "recorded_at"))
