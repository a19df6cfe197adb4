"""The SSE event stream, served by a real uvicorn process and read by a real HTTP client.

Each test starts the server on a free port over an empty store, as deployments do
(`uvicorn --factory api.main:app_from_env`, or `tradeledger serve`), with the store and
keys in the environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import KEYS, WRITER, bearer, event, fentanyl, talks
from tradeledger.bootstrap import Services

REPO_ROOT = Path(__file__).resolve().parents[2]
HEADERS = bearer(WRITER)

SERVE = "import typer; from cli.serve import register; app = typer.Typer(); register(app); app()"
"""`tradeledger serve` as its own command (the full CLI needs every command module)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]

    def post(self, path: str, body: Any) -> dict[str, Any]:
        response = httpx.post(self.url + path, json=body, headers=HEADERS, timeout=30)
        assert response.status_code == 201, response.text
        written: dict[str, Any] = response.json()
        return written


@contextlib.contextmanager
def running_server(
    database_url: str, *, serve: bool = False, env: dict[str, str] | None = None
) -> Iterator[Server]:
    port = free_port()
    if serve:
        command = [sys.executable, "-c", SERVE, "--port", str(port), "--log-level", "warning"]
    else:
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.main:app_from_env"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        command += ["--timeout-graceful-shutdown", "5"]
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "TRADELEDGER_DATABASE_URL": database_url,
        "TRADELEDGER_API_KEYS": ",".join(f"{key}:{role}" for key, role in KEYS.items()),
        **(env or {}),
    }
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(server.url + "/openapi.json", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "Traceback" not in output, output


@dataclass
class Message:
    id: int
    data: dict[str, Any]


@dataclass
class Subscriber:
    """Reads an SSE stream on a thread; messages and comment lines arrive in queues."""

    url: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    messages: queue.Queue[Message] = field(default_factory=queue.Queue)
    comments: queue.Queue[str] = field(default_factory=queue.Queue)
    status: int | None = None

    def __post_init__(self) -> None:
        self._client = httpx.Client(timeout=httpx.Timeout(30, read=None))
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self._opened.wait(10), "the stream did not open"

    def _read(self) -> None:
        with (
            contextlib.suppress(httpx.HTTPError, RuntimeError, ValueError),
            self._client.stream(
                "GET",
                self.url + "/v1/events/stream",
                params=self.params,
                headers={**HEADERS, **self.headers},
            ) as response,
        ):
            self._response = response
            self.status = response.status_code
            self.content_type = response.headers.get("content-type", "")
            self._opened.set()
            fields: dict[str, str] = {}
            for line in response.iter_lines():
                if line.startswith(":"):
                    self.comments.put(line)
                elif line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
                elif "data" in fields:
                    self.messages.put(Message(int(fields["id"]), json.loads(fields["data"])))
                    fields = {}
                else:
                    fields = {}
        self._opened.set()

    def take(self, count: int, timeout: float = 10) -> list[Message]:
        deadline = time.monotonic() + timeout
        taken = []
        for _ in range(count):
            taken.append(self.messages.get(timeout=max(0.0, deadline - time.monotonic())))
        return taken

    def nothing_more(self, wait: float = 0.5) -> bool:
        try:
            self.messages.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        """Disconnect, as a browser closing the page would: the socket is shut down, which
        also wakes the reading thread from a blocking receive."""
        response: httpx.Response | None = getattr(self, "_response", None)
        stream = response.extensions.get("network_stream") if response is not None else None
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._client.close()


@contextlib.contextmanager
def subscribed(server: Server | str, **kwargs: Any) -> Iterator[Subscriber]:
    subscriber = Subscriber(server if isinstance(server, str) else server.url, **kwargs)
    try:
        yield subscriber
    finally:
        subscriber.close()


def rate(event_id: str, rate_pct: Any) -> dict[str, Any]:
    return event("rate_changed", event_id, "2025-03-04", rate_pct=rate_pct)


# -- the tests --------------------------------------------------------------------------


def test_a_stream_replays_then_follows_and_resumes_without_gap_or_duplicate(
    database_url: str,
) -> None:
    # Heartbeats and polls far apart: whatever arrives quickly was pushed by a notification.
    quiet = {"TRADELEDGER_SSE_HEARTBEAT_SECONDS": "60", "TRADELEDGER_SQLITE_POLL_INTERVAL": "30"}
    with running_server(database_url, env=quiet) as server:
        server.post("/v1/measures", fentanyl())
        server.post("/v1/negotiations", talks())

        with subscribed(server) as subscriber:
            replayed = subscriber.take(2)
            posted_at = time.monotonic()
            written = server.post("/v1/measures/us-cn-fentanyl/events", rate("A", 20))
            [live] = subscriber.take(1)
            latency = time.monotonic() - posted_at
        server.post(
            "/v1/measures/us-cn-fentanyl/events", {"events": [rate("B", 30), rate("C", 40)]}
        )

        with subscribed(server, headers={"Last-Event-ID": str(live.id)}) as resumed:
            missed = resumed.take(2)
            also_live = server.post("/v1/negotiations/us-cn-trade-talks/events", event(
                "development_reported", "D", "2025-05-01", summary="Reported."))  # fmt: skip
            [latest] = resumed.take(1)
            assert resumed.nothing_more()
            assert resumed.status == 200
            assert resumed.content_type.startswith("text/event-stream")

    assert [m.id for m in replayed] == [1, 2]
    assert [m.data["type"] for m in replayed] == [
        "tradeledger.measure.imposed",
        "tradeledger.negotiation.opened",
    ]
    assert live.id == written["events"][0]["position"] == 3
    assert live.data["data"]["event_id"] == "A"
    assert live.data["position"] == live.id
    assert latency < 1.0, f"pushed after {latency:.2f} s"
    assert [(m.id, m.data["data"]["event_id"]) for m in missed] == [(4, "B"), (5, "C")]
    assert latest.id == also_live["events"][0]["position"] == 6


def test_a_stream_keeps_to_its_filters(database_url: str) -> None:
    with running_server(database_url) as server:
        server.post("/v1/measures", fentanyl())
        server.post("/v1/measures", {**fentanyl(), "key": "other", "event_id": "O"})

        params = {"stream": "us-cn-fentanyl", "type": ["rate_changed", "terminated"], "after": 1}
        with subscribed(server, params=params) as subscriber:
            server.post("/v1/measures/other/events", rate("X", 1))
            server.post("/v1/measures/us-cn-fentanyl/events", event(
                "scope_changed", "Y", "2025-03-04", added_hs_prefixes=["9503"]))  # fmt: skip
            server.post("/v1/measures/us-cn-fentanyl/events", rate("Z", 3))
            [only] = subscriber.take(1)
            assert subscriber.nothing_more()

    assert (only.id, only.data["data"]["event_id"]) == (5, "Z")


def test_a_stream_refuses_bad_filters_and_strangers_before_it_starts(database_url: str) -> None:
    with running_server(database_url) as server:
        stranger = httpx.get(server.url + "/v1/events/stream", timeout=10)
        bad_type = httpx.get(
            server.url + "/v1/events/stream", params={"type": "nope"}, headers=HEADERS, timeout=10
        )
        bad_resume = httpx.get(
            server.url + "/v1/events/stream",
            headers={**HEADERS, "Last-Event-ID": "yesterday"},
            timeout=10,
        )

    assert stranger.status_code == 401
    assert (bad_type.status_code, bad_resume.status_code) == (422, 422)
    assert bad_type.headers["content-type"] == "application/problem+json"
    assert bad_resume.json()["errors"][0]["field"] == "header.Last-Event-ID"


def test_an_idle_stream_sends_heartbeats(database_url: str) -> None:
    with (
        running_server(
            database_url, serve=True, env={"TRADELEDGER_SSE_HEARTBEAT_SECONDS": "0.2"}
        ) as server,
        subscribed(server) as subscriber,
    ):
        comments = [subscriber.comments.get(timeout=5) for _ in range(3)]

    assert comments[0] == ": tradeledger event stream"
    assert comments[1:] == [": heartbeat", ": heartbeat"]


def test_four_writers_and_a_subscriber_that_sees_each_event_once_in_commit_order(
    database_url: str,
) -> None:
    with running_server(database_url, env={"TRADELEDGER_SSE_HEARTBEAT_SECONDS": "60"}) as server:
        for n in range(4):
            server.post("/v1/measures", {**fentanyl(), "key": f"m-{n}", "event_id": f"I-{n}"})

        def write(n: int) -> list[int]:
            positions = []
            with httpx.Client(base_url=server.url, headers=HEADERS, timeout=30) as client:
                for i in range(10):
                    body: Any = rate(f"{n}-{i}", i)
                    if i % 3 == 0:
                        body = {"events": [body, rate(f"{n}-{i}b", i + 1)]}
                    response = client.post(f"/v1/measures/m-{n}/events", json=body)
                    assert response.status_code == 201, response.text
                    positions += [e["position"] for e in response.json()["events"]]
            return positions

        with (
            subscribed(server, params={"after": 4}) as subscriber,
            ThreadPoolExecutor(max_workers=4) as pool,
        ):
            acknowledged = sorted(p for ps in pool.map(write, range(4)) for p in ps)
            received = subscriber.take(len(acknowledged), timeout=30)
            assert subscriber.nothing_more()

    assert len(acknowledged) == 4 * 14
    assert [m.id for m in received] == acknowledged
    assert len({m.data["id"] for m in received}) == len(received)


def test_a_disconnected_client_is_forgotten_at_once(services: Services) -> None:
    app = create_app(services, Settings.with_keys(KEYS, sse_heartbeat_seconds=60))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        bell = app.state.log_bell
        others = set(bell._rings)  # the projection follower's
        with subscribed(f"http://127.0.0.1:{port}") as subscriber:
            subscriber.comments.get(timeout=5)
            following = len(bell._rings - others)
        deadline = time.monotonic() + 5
        while bell._rings - others and time.monotonic() < deadline:
            time.sleep(0.02)
        forgotten = not bell._rings - others
    finally:
        server.should_exit = True
        thread.join(10)

    assert (following, forgotten) == (1, True)
