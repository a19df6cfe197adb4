"""The global event log over HTTP: pages of CloudEvents, and a Server-Sent Events stream.

Both read through `storage.eventlog.EventLog` from a cursor (a log position), so both are
gap-free and duplicate-free by construction: the store commits in position order, and
a cursor only moves forward over what has been read.

The SSE stream replays from `Last-Event-ID` (or `after`), then follows live appends.
How a follower learns of new events: the process holds ONE subscription to the store
(`LogBell`: PostgreSQL LISTEN/NOTIFY, SQLite's in-process commit signal) on a thread of
its own; each connected client registers a wake-up call with it, which crosses to the
event loop with `call_soon_threadsafe`. When woken, the client reads the log after its
cursor in a worker thread and writes the entries out. So push latency comes from the
notification, a database connection is held per process rather than per client, a slow
client only delays itself (it reads its next page once the last one was sent), and a
client that disconnects is unregistered at once (the response listens for the
disconnect and cancels the stream). Idle streams get a comment line every
`heartbeat_seconds`, which also re-reads the log, so a lost notification delays an
event by at most one heartbeat. The heartbeat never waits for the store: a read that
takes longer than a heartbeat gets heartbeats meanwhile, and a read that fails because
the store is unreachable is answered with a heartbeat and tried again a heartbeat later
(or as soon as the bell rings, which it does once it has reconnected).

A stored event that does not decode (a damaged row) is named, never a bare 500: a page
of `GET /v1/events` ends before it, and the next read answers problem+json 500
`undecodable_event` with its position and stream (read on with `after=<position>`); the
SSE stream sends it as an `event: undecodable` message whose `id:` is its position and
whose data is that problem, then goes on after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import WithJsonSchema
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.dependencies import EventLogDep, LogBellDep, LogFilterQuery, Reader, SettingsDep
from api.models import CloudEventPublic, EventsPagePublic
from api.problems import PROBLEM_TYPES, Problem, documented
from domain.errors import InvalidValue
from storage.backoff import is_transient
from storage.bell import LogBell
from storage.eventlog import EventLog, LogFilter, LogPage
from storage.undecodable import UndecodableEvent

router = APIRouter(prefix="/v1", tags=["event log"])

SSE_PAGE = 200
"""Entries read per page while a stream replays or catches up."""

EVENTS_PAGE_LIMIT = 1000
"""The most entries one `GET /v1/events` page may hold."""

AfterQuery = Annotated[
    int | None,
    Query(ge=0, le=2**62, description="Only events after this log position (default 0)."),
]


@router.get(
    "/events", responses=documented(401, 403, 404, 422, 500), summary="The global event log"
)
def events(
    _: Reader,
    log: EventLogDep,
    where: LogFilterQuery,
    response: Response,
    after: AfterQuery = None,
    limit: Annotated[
        int, Query(ge=1, le=EVENTS_PAGE_LIMIT, description="At most this many events.")
    ] = 100,
) -> EventsPagePublic:
    """Events of every stream in commit order, as CloudEvents 1.0, from a cursor.

    Pass the page's `next_after` as `after` to continue; you are caught up when it equals
    `high_water`. Following the cursor never skips an event, even one that commits later
    than events with higher positions could have (the store commits in position order).

    A stored event that does not decode ends a page before it; reading from there answers
    500 `undecodable_event` naming its `position` and `stream_id`. Pass that position as
    `after` to read on past it.
    """
    page = log.read(after or 0, limit, where)
    if not page.caught_up:
        response.headers["Link"] = f'</v1/events?after={page.next_after}>; rel="next"'
    return EventsPagePublic(
        events=[CloudEventPublic.of(entry) for entry in page.entries],
        next_after=page.next_after,
        high_water=page.high_water,
    )


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "A text/event-stream: one message per event (`id:` its position, "
            "`data:` the CloudEvent as JSON), comment lines as heartbeats.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **documented(401, 403, 404, 422),
    },
    summary="Subscribe to the event log (SSE)",
)
async def stream(
    _: Reader,
    log: EventLogDep,
    bell: LogBellDep,
    settings: SettingsDep,
    where: LogFilterQuery,
    after: AfterQuery = None,
    last_event_id: Annotated[
        Annotated[str | None, WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,18}$"})],
        Header(
            alias="Last-Event-ID",
            description="Resume after this position (sent by EventSource on reconnection); "
            "takes precedence over `after`.",
        ),
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: the events after `Last-Event-ID` (or `after`), then each new
    one as it is recorded, with the same filters as `GET /v1/events`.

    Each message's `id:` is the event's log position, so a reconnecting EventSource
    resumes exactly where it stopped: no gap, no duplicate.
    """
    start = _resume_from(last_event_id, after)
    follower = _follow(log, bell, where, start, settings.sse_heartbeat_seconds)
    return EventStreamResponse(follower)


