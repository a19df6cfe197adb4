"""What `tradeledger serve` allows a client: how long it may take to send a request, how
many connections it may hold, and how much work the server takes on at once.

uvicorn times only the idle wait between requests (`timeout_keep_alive`); a client that
sends its request one byte at a time, or opens connections and sends nothing, is held
for ever, and enough of them exhaust the server (issue #13 measured 40 such clients held
for 60 s, and ~1,100 half-sent connections from one client failing every new request).
So, for HTTP/1.1 over httptools (uvicorn's own protocol for it, extended here):

- the request head (request line and headers) must arrive within `header_timeout`
  seconds of the connection's opening, or of the first byte of a later request on it;
- the body must arrive whole within `body_timeout` seconds of the head;
- a request cut off gets 408 (when no answer has begun on the connection) and its
  connection is closed, with one line in the log. Only reading the request is timed:
  the answer, an event stream (SSE) included, takes as long as it takes;
- an incomplete head over MAX_HEAD_BYTES gets 431 and its connection closed (what
  httptools buffers is otherwise bounded only by bandwidth times `header_timeout`);
- a connection beyond `max_connections` in all, or beyond `max_connections_per_client`
  from one address, is answered 503 at once and closed once the client has read it;
- `InFlightLimit` answers 503 at once to a request arriving while `max_in_flight`
  requests are being worked on (answer not begun, not waiting for their bodies).
  uvicorn's own `limit_concurrency` counts open connections too, so slow sockets would
  make it refuse every new request: the very failure this module is for.

The protocol overrides uvicorn's `HttpToolsProtocol` hooks (connection_made and _lost,
data_received, the parser's on_message_begin, on_headers_complete and
on_message_complete) and reads its `transport`, `client`, `cycle`, `pipeline`, `scope`,
`loop` and `server_state`: pyproject.toml pins the uvicorn version it was checked
against, and tests/cli/test_server_limits.py fails if these change.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.middleware import send_problem
from api.problems import PROBLEM_JSON, Problem
from tradeledger.settings import Settings

logger = logging.getLogger("uvicorn.error")
"""uvicorn's own log, so that these lines come out as its do."""

RETRY_AFTER_SECONDS = "1"
"""What a refused client is told to wait: capacity frees up as requests end."""


@dataclass(frozen=True)
class ServerLimits:
    """The limits, in seconds and counts; see the module's docstring."""

    header_timeout: float
    body_timeout: float
    keep_alive: int
    max_in_flight: int
    max_connections: int
    max_connections_per_client: int

    @classmethod
    def of(cls, settings: Settings) -> ServerLimits:
        return cls(
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            keep_alive=settings.keep_alive_seconds,
            max_in_flight=settings.max_requests_in_flight,
            max_connections=settings.max_connections,
            max_connections_per_client=settings.max_connections_per_client,
        )


class Refusals:
    """Logs the first refusal of a run and, when something is admitted again, how many
    the run held: a flood of refused connections is two lines, not thousands."""

    def __init__(self) -> None:
        self.count = 0

    def refused(self, reason: str) -> None:
        if not self.count:
            logger.warning("%s: answering 503", reason)
        self.count += 1

    def admitted(self) -> None:
        if self.count:
            logger.warning("admitting again after %d refused", self.count)
            self.count = 0


class OpenConnections:
    """The connections one server holds, in all and by client address."""

    def __init__(self, limits: ServerLimits) -> None:
        self.limits = limits
        self.total = 0
        self.by_address: Counter[str] = Counter()
        self.lingering = 0  # refused connections left open for their clients to read
        self.refusals = Refusals()

    def admit(self, address: str) -> str | None:
        """Count a new connection from `address`, or say why it is refused."""
        limits = self.limits
        if self.total >= limits.max_connections:
            reason = f"the server holds its maximum of {limits.max_connections} connections"
        elif self.by_address[address] >= limits.max_connections_per_client:
            reason = (
                f"{address} holds its maximum of {limits.max_connections_per_client} connections"
            )
        else:
            self.total += 1
            self.by_address[address] += 1
            self.refusals.admitted()
            return None
        self.refusals.refused(reason)
        return reason

    def release(self, address: str) -> None:
        self.total -= 1
        self.by_address[address] -= 1
        if not self.by_address[address]:
            del self.by_address[address]


