"""cli/server_limits.py: the protocol's timers and caps on a real uvicorn server in this
process (a tiny ASGI app, real sockets, timeouts of a fifth of a second), the in-flight
limit on ASGI messages, and the uvicorn internals the protocol relies on, so that a
uvicorn upgrade that changes them fails here, by name, rather than in production.

(tests/faults/test_slow_clients.py runs the same limits through `tradeledger serve`.)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.metadata
import inspect
import logging
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.types import Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from cli.server_limits import (
    MAX_HEAD_BYTES,
    MAX_LINGERING,
    InFlightLimit,
    LimitedHttpToolsProtocol,
    OpenConnections,
    ServerLimits,
    protocol_class,
)
from tradeledger.errors import InvalidSetting
from tradeledger.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]

LIMITS = ServerLimits(
    header_timeout=0.2,
    body_timeout=0.2,
    keep_alive=1,
    max_in_flight=10,
    max_connections=6,
    max_connections_per_client=3,
)


# -- the uvicorn internals the protocol relies on -------------------------------------------


def test_uvicorn_is_the_version_the_protocol_was_checked_against() -> None:
    version = tuple(int(part) for part in importlib.metadata.version("uvicorn").split(".")[:2])

    assert version == (0, 55), (
        "cli/server_limits.py extends uvicorn's HttpToolsProtocol: read the new version's "
        "protocols/http/httptools_impl.py against the hooks it overrides, then move the pin "
        "in pyproject.toml and this test"
    )


def test_the_hooks_the_protocol_overrides_are_uvicorns() -> None:
    for hook in (
        "connection_made",
        "connection_lost",
        "data_received",
        "on_message_begin",
        "on_headers_complete",
        "on_message_complete",
    ):
        assert inspect.isfunction(getattr(HttpToolsProtocol, hook, None)), hook
    signature = inspect.signature(HttpToolsProtocol.__init__)
    assert list(signature.parameters) == ["self", "config", "server_state", "app_state", "_loop"]
    cycle = inspect.signature(RequestResponseCycle.__init__)
    assert "keep_alive" in cycle.parameters
    source = inspect.getsource(RequestResponseCycle)
    assert "self.response_started = " in source
    assert "self.response_complete = " in source
    protocol = inspect.getsource(HttpToolsProtocol)
    for attribute in ("self.pipeline", "self.cycle", "self.transport", "self.client"):
        assert f"{attribute} = " in protocol or f"{attribute}: " in protocol, attribute


# -- the protocol, on a real server ---------------------------------------------------------


async def echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the whole body, answer its length; `/stream` answers for 0.6 s instead."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(6):
            await send({"type": "http.response.body", "body": b"tick\n", "more_body": True})
            await asyncio.sleep(0.1)
        await send({"type": "http.response.body", "body": b""})
        return
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def running(
    limits: ServerLimits = LIMITS, protocol: type[LimitedHttpToolsProtocol] | None = None
) -> Iterator[int]:
    """uvicorn with the protocol on a thread, on a socket bound here: its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        echo_length,
        http=protocol or protocol_class(limits),
        timeout_keep_alive=limits.keep_alive,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            time.sleep(0.01)
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(5)
        listener.close()


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), 2, (source, 0))


