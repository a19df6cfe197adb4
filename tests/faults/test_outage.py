"""A PostgreSQL outage under load, with the real server, worker and database (issue #13).

`tradeledger serve` and `tradeledger project` run as subprocesses on a PostgreSQL
cluster of the test's own (tests/faults/private_postgres.py), while a few threads post
events with Idempotency-Keys, retrying each until it is acknowledged. The cluster is
stopped as an administrator's restart stops it (`pg_ctl stop -m fast`), then started
again, and the test checks what clients and operators see:

* during the outage every request answers within 3 s: 503 problem+json of type
  `store_unavailable`, with Retry-After; so does /readyz, while /healthz answers 200;
* an open event stream keeps receiving heartbeats;
* once PostgreSQL is back the very first request succeeds, the API and the worker
  recover by themselves within 5 s, and the worker is still running;
* every acknowledged write is in the log exactly once (a retry with the same
  Idempotency-Key never duplicated one).

It prints what it measured: the outage detection time (the median latency of the 503
answers) and the recovery times.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
import psycopg
import pytest

from tests.faults.private_postgres import PrivateCluster, free_port, unavailable_reason

pytestmark = [
    pytest.mark.fault,
    pytest.mark.slow,
    pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
]

ROOT = Path(__file__).resolve().parents[2]
WRITER_KEY = "outage-writer"
HEADERS = {"Authorization": f"Bearer {WRITER_KEY}"}
HEARTBEAT = 0.25
"""TRADELEDGER_SSE_HEARTBEAT_SECONDS for the server under test."""
WRITERS = 3
OUTAGE = 3.0
"""Seconds PostgreSQL stays down."""
ANSWER_WITHIN = 3.0
RECOVER_WITHIN = 5.0
SOURCES = [{"citation": "EO 14257", "publisher": "The White House", "reliability": "official"}]


def event(event_type: str, event_id: str, on: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "event_id": event_id,
        "effective_on": on,
        "announced_at": on,
        "sources": SOURCES,
        "recorded_by": "outage@example.org",
        **fields,
    }


def measure_key(writer: int) -> str:
    return f"outage-measure-{writer}"


# -- the processes ----------------------------------------------------------------------


@dataclass
class Process:
    """A `tradeledger` command running in the background, its output in files."""

    popen: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    files: list[TextIO] = field(default_factory=list)

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> int:
        """SIGTERM, then wait (SIGKILL after 30 s); the exit status."""
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
        try:
            status = self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            status = self.popen.wait(30)
        for file in self.files:
            file.close()
        return status


def tradeledger(folder: Path, name: str, env: dict[str, str], *args: str) -> Process:
    stdout, stderr = folder / f"{name}.out", folder / f"{name}.err"
    out, err = stdout.open("w"), stderr.open("w")
    popen = subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args], cwd=folder, env=env, stdout=out, stderr=err
    )
    return Process(popen, stdout, stderr, [out, err])


def wait_until(condition: Any, timeout: float, what: str, poll: float = 0.05) -> float:
    """Poll `condition` until true; the seconds it took (fails after `timeout`)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(poll)
    return time.monotonic() - started


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    made = PrivateCluster.create()
    try:
        yield made
    finally:
        made.remove()


# -- what the clients saw ---------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP request: when it started and ended (monotonic), and what came back."""

    what: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer at all
    content_type: str = ""
    retry_after: str | None = None
    body: Any = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def is_store_unavailable(self) -> bool:
        body = self.body if isinstance(self.body, dict) else {}
        return (
            self.status == 503
            and self.content_type.startswith("application/problem+json")
            and body.get("rule") == "store_unavailable"
            and str(body.get("type", "")).endswith("/store-unavailable")
            and self.retry_after is not None
            and self.retry_after.isdigit()
        )


def ask(client: httpx.Client, what: str, method: str, path: str, **options: Any) -> Answer:
    started = time.monotonic()
    try:
        response = client.request(method, path, **options)
    except httpx.HTTPError as error:
        return Answer(what, started, time.monotonic(), 0, body=repr(error))
    ended = time.monotonic()
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Answer(
        what,
        started,
        ended,
        response.status_code,
        response.headers.get("content-type", ""),
        response.headers.get("retry-after"),
        body,
    )


