"""The read models in the ledger's SQLite file (or, for an in-memory ledger, an in-memory
SQLite database)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from projections.tables import SQLITE, create_statements
from projections.views import ReadModelView


class SQLiteReadModelView(ReadModelView, SQLiteTrackingRecorder):
    """The read models in the ledger's SQLite file (or an in-memory database)."""

    dialect = SQLITE

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *create_statements(SQLITE)]

    @contextmanager
    def _cursor(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as c:
            yield c

    def _insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def current_position(self) -> int:
        return self.max_tracking_id(self.application_name) or 0
