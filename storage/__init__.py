"""Store layer: the `eventsourcing` library's own recorders, extended for tradeledger.

We never write our own event store. The library's recorders are subclassed for three
needs only:

* **Record time.** Every stored event gets the instant it was recorded, set by the
  store at insert (never by the client's clock), so that "when did the system of
  record learn this?" is answered by the store itself. Record times are tz-aware UTC
  and non-decreasing in notification-id order.
* **PostgreSQL appends in one round trip** while keeping commit order equal to
  notification-id order (see :mod:`storage.postgres`).
* **SQLite subscriptions** (see :mod:`storage.sqlite`).

Select a backend with the library's usual environment variable, e.g.
``PERSISTENCE_MODULE=storage.sqlite``; each backend module defines the
single ``Factory`` that :meth:`InfrastructureFactory.construct` looks for.

This module holds only the backend-independent types, so that importing it does not
import any database driver.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Notification

__all__ = ["NotificationRange", "RecordTimeRecorder", "RecordedNotification"]


@dataclass(frozen=True)
class RecordedNotification(Notification):
    """A :class:`Notification` together with the instant the store recorded it.

    It subclasses the library's ``Notification`` so that it can be used wherever a
    notification is expected (notification logs, projections, subscriptions).
    """

    recorded_at: datetime
    """When the store recorded the event: tz-aware, in UTC, set by the store."""

    @classmethod
    def from_notification(
        cls, notification: Notification, recorded_at: datetime
    ) -> RecordedNotification:
        """Copy `notification`, adding its record time."""
        return cls.from_row(
            notification.id,
            notification.originator_id,
            notification.originator_version,
            notification.topic,
            notification.state,
            recorded_at,
        )

    @classmethod
    def from_row(
        cls,
        notification_id: int,
        originator_id: UUID | str,
        originator_version: int,
        topic: str,
        state: bytes,
        recorded_at: datetime,
    ) -> RecordedNotification:
        """A notification from the columns a recorder selected, made without the frozen
        dataclass's generated __init__ (which sets each field through
        object.__setattr__): a projection rebuild reads millions of them, and this takes
        a quarter of the time. The fields are those the constructor would set."""
        notification = object.__new__(cls)
        object.__setattr__(
            notification,
            "__dict__",
            {
                "originator_id": originator_id,
                "originator_version": originator_version,
                "topic": topic,
                "state": state,
                "id": notification_id,
                "recorded_at": recorded_at,
            },
        )
        return notification


@dataclass(frozen=True)
class NotificationRange:
    """Which notifications to select: the arguments of the library's
    ``select_notifications``, as one value each backend's query reads."""

    start: int | None
    limit: int
    stop: int | None = None
    topics: Sequence[str] = ()
    inclusive_of_start: bool = True


class RecordTimeRecorder(ABC):
    """What every tradeledger application recorder offers beyond the library's.

    A mixin beside each backend's library base class (not a protocol): the public
    signature is written once here, and a backend implements only the query. Code
    holding a library ``ApplicationRecorder`` checks with ``isinstance`` whether
    record times are available.
    """

    def select_notifications_with_record_time(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[RecordedNotification]:
        """Like the library's ``select_notifications`` (same arguments, same filtering
        and ordering), with each notification's record time.
        """
        return self._select_recorded(
            NotificationRange(start, limit, stop, topics, inclusive_of_start)
        )

    @abstractmethod
    def _select_recorded(self, selected: NotificationRange) -> list[RecordedNotification]:
        """The notifications in `selected`, with their record times, in id order."""

    @abstractmethod
    def max_notification_id(self) -> int | None:
        """The largest notification id, or None when nothing has been recorded."""