def until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed."""
    started = time.monotonic()
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            received += chunk
    return received, time.monotonic() - started


def test_a_head_not_complete_in_time_is_answered_408_and_closed() -> None:
    with running() as port, connect(port) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\n")

        answer, elapsed = until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"connection: close\r\n" in answer
    assert b"application/problem+json" in answer
    assert b'"detail": "the request head did not arrive within 0.2 s"' in answer
    assert 0.15 < elapsed < 1


def test_a_body_not_complete_in_time_is_answered_408_and_closed() -> None:
    with running() as port, connect(port) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")

        answer, elapsed = until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b'"the request body did not arrive within 0.2 s", "instance": "/echo"' in answer
    assert 0.15 < elapsed < 1


def test_a_connection_that_sends_nothing_is_closed_without_an_answer() -> None:
    with running() as port, connect(port) as sock:
        answer, elapsed = until_closed(sock)

    assert answer == b""
    assert 0.15 < elapsed < 1


def test_requests_in_time_are_answered_and_each_is_timed_afresh() -> None:
    limits = dataclasses.replace(LIMITS, header_timeout=0.5, body_timeout=0.5)
    with running(limits) as port, connect(port) as sock:
        for _ in range(3):
            time.sleep(0.3)  # idle between requests, under the keep-alive timeout
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
            time.sleep(0.3)  # the head was in time; the body's clock starts now
            sock.sendall(b"abc")
            answer = sock.recv(65536)

            assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
            assert answer.endswith(b"\r\n\r\n3")


def test_an_answer_takes_as_long_as_it_takes() -> None:
    with running() as port, connect(port) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

        answer, elapsed = until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.count(b"tick") == 6
    assert elapsed > 0.5  # longer than both read timeouts together


def test_an_incomplete_head_over_the_cap_is_answered_431() -> None:
    with running() as port, connect(port) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nX-Big: " + b"a" * MAX_HEAD_BYTES)

        answer, elapsed = until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert elapsed < 0.15  # at once, not at the header timeout


def test_connections_over_a_clients_limit_or_the_servers_are_answered_503_and_closed() -> None:
    with running() as port:
        first = [connect(port, "127.0.0.2") for _ in range(3)]
        over_client = connect(port, "127.0.0.2")
        others = [connect(port, "127.0.0.3") for _ in range(3)]
        over_server = connect(port, "127.0.0.4")

        refused = [until_closed(sock)[0] for sock in (over_client, over_server)]
        for sock in first[1:]:
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
        for sock in [*first, over_client, *others, over_server]:
            sock.close()

    assert all(answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n") for answer in refused)
    assert all(b"retry-after: 1\r\n" in answer for answer in refused)
    assert b"127.0.0.2 holds its maximum of 3 connections" in refused[0]
    assert b"the server holds its maximum of 6 connections" in refused[1]


def refused_while_sending(port: int) -> bytes:
    """Fill 127.0.0.5's connections, then send a request from it in two writes, the
    second after the server has refused the connection: what the server answered."""
    held = [connect(port, "127.0.0.5") for _ in range(3)]
    try:
        with connect(port, "127.0.0.5") as sock:
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 400000\r\n\r\n")
            time.sleep(0.1)  # the server refuses the connection meanwhile
            for _ in range(100):
                sock.sendall(b"x" * 4000)
            return until_closed(sock)[0]
    finally:
        for sock in held:
            sock.close()


def test_a_refused_client_still_sending_its_request_reads_the_503() -> None:
    """A client writes its request before it reads the answer. Had the server closed at
    once, the request's bytes would meet a closed socket, the connection would be reset,
    and the client would see its write fail rather than the 503."""
    with running(dataclasses.replace(LIMITS, header_timeout=5)) as port:
        answer = refused_while_sending(port)

    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")


def test_refused_connections_are_closed_at_once_when_too_many_linger() -> None:
    limits = dataclasses.replace(LIMITS, header_timeout=5)
    protocol = protocol_class(limits)
    protocol.connections_open.lingering = MAX_LINGERING

    with running(limits, protocol) as port, pytest.raises(ConnectionError):
        refused_while_sending(port)


def test_connections_are_counted_per_server_and_freed_when_closed() -> None:
    counts = OpenConnections(LIMITS)

    assert [counts.admit("a") for _ in range(3)] == [None] * 3
    assert counts.admit("a") == "a holds its maximum of 3 connections"
    counts.release("a")
    assert counts.admit("a") is None
    assert protocol_class(LIMITS).connections_open is not protocol_class(LIMITS).connections_open


def test_a_run_of_refusals_is_logged_in_two_lines(caplog: pytest.LogCaptureFixture) -> None:
    counts = OpenConnections(LIMITS)
    for _ in range(3):
        counts.admit("a")

    with caplog.at_level(logging.WARNING, logger="uvicorn.error"):
        for _ in range(50):
            counts.admit("a")
        counts.admit("b")

    assert caplog.messages == [
        "a holds its maximum of 3 connections: answering 503",
        "admitting again after 50 refused",
    ]


# -- the in-flight limit ------------------------------------------------------------------


class Exchange:
    """One request through an ASGI app, driven by hand: its body is given when the test
    says, and what the app sends is kept."""

    def __init__(self, app: Any, *, body: bytes | None = None) -> None:
        headers = [] if body is None else [(b"content-length", str(len(body)).encode())]
        self.scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
        self.body = asyncio.Queue[Message]()
        self.sent: list[Message] = []
        self.task = asyncio.ensure_future(app(self.scope, self.body.get, self._send))

    async def _send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        return self.sent[0]["status"] if self.sent else None


def gate_app() -> tuple[Any, asyncio.Event]:
    """An app that reads its body, then waits on the event before it answers."""
    opened = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if any(name == b"content-length" for name, _ in scope["headers"]):
            await receive()
        await opened.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app, opened


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_request_beyond_the_in_flight_limit_is_answered_503_at_once() -> None:
    async def scenario() -> None:
        app, opened = gate_app()
        limited = InFlightLimit(app, max_in_flight=2)
        working = [Exchange(limited), Exchange(limited)]
        await settle()

        refused = Exchange(limited)
        await settle()

        assert refused.status == 503
        assert (b"retry-after", b"1") in refused.sent[0]["headers"]
        opened.set()
        await asyncio.gather(*(exchange.task for exchange in working))
        assert [exchange.status for exchange in working] == [200, 200]
        assert limited.in_flight == 0

    asyncio.run(scenario())


def test_a_request_still_sending_its_body_is_not_in_flight() -> None:
    async def scenario() -> None:
        app, opened = gate_app()
        limited = InFlightLimit(app, max_in_flight=1)
        uploading = Exchange(limited, body=b"{}")
        await settle()

        admitted = Exchange(limited)
        await settle()
        uploading.body.put_nowait({"type": "http.request", "body": b"{}", "more_body": False})
        await settle()

        assert limited.in_flight == 2  # both work now: the limit is checked on arrival only
        opened.set()
        await asyncio.gather(uploading.task, admitted.task)
        assert (uploading.status, admitted.status) == (200, 200)
        assert limited.in_flight == 0

    asyncio.run(scenario())


def test_a_request_whose_body_is_never_read_is_in_flight() -> None:
    async def scenario() -> None:
        opened = asyncio.Event()

        async def ignores_the_body(scope: Scope, receive: Receive, send: Send) -> None:
            await opened.wait()
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        limited = InFlightLimit(ignores_the_body, max_in_flight=1)
        working = Exchange(limited, body=b"x")
        await settle()

        refused = Exchange(limited)
        await settle()

        assert refused.status == 503
        opened.set()
        await working.task
        assert limited.in_flight == 0

    asyncio.run(scenario())


def test_a_request_is_out_of_flight_once_its_answer_begins() -> None:
    async def scenario() -> None:
        streaming = asyncio.Event()

        async def stream(scope: Scope, receive: Receive, send: Send) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await streaming.wait()
            await send({"type": "http.response.body", "body": b""})

        limited = InFlightLimit(stream, max_in_flight=1)
        first = Exchange(limited)
        await settle()

        second = Exchange(limited)
        await settle()

        assert (first.status, second.status) == (200, 200)
        assert limited.in_flight == 0
        streaming.set()
        await asyncio.gather(first.task, second.task)

    asyncio.run(scenario())


# -- the settings and the process ---------------------------------------------------------


def test_the_limits_are_the_settings() -> None:
    defaults = ServerLimits.of(Settings.from_env({}))
    given = ServerLimits.of(
        Settings.from_env(
            {
                "TRADELEDGER_HEADER_TIMEOUT_SECONDS": "2.5",
                "TRADELEDGER_BODY_TIMEOUT_SECONDS": "7",
                "TRADELEDGER_KEEP_ALIVE_SECONDS": "3",
                "TRADELEDGER_MAX_REQUESTS_IN_FLIGHT": "50",
                "TRADELEDGER_MAX_CONNECTIONS": "400",
                "TRADELEDGER_MAX_CONNECTIONS_PER_CLIENT": "40",
            }
        )
    )

    assert defaults == ServerLimits(10, 30, 5, 200, 1000, 100)
    assert given == ServerLimits(2.5, 7, 3, 50, 400, 40)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRADELEDGER_HEADER_TIMEOUT_SECONDS", "0", "must be more than 0"),
        ("TRADELEDGER_BODY_TIMEOUT_SECONDS", "inf", "expected a number"),
        ("TRADELEDGER_KEEP_ALIVE_SECONDS", "0.5", "expected a whole number"),
        ("TRADELEDGER_MAX_REQUESTS_IN_FLIGHT", "0", "must be at least 1"),
        ("TRADELEDGER_MAX_CONNECTIONS", "-1", "must be at least 1"),
        ("TRADELEDGER_MAX_CONNECTIONS_PER_CLIENT", "many", "expected a whole number"),
    ],
)
def test_a_limit_that_cannot_work_is_refused(variable: str, value: str, message: str) -> None:
    with pytest.raises(InvalidSetting, match=f"^{variable}: {message}"):
        Settings.from_env({variable: value})


def test_the_open_file_limit_is_raised_to_hold_the_connections() -> None:
    script = (
        "import resource; from cli.server_limits import allow_open_files\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (300, hard))\n"
        "allow_open_files(1000)\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)\n"
    )
    environ = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script], env=environ, capture_output=True, text=True, check=True
    )

    soft, hard = (int(number) for number in result.stdout.split())
    assert soft == (1384 if hard == resource.RLIM_INFINITY else min(1384, hard))
