"""The options every query command shares; `projections.timepoint.TimePoint.parse` turns
them into a point on the three axes.

--on is the effective day; --known-at what had been announced by then (a date means the
end of that day); --recorded-at the ledger as it stood then; --json prints JSON.
"""

from __future__ import annotations

from typing import Annotated

import typer

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