def _resume_from(last_event_id: str | None, after: int | None) -> int:
    if last_event_id is None:
        return after or 0
    text = last_event_id.strip()
    if not text.isdigit() or len(text) > 18:
        raise InvalidValue("Last-Event-ID", "must be a log position (a whole number)")
    return int(text)


class _Wakeup:
    """A wake-up call from the bell's thread to one stream's task on the event loop.

    Rings coalesce: however many events commit while the stream is busy, it is woken
    once and reads them all.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()
        self._lock = threading.Lock()
        self._pending = False

    def ring(self) -> None:
        """Any thread."""
        with self._lock:
            if self._pending:
                return
            self._pending = True
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to wake
            self._loop.call_soon_threadsafe(self._set)

    def _set(self) -> None:
        with self._lock:
            self._pending = False
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, timeout: float) -> bool:
        """Whether it rang within `timeout` seconds."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True


def _frame(entry_json: str, position: int) -> bytes:
    return f"id: {position}\ndata: {entry_json}\n\n".encode()


def _undecodable_frame(error: UndecodableEvent) -> bytes:
    """An `undecodable` message naming the damaged event; its id moves a reconnecting
    client's cursor past it, as the stream itself goes on past it."""
    problem = Problem(
        type=f"{PROBLEM_TYPES}undecodable-event",
        title="Undecodable event",
        status=500,
        detail=error.message,
        instance="/v1/events/stream",
        rule="undecodable_event",
        position=error.position,
        stream_id=error.stream_id,
        version=error.version,
        reason=error.reason,
    ).model_dump_json(exclude_none=True)
    return f"event: undecodable\nid: {error.position}\ndata: {problem}\n\n".encode()


HEARTBEAT = b": heartbeat\n\n"


async def _follow(
    log: EventLog, bell: LogBell, where: LogFilter, after: int, heartbeat: float
) -> AsyncIterator[bytes]:
    wakeup = _Wakeup(asyncio.get_running_loop())
    bell.add(wakeup.ring)
    reading: asyncio.Future[LogPage] | None = None
    try:
        # Sent at once, so that the client (and any proxy) sees the stream open.
        yield b": tradeledger event stream\nretry: 2000\n\n"
        cursor = after
        while True:
            # Cleared before reading: a commit the read misses rings again afterwards.
            wakeup.clear()
            reading = asyncio.ensure_future(run_in_threadpool(log.read, cursor, SSE_PAGE, where))
            while not await _done_within(reading, heartbeat):
                yield HEARTBEAT  # the store is slow to answer: the client must not wait
            try:
                page = reading.result()
            except UndecodableEvent as error:
                yield _undecodable_frame(error)
                cursor = error.position
                continue
            except Exception as error:
                if not is_transient(error):
                    raise
                # The store is unreachable: keep the stream alive, read again later.
                yield HEARTBEAT
                await wakeup.wait(heartbeat)
                continue
            finally:
                reading = None
            for entry in page.entries:
                yield _frame(CloudEventPublic.of(entry).model_dump_json(), entry.position)
            cursor = page.next_after
            if page.caught_up and not await wakeup.wait(heartbeat):
                yield HEARTBEAT
    finally:
        bell.discard(wakeup.ring)
        if reading is not None:  # the client left while a read was under way
            reading.cancel()
            reading.add_done_callback(_consume)


async def _done_within(future: asyncio.Future[Any], seconds: float) -> bool:
    """Whether `future` is done within `seconds` (it goes on either way)."""
    done, _ = await asyncio.wait({future}, timeout=seconds)
    return bool(done)


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned read's outcome, so that asyncio does not log it as lost."""
    if not future.cancelled():
        future.exception()


class EventStreamResponse(StreamingResponse):
    """A text/event-stream response that stops as soon as the client disconnects.

    Starlette streams without watching for the disconnect when the server speaks ASGI
    2.4, relying on a failed write to notice; an idle stream would then hold its
    registration with the bell until the next heartbeat. This one always listens.
    """

    media_type = "text/event-stream"

    def __init__(self, content: AsyncIterator[bytes]) -> None:
        super().__init__(
            content,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._content = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def until_disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        streaming = asyncio.ensure_future(self.stream_response(send))
        disconnected = asyncio.ensure_future(until_disconnected())
        try:
            await asyncio.wait({streaming, disconnected}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (streaming, disconnected):
                task.cancel()
            await _settle(streaming, disconnected)
            aclose: Callable[[], Awaitable[Any]] | None = getattr(self._content, "aclose", None)
            if aclose is not None:
                await aclose()


async def _settle(*tasks: asyncio.Future[Any]) -> None:
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, OSError):
            raise result