REFUSAL_LINGER_SECONDS = 1.0
"""How long a refused connection may stay half-open for its client to read the 503."""

MAX_LINGERING = 128
"""The most refused connections left half-open at once; more are closed at once, so
that a flood of refused connections cannot use up the process's open files."""

HEAD = "request head"
BODY = "request body"

MAX_HEAD_BYTES = 64 * 1024
"""The most an incomplete request head may hold: past it the request is answered 431.
httptools keeps a head in memory until it is complete, so without a cap a fast client
could make the server hold its bandwidth times `header_timeout`, per connection. (Heads
are a few hundred bytes; other servers cap them at 8 to 64 KiB.)"""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with read timeouts and connection caps.

    Use `protocol_class(limits)`, which gives each server a subclass of its own (the
    connection counts are per server); pass it to uvicorn as `http=`.
    """

    limits: ClassVar[ServerLimits]
    connections_open: ClassVar[OpenConnections]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading: str | None = None  # HEAD or BODY while a request is timed
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._request_begun = False  # a byte of the request has been parsed
        self._counted_as: str | None = None  # the address the connection is counted under
        self._refused = False
        self._lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else ""
        refusal = self.connections_open.admit(address)
        if refusal is not None:
            self._refuse(refusal)
            return
        self._counted_as = address
        self._read(HEAD, self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._read(None)
        if self._lingering:
            self.connections_open.lingering -= 1
            self._lingering = False
        if self._counted_as is not None:
            self.connections_open.release(self._counted_as)
            self._counted_as = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # a request sent before the refusal was read: discarded
        if self._reading == HEAD:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._reading == HEAD and self._head_bytes > MAX_HEAD_BYTES:
            self._cut_off(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                f"the request head is larger than {MAX_HEAD_BYTES} bytes",
            )

    # The parser's callbacks: a request begins, its head is complete, it is complete.

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_begun = True
        if self._reading is None:  # a later request: the first's head is timed from connection_made
            self._read(HEAD, self.limits.header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        # Ended at once by on_message_complete when the request has no body.
        self._read(BODY, self.limits.body_timeout)

    def on_message_complete(self) -> None:
        self._read(None)
        self._request_begun = False
        super().on_message_complete()

    # The timer.

    def _read(self, part: str | None, seconds: float = 0) -> None:
        """Start reading `part` within `seconds` (None: nothing is timed)."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._reading = part
        self._head_bytes = 0
        if part is not None:
            self._deadline = self.loop.call_later(seconds, self._timed_out, part, seconds)

    def _timed_out(self, part: str, seconds: float) -> None:
        self._deadline = None
        if not self._request_begun:
            self._cut_off(None, f"no request within {seconds:g} s")
        else:
            self._cut_off(
                HTTPStatus.REQUEST_TIMEOUT, f"the {part} did not arrive within {seconds:g} s"
            )

    def _cut_off(self, status: HTTPStatus | None, reason: str) -> None:
        """Answer `status` if it can be written now, close the connection, log one line."""
        if self.transport.is_closing():
            return
        part = self._reading
        self._read(None)
        client = "%s:%d - " % self.client if self.client else ""  # noqa: UP031 (uvicorn's form)
        if status is None or not self._may_answer(part):
            logger.warning("%s%s: connection closed", client, reason)
            self.transport.close()
            return
        logger.warning("%s%s: %d, connection closed", client, reason, status)
        self._answer_and_close(status, reason)

    def _may_answer(self, part: str | None) -> bool:
        """Whether an answer can be written now without cutting into another.

        While a head is read, `cycle` is the previous request's: its answer must be
        complete. While a body is read, `cycle` is this request's: no answer may have
        begun (the app may answer before reading the body), and no earlier pipelined
        request may still be waiting for its answer.
        """
        if part == HEAD:
            return self.cycle is None or self.cycle.response_complete
        return not self.cycle.response_started and not self.pipeline

    def _refuse(self, reason: str) -> None:
        """Answer 503 and close. A client writes its request before it reads: had the
        socket been closed at once, the request's bytes would meet a closed socket and
        reset the connection, and the client would see its write fail, not the 503. So
        the answer is followed by a FIN alone, what the client sends is discarded, and
        the socket is closed when the client closes, or after REFUSAL_LINGER_SECONDS
        (at once when MAX_LINGERING connections already linger)."""
        self._refused = True
        counts = self.connections_open
        self._lingering = counts.lingering < MAX_LINGERING and self.transport.can_write_eof()
        if self._lingering:
            counts.lingering += 1
        self._answer_and_close(
            HTTPStatus.SERVICE_UNAVAILABLE, reason, retry_after=True, linger=self._lingering
        )

    def _answer_and_close(
        self, status: HTTPStatus, detail: str, *, retry_after: bool = False, linger: bool = False
    ) -> None:
        """Write a whole problem+json answer, then close (asyncio sends what is written
        before closing), or with `linger` only end the sending side (see _refuse)."""
        body = json.dumps(
            Problem(
                type="about:blank",
                title=status.phrase,
                status=status,
                detail=detail,
                instance=self.scope.get("path", "") if self.scope else "",
            ).model_dump(mode="json", exclude_none=True)
        ).encode()
        headers = [
            *self.server_state.default_headers,
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        if retry_after:
            headers.append((b"retry-after", RETRY_AFTER_SECONDS.encode()))
        head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        status_line = f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode()
        self.transport.write(status_line + head + b"\r\n" + body)
        if linger:
            self.transport.write_eof()
            self.loop.call_later(REFUSAL_LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()


def protocol_class(limits: ServerLimits) -> type[LimitedHttpToolsProtocol]:
    """A protocol class for one server, with connection counts of its own."""

    class Protocol(LimitedHttpToolsProtocol):
        pass

    Protocol.limits = limits
    Protocol.connections_open = OpenConnections(limits)
    return Protocol


class InFlightLimit:
    """ASGI middleware: answer 503 (with Retry-After) at once to a request that arrives
    while `max_in_flight` requests are being worked on.

    A request counts from its arrival until its answer begins, except while the app
    waits for more of its body: a client sending its body slowly holds no worker, so
    slow clients cannot use up the limit (the body timeout deals with them), and an
    event stream stops counting once it has started.
    """

    def __init__(self, app: ASGIApp, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.refusals = Refusals()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            self.refusals.refused(f"{self.max_in_flight} requests in flight")
            await send_problem(
                send,
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"the server is working on its maximum of {self.max_in_flight} requests; "
                "try again shortly",
                scope["path"],
                [(b"retry-after", RETRY_AFTER_SECONDS.encode())],
            )
            return
        self.refusals.admitted()
        counted, answered, body_complete = True, False, not _has_body(scope)
        self.in_flight += 1

        def count(counting: bool) -> None:
            nonlocal counted
            if counting != counted:
                self.in_flight += 1 if counting else -1
                counted = counting

        async def counting_receive() -> Message:
            nonlocal body_complete
            if body_complete:
                return await receive()
            count(False)
            try:
                message = await receive()
            finally:
                count(not answered)
            body_complete = message["type"] != "http.request" or not message.get("more_body")
            return message

        async def counting_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = True
                count(False)
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            answered = True
            count(False)


def _has_body(scope: Scope) -> bool:
    headers = dict(scope["headers"])
    length = headers.get(b"content-length", b"").strip()
    return length not in (b"", b"0") or b"transfer-encoding" in headers


OPEN_FILES_BESIDE_CONNECTIONS = 256
"""Descriptors a server needs besides its connections: the store, logs, the listener."""


def allow_open_files(max_connections: int) -> None:
    """Raise the process's soft open-file limit, as far as the hard limit allows, to hold
    `max_connections` sockets: past it accept() fails and asyncio stops accepting any
    connection for a second. Logs a warning when the hard limit is too low."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + MAX_LINGERING + OPEN_FILES_BESIDE_CONNECTIONS
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    if raised < wanted:
        logger.warning(
            "the open-file limit (%d) is too low for %d connections: raise `ulimit -n`",
            raised,
            max_connections,
        )
