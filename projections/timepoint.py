"""A point on the three time axes: the one type the API, the CLI and the queries pass.

    on           the effective day (valid time)    default: today (UTC)
    known_at     what had been announced by then   default: now
    recorded_at  what this ledger held then        default: now

A date given for `known_at` or `recorded_at` means the end of that day, in UTC (the whole
day is included); an instant must carry a zone, since local time is never implied. An
axis left out stays None until a question is answered: the Queries answering it fill in
the defaults from their clock (`resolve`), so that one point can be asked again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from domain.values import end_of_day, utc_instant
from projections.render import parse_point


@dataclass(frozen=True, init=False)
class TimePoint:
    """(on, known_at, recorded_at) as a question names them; None means the default."""

    on: date | None
    known_at: datetime | None
    """An instant in UTC (a date was turned into the end of that day)."""
    recorded_at: datetime | None
    """An instant in UTC (a date was turned into the end of that day)."""

    def __init__(
        self,
        on: date | None = None,
        known_at: date | datetime | None = None,
        recorded_at: date | datetime | None = None,
    ) -> None:
        object.__setattr__(self, "on", _day(on))
        object.__setattr__(self, "known_at", _instant(known_at, "known_at"))
        object.__setattr__(self, "recorded_at", _instant(recorded_at, "recorded_at"))

    @classmethod
    def parse(
        cls,
        on: str | None = None,
        known_at: str | None = None,
        recorded_at: str | None = None,
        *,
        suffix: str = "",
    ) -> TimePoint:
        """A point from text (a query string, command-line options): each axis a date or an
        instant with a zone. Errors name the parameter, with `suffix` appended (`on2`)."""

        def parsed(text: str | None, name: str) -> date | datetime | None:
            return None if text is None else parse_point(text, name + suffix)

        return cls(
            on=_day(parsed(on, "on")),
            known_at=_instant(parsed(known_at, "known_at"), "known_at" + suffix),
            recorded_at=_instant(parsed(recorded_at, "recorded_at"), "recorded_at" + suffix),
        )

    def or_else(self, first: TimePoint) -> TimePoint:
        """This point, each axis it leaves out taken from `first` (the second point of a diff)."""
        return TimePoint(
            on=self.on if self.on is not None else first.on,
            known_at=self.known_at if self.known_at is not None else first.known_at,
            recorded_at=self.recorded_at if self.recorded_at is not None else first.recorded_at,
        )

    def resolve(self, now: datetime) -> tuple[date, datetime, datetime]:
        """(on, known_at, recorded_at) with the defaults taken from `now` (in UTC)."""
        return (
            self.on if self.on is not None else now.date(),
            self.known_at if self.known_at is not None else now,
            self.recorded_at if self.recorded_at is not None else now,
        )


def _day(value: date | None) -> date | None:
    # An instant given for the effective day names the day it falls on, as written.
    return value.date() if isinstance(value, datetime) else value


_FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
_LAST_INSTANT = datetime.max.replace(tzinfo=UTC)


def _instant(value: date | datetime | None, field: str) -> datetime | None:
    """The instant an axis names, in UTC. At the edges of the representable range (the
    last day has no next day to end at; 0001-01-01T00:00:00+14:00 has no UTC equivalent)
    it is the first or last instant there is: every recorded instant is between those,
    so the answer is the same, and a valid date or RFC 3339 instant is never refused."""
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            return _FIRST_INSTANT if value.year == 1 else _LAST_INSTANT
    try:
        if isinstance(value, datetime):
            return utc_instant(value, field)  # refuses a naive one
        return end_of_day(value)
    except OverflowError:
        return _FIRST_INSTANT if value.year == 1 else _LAST_INSTANT


NOW = TimePoint()
"""Today, as known and recorded now."""
