"""The read-model view: rows written in the same transaction as the tracking position,
read back with a few indexed queries.

The view is a tracking recorder of the eventsourcing library (SQLite or PostgreSQL),
so the position of the last event projected is committed atomically with its rows:
a crash loses nothing and repeats nothing. The SQL is shared (projections.view_writing,
projections.view_reading); each backend's module (projections.views_sqlite,
projections.views_postgres) provides the transaction and what it does faster.
"""

from __future__ import annotations

from projections.view_reading import ViewReading
from projections.view_writing import ViewWriting


class ReadModelView(ViewWriting, ViewReading):
    """The read models of the ledger, written by the projector and read by the queries."""

    def shadow(self) -> ReadModelView:
        """New, separate read models for a rebuild to write beside these (tables created):
        the same tables under SHADOW_SUFFIX, with a tracking position of their own."""
        raise NotImplementedError

    def replace_with(self, shadow: ReadModelView) -> None:
        """Put `shadow`'s tables and tracking position in place of these, atomically."""
        raise NotImplementedError
