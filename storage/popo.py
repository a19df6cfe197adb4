"""In-memory ("plain old Python objects") store with record times.

Select with ``PERSISTENCE_MODULE=storage.popo``. Used for unit tests and
for running the system without a database; nothing survives the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import eventsourcing.popo as es_popo
from eventsourcing.persistence import StoredEvent

from storage import NotificationRange, RecordedNotification, RecordTimeRecorder

__all__ = [
    "Factory",
    "LedgerPOPOApplicationRecorder",
    "LedgerPOPOFactory",
    "LedgerPOPOProcessRecorder",
]

_EPOCH = datetime.min.replace(tzinfo=UTC)


class LedgerPOPOApplicationRecorder(es_popo.POPOApplicationRecorder, RecordTimeRecorder):
    """The library's in-memory application recorder, plus record times.

    Record times are stamped while the recorder's database lock is held, which is
    also when notification ids are issued, so they follow notification-id order.
    A stamp is never earlier than the previous one, even if the wall clock steps
    back, because consumers rely on record times being non-decreasing.
    """

    def __init__(self) -> None:
        super().__init__()
        self._recorded_at: dict[int, datetime] = {}
        self._last_recorded_at = _EPOCH

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Called by the library with self._database_lock held.
        notification_ids = super()._update_table(stored_events, **kwargs) or []
        recorded_at = max(datetime.now(UTC), self._last_recorded_at)
        self._last_recorded_at = recorded_at
        for notification_id in notification_ids:
            self._recorded_at[notification_id] = recorded_at
        return notification_ids

    def _select_recorded(self, selected: NotificationRange) -> list[RecordedNotification]:
        with self._database_lock:
            notifications = self.select_notifications(
                selected.start,
                selected.limit,
                selected.stop,
                selected.topics,
                inclusive_of_start=selected.inclusive_of_start,
            )
            return [
                RecordedNotification.from_notification(n, self._recorded_at[n.id])
                for n in notifications
            ]


class LedgerPOPOProcessRecorder(es_popo.POPOProcessRecorder, LedgerPOPOApplicationRecorder):
    """The library's in-memory process recorder (events + tracking), plus record times."""


class LedgerPOPOFactory(es_popo.POPOFactory):
    """Infrastructure factory whose application and process recorders record times."""

    def application_recorder(self) -> LedgerPOPOApplicationRecorder:
        return LedgerPOPOApplicationRecorder()

    def process_recorder(self) -> LedgerPOPOProcessRecorder:
        return LedgerPOPOProcessRecorder()


# InfrastructureFactory.construct() requires exactly one factory class in this
# module's namespace, which is why the library's module is imported, not its classes.
Factory = LedgerPOPOFactory