class Load:
    """`WRITERS` threads appending events, each retried with its Idempotency-Key until it
    is acknowledged (or the load has been told to stop and 20 s have passed)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.answers: list[Answer] = []
        self.acknowledged: list[str] = []
        """Event ids of the writes answered 2xx."""
        self.duplicates_refused: list[Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(WRITERS)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _write(self, writer: int) -> None:
        path = f"/v1/measures/{measure_key(writer)}/events"
        with httpx.Client(base_url=self.base_url, headers=HEADERS, timeout=15) as client:
            number = 0
            while not self._stop.is_set():
                number += 1
                event_id = f"W{writer}-{number}"
                body = event("rate_changed", event_id, "2025-03-04", rate_pct=number % 90)
                headers = {"Idempotency-Key": f"outage-{event_id}"}
                gave_up_at = None
                while True:
                    answer = ask(client, "append", "POST", path, json=body, headers=headers)
                    with self._lock:
                        self.answers.append(answer)
                        if answer.ok:
                            self.acknowledged.append(event_id)
                        elif answer.status == 409:
                            self.duplicates_refused.append(answer)
                    if answer.ok or answer.status == 409:
                        break
                    if self._stop.is_set():
                        gave_up_at = gave_up_at or time.monotonic() + 20
                        if time.monotonic() > gave_up_at:
                            break
                    time.sleep(0.05)
                time.sleep(0.02)

    def acknowledged_after(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.ok and a.ended >= moment]


class Stream:
    """An SSE client of /v1/events/stream on a thread: when each heartbeat and each
    event arrived."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.heartbeats: list[float] = []
        self.events: list[tuple[float, int]] = []
        self.opened = threading.Event()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self.opened.wait(10), "the event stream did not open"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _listen(self) -> None:
        timeout = httpx.Timeout(10, read=5)
        try:
            with (
                httpx.Client(base_url=self.base_url, headers=HEADERS, timeout=timeout) as client,
                client.stream("GET", "/v1/events/stream") as response,
            ):
                assert response.status_code == 200
                self.opened.set()
                for line in response.iter_lines():
                    now = time.monotonic()
                    if line.startswith(": heartbeat"):
                        self.heartbeats.append(now)
                    elif line.startswith("id: "):
                        self.events.append((now, int(line[4:])))
                    if self._stop.is_set():
                        return
        except BaseException as error:
            self.error = error

    def longest_silence(self, start: float, end: float) -> float:
        """The longest time without a heartbeat between `start` and `end`."""
        beats = [start, *(b for b in self.heartbeats if start < b < end), end]
        return max(later - earlier for earlier, later in itertools.pairwise(beats))


# -- the test ---------------------------------------------------------------------------


def log_event_ids(client: httpx.Client) -> list[str]:
    """The event id of every event in the log, in order (through the API)."""
    ids: list[str] = []
    after = 0
    while True:
        page = client.get("/v1/events", params={"after": after, "limit": 1000}).json()
        ids += [entry["data"]["event_id"] for entry in page["events"]]
        if page["next_after"] == page["high_water"]:
            return ids
        after = page["next_after"]


def read_model_lag(url: str) -> int:
    """How many positions of the log the read models have yet to project."""
    with psycopg.connect(url, connect_timeout=2) as connection:
        log = connection.execute("SELECT max(notification_id) FROM tradeledger_events")
        (log_at,) = log.fetchone() or (0,)
        tracked = connection.execute(
            "SELECT max(notification_id) FROM tradeledger_tracking"
            " WHERE application_name = 'tradeledger'"
        )
        (tracked_at,) = tracked.fetchone() or (0,)
    return int(log_at or 0) - int(tracked_at or 0)


