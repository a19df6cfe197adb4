"""What the read-model view's writing and reading share: the transaction each backend
provides, and Python values as each backend stores and returns them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from projections.tables import SQLITE, Dialect, renamed


class ViewBase:
    """Backend-independent plumbing; each backend's view provides the transaction."""

    if TYPE_CHECKING:  # provided by the library's tracking recorder each backend mixes in

        def create_table(self) -> None: ...

    dialect: Dialect
    application_name = "tradeledger"
    table_suffix = ""
    """Empty for the read models in use; SHADOW_SUFFIX for those a rebuild is writing
    (their tables' names carry it, and so does their tracking's application name)."""

    @contextmanager
    def _cursor(self, *, commit: bool) -> Iterator[Any]:
        raise NotImplementedError
        yield  # pragma: no cover

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """A transaction writing this view's tables: the SQL names the tables in use,
        and a rebuild's view turns each name into its own."""
        with self._cursor(commit=True) as cursor:
            yield _RenamingCursor(cursor, self.table_suffix) if self.table_suffix else cursor

    def _insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        raise NotImplementedError

    def current_position(self) -> int:
        """The position of the last event projected (0 before any)."""
        raise NotImplementedError

    def _v(self, value: Any) -> Any:
        """A Python value as this backend stores it."""
        if type(value) is str or type(value) is int:
            return value
        if self.dialect is SQLITE:
            if isinstance(value, datetime):
                return self._instant_value(value)
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, bool):
                return int(value)
        if isinstance(value, UUID):
            return value.hex
        return value

    def _exec(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> None:
        cursor.execute(self.dialect.sql(statement), [self._v(p) for p in params])

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._cursor(commit=False) as cursor:
            self._exec(cursor, statement, params)
            return list(cursor.fetchall())

    # -- values as stored --------------------------------------------------------------

    def _date_value(self, day: date) -> Any:
        return day.isoformat()

    def _instant_value(self, moment: datetime) -> Any:
        return moment.astimezone(UTC).isoformat(timespec="microseconds")

    def _number_value(self, number: Decimal) -> Any:
        return str(number)

    def _bool_value(self, flag: bool) -> Any:
        return int(flag)

    # -- values as read back -----------------------------------------------------------

    @staticmethod
    def _date(value: Any) -> date:
        return date.fromisoformat(value) if isinstance(value, str) else value

    @staticmethod
    def _instant(value: Any) -> datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(UTC)


class _RenamingCursor:
    """A cursor whose statements are sent with the read-model tables renamed (a rebuild's
    tables, beside those in use); everything else is the cursor's own. Statements that
    are not plain text (the library's, on its own tracking table) go as they are."""

    def __init__(self, cursor: Any, suffix: str) -> None:
        self._cursor = cursor
        self._suffix = suffix

    def _renamed(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        if args and isinstance(args[0], str):
            return (renamed(args[0], self._suffix), *args[1:])
        if isinstance(kwargs.get("query"), str):
            kwargs["query"] = renamed(kwargs["query"], self._suffix)
        return args

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self._cursor.execute(*self._renamed(args, kwargs), **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Any:
        return self._cursor.executemany(*self._renamed(args, kwargs), **kwargs)

    def copy(self, *args: Any, **kwargs: Any) -> Any:
        return self._cursor.copy(*self._renamed(args, kwargs), **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)
