"""The read models in the ledger's SQLite file (or, for an in-memory ledger, an in-memory
SQLite database)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from projections.tables import INDEXES, SHADOW_SUFFIX, SQLITE, TABLES, create_statements, renamed
from projections.views import ReadModelView


class SQLiteReadModelView(ReadModelView, SQLiteTrackingRecorder):
    """The read models in the ledger's SQLite file (or an in-memory database)."""

    dialect = SQLITE

    def __init__(
        self, datastore: SQLiteDatastore, *, table_suffix: str = "", **kwargs: Any
    ) -> None:
        if table_suffix:  # before the library's __init__, which makes the statements
            self.table_suffix = table_suffix
            self.application_name = ReadModelView.application_name + table_suffix
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        own = [renamed(s, self.table_suffix) for s in create_statements(SQLITE)]
        return [*super().construct_create_table_statements(), *own]

    def shadow(self) -> SQLiteReadModelView:
        """The read models a rebuild writes beside these (their tables created)."""
        view = type(self)(self.datastore, table_suffix=SHADOW_SUFFIX)
        view.create_table()
        return view

    def replace_with(self, shadow: ReadModelView) -> None:
        """Put `shadow`'s tables and tracking position in place of these, in one
        transaction: readers see the old read models until it commits, then the new.

        SQLite keeps an index's name when its table is renamed, so the rebuild's indexes
        are dropped and made again under the names in use, within the transaction (in
        WAL mode readers are not held up by it; writers wait for it).
        """
        tracking = "tracking"
        with self._cursor(commit=True) as c:
            for table in TABLES:
                c.execute(f"DROP TABLE IF EXISTS {table}")
            for table in TABLES:
                c.execute(f"ALTER TABLE {table}{shadow.table_suffix} RENAME TO {table}")
            for index in INDEXES:
                c.execute(f"DROP INDEX IF EXISTS {index}{shadow.table_suffix}")
            for statement in create_statements(SQLITE):
                c.execute(statement)
            c.execute(
                f"DELETE FROM {tracking} WHERE application_name = ?", (self.application_name,)
            )
            c.execute(
                f"UPDATE {tracking} SET application_name = ? WHERE application_name = ?",
                (self.application_name, shadow.application_name),
            )

    @contextmanager
    def _cursor(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as c:
            yield c

    def _insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def current_position(self) -> int:
        return self.max_tracking_id(self.application_name) or 0