def test_a_postgres_outage_fails_requests_fast_and_everything_recovers_by_itself(
    cluster: PrivateCluster, tmp_path: Path
) -> None:
    url = cluster.create_database("tradeledger")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "TRADELEDGER_DATABASE_URL": url,
        "TRADELEDGER_API_KEYS": f"{WRITER_KEY}:writer",
        "TRADELEDGER_SSE_HEARTBEAT_SECONDS": str(HEARTBEAT),
    }
    # Both at once, on the empty database: schema creation is serialised by the store.
    serve = tradeledger(tmp_path, "serve", env, "serve", "--port", str(port))
    worker = tradeledger(tmp_path, "worker", env, "project", "--poll-interval", "0.2")
    client = httpx.Client(base_url=base_url, headers=HEADERS, timeout=15)
    load, stream = Load(base_url), Stream(base_url)
    try:
        wait_until(lambda: _answers(client, "/healthz"), 60, "the API starting")
        wait_until(lambda: "caught up" in worker.output(), 60, "the worker catching up")
        for writer in range(WRITERS):
            created = client.post(
                "/v1/measures",
                json=event(
                    "imposed",
                    f"OUTAGE-{writer}",
                    "2025-02-04",
                    key=measure_key(writer),
                    imposer="US",
                    name=f"Outage measure {writer}",
                    targets=["CN"],
                    layer="outage",
                    rate_pct=10,
                ),
            )
            assert created.status_code == 201, created.text
        stream.start()
        load.start()
        time.sleep(1.5)
        assert load.acknowledged, "no write went through before the outage"

        # -- PostgreSQL goes away ---------------------------------------------------
        stopping = time.monotonic()
        cluster.stop()
        down = time.monotonic()
        probes: list[Answer] = []
        while time.monotonic() < down + OUTAGE:
            probes += [
                ask(client, "measure", "GET", f"/v1/measures/{measure_key(0)}"),
                ask(client, "events", "GET", "/v1/events"),
                ask(client, "readyz", "GET", "/readyz"),
                ask(client, "healthz", "GET", "/healthz"),
            ]
            time.sleep(0.1)
        worker_saw_it = "lost the store" in worker.output()

        # -- PostgreSQL is back ---------------------------------------------------------
        # (It accepts connections a little before pg_ctl, polling, says it has started.)
        restarting = time.monotonic()
        cluster.start()
        up = time.monotonic()
        first = ask(client, "first read after the outage", "GET", f"/v1/measures/{measure_key(0)}")
        ready_after = ask(client, "readyz after the outage", "GET", "/readyz")
        wait_until(lambda: load.acknowledged_after(up), RECOVER_WITHIN, "an acknowledged write")
        worker_recovery = (up - restarting) + wait_until(
            lambda: "the projection worker reconnected" in worker.output(),
            RECOVER_WITHIN,
            "the worker reconnecting",
        )
        load.stop()
        stream_events_after = [at for at, _ in stream.events if at > up]
        caught_up = wait_until(lambda: read_model_lag(url) == 0, RECOVER_WITHIN, "catching up")
        logged = Counter(log_event_ids(client))
        worker_alive = worker.alive
    finally:
        stream.stop()
        load.stop()
        client.close()
        worker_status, serve_status = worker.stop(), serve.stop()

    during = [a for a in probes + load.answers if down <= a.started and a.ended < restarting]
    around = [a for a in probes + load.answers if stopping <= a.started < up]
    unavailable = [a for a in during if a.what not in ("healthz",)]
    detection = statistics.median(a.seconds for a in unavailable)
    api_recovery = min(a.ended for a in load.answers if a.ok and a.started >= restarting)
    heartbeats = len([b for b in stream.heartbeats if down < b < up])
    report = {
        "outage_seconds": round(restarting - down, 2),
        "postgres_start_seconds": round(up - restarting, 3),
        "requests_during_outage": len(during),
        "detection_median_seconds": round(detection, 3),
        "detection_max_seconds": round(max(a.seconds for a in unavailable), 3),
        "first_request_after_start": [first.status, round(first.seconds, 3)],
        "api_recovery_seconds": round(api_recovery - restarting, 3),
        "worker_recovery_seconds": round(worker_recovery, 3),
        "read_models_caught_up_seconds_later": round(caught_up, 3),
        "heartbeats_during_outage": heartbeats,
        "longest_heartbeat_silence": round(stream.longest_silence(stopping, up), 3),
        "writes_acknowledged": len(load.acknowledged),
        "append_attempts": len(load.answers),
    }
    print("\noutage measurements:", json.dumps(report), file=sys.stderr)

    # Every request answered in time; during the outage, as store_unavailable.
    slow = [a for a in around if a.seconds >= ANSWER_WITHIN]
    assert not slow, f"answers slower than {ANSWER_WITHIN} s: {slow[:3]}"
    assert len(unavailable) >= 20, report
    wrong = [a for a in unavailable if not a.is_store_unavailable()]
    assert not wrong, f"not a store_unavailable problem: {wrong[:3]}"
    assert all(a.ok for a in probes if a.what == "healthz"), "liveness asked the database"
    assert worker_saw_it, worker.output()

    # The stream was kept alive, and carries on.
    assert stream.error is None, stream.error
    assert heartbeats >= OUTAGE / HEARTBEAT / 2, report
    assert stream.longest_silence(stopping, up) < 4 * HEARTBEAT, report
    assert stream_events_after, "the event stream delivered nothing after the outage"

    # Recovery, by themselves.
    assert first.ok, first
    assert ready_after.ok, ready_after
    assert worker_alive, worker.output()
    # uvicorn shuts down gracefully on SIGTERM, then raises it again for its exit status.
    assert worker_status == 0, worker.output()
    assert serve_status in (0, -signal.SIGTERM), serve.output()

    # Exactly once.
    assert not load.duplicates_refused, load.duplicates_refused[:3]
    assert all(logged[event_id] == 1 for event_id in load.acknowledged), [
        (event_id, logged[event_id]) for event_id in load.acknowledged if logged[event_id] != 1
    ]
    assert max(logged.values()) == 1, [item for item in logged.items() if item[1] > 1]


def _answers(client: httpx.Client, path: str) -> bool:
    try:
        return client.get(path).status_code == 200
    except httpx.HTTPError:
        return False
