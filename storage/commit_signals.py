"""In-process "a commit happened on this SQLite database" signals.

SQLite has no LISTEN/NOTIFY. Writers in *this* process can wake subscribers directly,
which is why in-process subscription latency is about a millisecond; writes from
other processes are found by polling (see :mod:`storage.sqlite`).

Signals are keyed by the database, not by recorder or datastore object, so that two
recorders (or two factories) opened on the same file in one process wake each
other's subscribers.
"""

from __future__ import annotations

import os
from collections import defaultdict
from threading import Event, Lock
from urllib.parse import unquote

__all__ = ["database_key", "listen", "listener_count", "notify", "unlisten"]

_lock = Lock()
_listeners: defaultdict[str, set[Event]] = defaultdict(set)


def database_key(db_name: str) -> str:
    """Identify the database that the library's SQLite pool opens for `db_name`.

    The library connects with ``uri=True``, so `db_name` is either a plain path or a
    ``file:`` URI (possibly with query parameters). Different spellings of one file
    must map to one key. In-memory databases are only shared (via shared cache) under
    exactly the same name, so their name is the key.
    """
    if ":memory:" in db_name or "mode=memory" in db_name:
        return "memory:" + db_name
    path = db_name
    if path.startswith("file:"):
        path = unquote(path[len("file:") :].split("?", 1)[0].split("#", 1)[0])
        if path.startswith("//"):  # file://host/path: drop the (local) authority.
            slash = path.find("/", 2)
            path = path[slash:] if slash != -1 else "/"
    return "file:" + os.path.realpath(path)


def listen(key: str, event: Event) -> None:
    """Set `event` after each commit of stored events to the database `key`."""
    with _lock:
        _listeners[key].add(event)


def unlisten(key: str, event: Event) -> None:
    """Stop setting `event` (no error if it was not listening)."""
    with _lock:
        events = _listeners.get(key)
        if events is not None:
            events.discard(event)
            if not events:
                del _listeners[key]


def notify(key: str) -> None:
    """Wake every listener of database `key`; call only after the commit."""
    with _lock:
        events = list(_listeners.get(key, ()))
    for event in events:
        event.set()


def listener_count(key: str) -> int:
    """How many events are listening to database `key` (for tests and diagnostics)."""
    with _lock:
        return len(_listeners.get(key, ()))
