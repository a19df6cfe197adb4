"""The measurements that need the service running: the HTTP API and commit -> subscriber
latency.

The API runs as users run it, in a uvicorn process of its own (one worker, access log
off) on a store of the suite's; the clients live in the benchmark's process, on threads
with one keep-alive connection each. Latency is measured on one clock, the benchmark
process's: a probe event's write is timed from the moment the writer calls (the save
call, or the POST sent) to the moment its subscriber holds it (the SSE `data:` line
read, or the notification yielded by the store's subscription).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from bench.figures import EVENTS_PER_SECOND, MILLISECONDS, Figure, latencies, percentile
from bench.stores import BuiltStore, Place, scratch
from bench.suites import APP_SINGLE, BENCH_PROVENANCE, duty_question_mix
from domain.commands import ImposeMeasure, MeasureTerms
from domain.events import Facts
from domain.ledger import Ledger
from domain.measure import TariffMeasure
from domain.measure_changes import ChangeRate, MeasureChange
from tradeledger.bootstrap import open_services
from tradeledger.settings import StoreConfig

API = "4 HTTP API"
LATENCY = "7 commit to subscriber"

SSE_FROM_POST = "SSE client, writer POSTing to the same server"
SSE_FROM_SAVE = "SSE client, writer in another process (from Ledger.save)"
IN_PROCESS = "recorder.subscribe() in the writer's process (from Ledger.save)"

REPO_ROOT = Path(__file__).resolve().parent.parent
WRITER_KEY = "bench-writer-key-000000000000"
AUDITOR_KEY = "bench-auditor-key-00000000000"
MEASURES = 48
"""Measures the API appends to (each client its own share, so clients do not conflict)."""
PROBE_PACE = 0.004
"""Seconds between a latency probe's acknowledgement and the next write."""


@dataclass(frozen=True)
class LiveSettings:
    """How much each run of the served measurements does."""

    api_appends: int
    """POSTs per run, shared among the clients."""
    http_queries: int
    """Duty queries over HTTP per run."""
    probes: int
    """Latency probes per run (each one event written and waited for)."""
    warm_up: int
    hot_appends: int = 2000
    """POSTs per run to one stream, shared among the writers (bench.hot)."""


# -- the server --------------------------------------------------------------------------


@dataclass
class Served:
    """A uvicorn process serving the API on a store."""

    url: str
    process: subprocess.Popen[bytes]

    def client(self, key: str = WRITER_KEY) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=httpx.Timeout(30.0),
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(config: StoreConfig) -> Iterator[Served]:
    """The API on `config`'s store in a uvicorn process, stopped afterwards."""
    port = _free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "api.main:app_from_env",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
        "--timeout-graceful-shutdown", "2",
    ]  # fmt: skip
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "TRADELEDGER_DATABASE_URL": config.url,
        "TRADELEDGER_API_KEYS": f"{WRITER_KEY}:writer,{AUDITOR_KEY}:auditor",
    }
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    served = Served(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                errors = process.stderr.read().decode() if process.stderr else ""
                msg = f"the API server did not start: {errors[-2000:]}"
                raise RuntimeError(msg)
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(served.url + "/v1/schemas", timeout=1).status_code < 500:
                    break
            if time.monotonic() > deadline:
                msg = "the API server did not answer within 60 s"
                raise RuntimeError(msg)
            time.sleep(0.05)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


# -- request bodies ------------------------------------------------------------------------

_SOURCES = [
    {
        "citation": "https://www.federalregister.gov/documents/2025/04/09/2025-06063",
        "publisher": "Federal Register",
        "reliability": "official",
    }
]


def _imposed(key: str) -> dict[str, Any]:
    return {
        "type": "imposed",
        "event_id": f"{key}-imposed",
        "effective_on": "2025-03-04",
        "announced_at": "2025-03-01T09:00:00Z",
        "key": key,
        "imposer": "US",
        "name": f"Bench measure {key}",
        "targets": ["CN"],
        "layer": "bench",
        "rate_pct": 10,
        "sources": _SOURCES,
        "recorded_by": "loader@bench.tradeledger",
    }


def _rate_changed(event_id: str, n: int) -> dict[str, Any]:
    return {
        "type": "rate_changed",
        "event_id": event_id,
        "effective_on": "2025-04-09",
        "announced_at": "2025-04-01T12:00:00Z",
        "rate_pct": 10 + n % 50,
        "sources": _SOURCES,
        "recorded_by": "loader@bench.tradeledger",
        "note": "benchmark rate change",
    }


def _create_measures(client: httpx.Client, prefix: str, count: int) -> list[str]:
    keys = [f"{prefix}-{i:03d}" for i in range(count)]
    for key in keys:
        response = client.post("/v1/measures", json=_imposed(key))
        _expect(response, 201)
    return keys


def _expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        msg = f"{response.request.method} {response.request.url.path}: {response.status_code} "
        raise RuntimeError(msg + response.text[:500])


# -- 6. the HTTP API -------------------------------------------------------------------------


def api_appends(place: Place, backend: str, runs: int, settings: LiveSettings) -> list[Figure]:
    """POST one rate change per request, from 1 and from 8 concurrent clients."""
    figures = []
    with scratch(place, backend, "api") as config, serving(config) as served:
        with served.client() as setup:
            keys = _create_measures(setup, "bench-api", MEASURES)
        for clients in (1, 8):
            measured: list[float] = []
            for run in range(runs):
                measured.append(_append_rate(served, keys, clients, settings, f"r{run}c{clients}"))
            name = f"POST /v1/measures/{{key}}/events, {clients} client{'s' * (clients > 1)}"
            figures.append(
                Figure(API, name, backend, EVENTS_PER_SECOND, measured,
                       reference=f"{backend}:{APP_SINGLE}",
                       note=f"{settings.api_appends} requests per run, one event each; ratio "
                            "to the application's direct rate (Ledger.append_to_stream)")
            )  # fmt: skip
    return figures


def _append_rate(
    served: Served, keys: Sequence[str], clients: int, settings: LiveSettings, run: str
) -> float:
    """Events/s of `settings.api_appends` POSTs shared among `clients` threads.

    The clients are lean (the standard library's HTTP client on one keep-alive
    connection each, request bodies encoded before the clock starts), so that what is
    measured is the service rather than the client: on a 2-core machine a heavier client
    takes its CPU time from the server.
    """
    per_client = max(1, settings.api_appends // clients)
    address = httpx.URL(served.url)
    headers = {"Authorization": f"Bearer {WRITER_KEY}", "Content-Type": "application/json"}
    requests = [
        [
            (
                f"/v1/measures/{keys[c::clients][n % len(keys[c::clients])]}/events",
                json.dumps(_rate_changed(f"bench-api-{run}-{c}-{n}", n)).encode(),
            )
            for n in range(per_client)
        ]
        for c in range(clients)
    ]
    ready = threading.Barrier(clients + 1)
    failures: list[BaseException] = []

    def post(planned: Sequence[tuple[str, bytes]]) -> None:
        connection = http.client.HTTPConnection(address.host, address.port, timeout=30)
        try:
            connection.connect()  # before the clock starts
            ready.wait()
            for path, body in planned:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 201:
                    msg = f"POST {path}: {response.status} {answer[:500]!r}"
                    raise RuntimeError(msg)
        except BaseException as error:  # reported once the clock has stopped
            failures.append(error)
            with contextlib.suppress(threading.BrokenBarrierError):
                ready.abort()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=post, args=(requests[c],), daemon=True) for c in range(clients)
    ]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    return per_client * clients / elapsed


def api_duty(place: Place, built: BuiltStore, runs: int, settings: LiveSettings) -> list[Figure]:
    """GET /v1/duty p50/p99, as a client sees it, on a projected store."""
    backend, size = built.config.backend, built.synthetic.events
    services = open_services(built.config)
    try:
        services.projector.catch_up()
        total = settings.warm_up + settings.http_queries
        points = duty_question_mix(services, built.synthetic, total)
    finally:
        services.close()
    p50, p99 = [], []
    with serving(built.config) as served, served.client(AUDITOR_KEY) as client:

        def ask(i: int, offset: int = 0) -> object:
            point = points[(i + offset) % len(points)]
            params: dict[str, str] = {
                "importer": point.importer,
                "origin": point.origin,
                "hs": point.hs,
                "on": point.on.isoformat(),
            }
            if point.known_at is not None:
                params["known_at"] = point.known_at.isoformat()
            response = client.get("/v1/duty", params=params)
            _expect(response, 200)
            return response

        for run in range(runs):
            ask_from = partial(ask, offset=run * 7919)
            values = latencies(ask_from, settings.http_queries, settings.warm_up)
            p50.append(percentile(values, 0.50))
            p99.append(percentile(values, 0.99))
    note = f"{settings.http_queries} requests per run, one connection, the duty_on mix"
    return [
        Figure(API, "GET /v1/duty p50", backend, MILLISECONDS, p50, size, note=note),
        Figure(API, "GET /v1/duty p99", backend, MILLISECONDS, p99, size, note=note),
    ]


# -- 7. commit -> subscriber latency -------------------------------------------------------


@dataclass
class _Probes:
    """When each probe was written (by event id), and when its subscriber held it."""

    sent: dict[str, float] = field(default_factory=dict)
    held: dict[str, float] = field(default_factory=dict)
    arrived: queue.Queue[str] = field(default_factory=queue.Queue)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, event_id: str, at: float) -> None:
        with self.lock:
            self.held.setdefault(event_id, at)
        self.arrived.put(event_id)

    def await_(self, event_id: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if event_id in self.held:
                    return
            try:
                self.arrived.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                msg = f"probe {event_id} did not reach its subscriber within {timeout} s"
                raise RuntimeError(msg) from None

    def latencies(self) -> list[float]:
        values = [(self.held[e] - self.sent[e]) * 1000 for e in self.sent if e in self.held]
        return sorted(values)


def _probe_ids(run: str, count: int) -> list[str]:
    return [f"bench-probe-{run}-{n:05d}" for n in range(count)]


Write = Callable[[str, int], float]
"""Writes probe `event_id` (the n-th); returns when the write call began (perf_counter)."""


def _saver(ledger: Ledger, measure_id: UUID) -> Write:
    """Probes saved as the library's own latency is measured: from the save call. The
    measure is loaded once and each rate change applied to it in memory, so the time of
    loading the stream (which grows with every probe) is not counted."""
    measure: TariffMeasure = ledger.repository.get(measure_id)

    def save(event_id: str, n: int) -> float:
        _change(event_id, n).apply_to(measure)
        started = time.perf_counter()
        ledger.save(measure)
        return started

    return save


def _write_probes(probes: _Probes, ids: Sequence[str], write: Write, warm_up: int) -> None:
    """The concurrent writer: one event at a time, each timed from the call that writes
    it; the next is written once the subscriber has the last (so probes never queue)."""
    for n, event_id in enumerate(ids):
        started = write(event_id, n)
        if n >= warm_up:
            probes.sent[event_id] = started
        probes.await_(event_id)
        time.sleep(PROBE_PACE)


class _SseReader:
    """Follows GET /v1/events/stream on a thread; marks each probe when its line is read."""

    def __init__(self, served: Served, probes: _Probes, after: int) -> None:
        self._client = httpx.Client(
            base_url=served.url,
            headers={"Authorization": f"Bearer {AUDITOR_KEY}"},
            timeout=httpx.Timeout(30.0, read=None),
        )
        self._probes = probes
        self._after = after
        self._opened = threading.Event()
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._read, name="bench-sse", daemon=True)
        self._thread.start()
        if not self._opened.wait(30):
            msg = "the SSE stream did not open"
            raise RuntimeError(msg)

    def _read(self) -> None:
        params = {"after": str(self._after), "type": "measure.rate_changed"}
        with (
            contextlib.suppress(httpx.HTTPError, RuntimeError),
            self._client.stream("GET", "/v1/events/stream", params=params) as response,
        ):
            self._response = response
            self._opened.set()
            for line in response.iter_lines():
                if line.startswith("data:"):
                    at = time.perf_counter()
                    self._probes.hold(json.loads(line[5:])["data"]["event_id"], at)
                if self._stop.is_set():
                    return
        self._opened.set()

    def close(self) -> None:
        self._stop.set()
        response = self._response
        stream = response.extensions.get("network_stream") if response is not None else None
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._client.close()


def subscriber_latency(
    place: Place, backend: str, runs: int, settings: LiveSettings
) -> list[Figure]:
    """Write probe events one at a time while a subscriber follows the log; time each
    from its write call to its subscriber: an SSE client of the API (writer POSTing to
    the same server; on PostgreSQL also a writer in another process), and the store's
    own subscription in the writer's process."""
    count = settings.probes + settings.warm_up
    from_post, from_save, in_process = [], [], []
    with scratch(place, backend, "latency") as config:
        services = open_services(config)
        try:
            ledger = services.ledger
            measure_id = uuid4()
            facts = _facts("bench-latency")
            ledger.create_stream(ImposeMeasure(measure_id, "bench-latency", facts, _TERMS))
            with serving(config) as served, served.client() as client:
                _expect(client.post("/v1/measures", json=_imposed("bench-sse")), 201)
                for run in range(runs):

                    def post(event_id: str, n: int) -> float:
                        body = _rate_changed(event_id, n)
                        started = time.perf_counter()
                        _expect(client.post("/v1/measures/bench-sse/events", json=body), 201)
                        return started

                    from_post.append(_sse_run(served, ledger, post, f"p{run}", count, settings))
                    if backend == "postgres":
                        save = _saver(ledger, measure_id)
                        from_save.append(_sse_run(served, ledger, save, f"s{run}", count, settings))
            for run in range(runs):
                in_process.append(_in_process_run(ledger, measure_id, f"i{run}", count, settings))
        finally:
            services.close()
    figures = []
    pace = f"{PROBE_PACE * 1000:.0f} ms apart"
    note = f"{settings.probes} probes per run, one write at a time, {pace}"
    for name, values in (
        (SSE_FROM_POST, from_post),
        (SSE_FROM_SAVE, from_save),
        (IN_PROCESS, in_process),
    ):
        if not values:
            continue
        for label, fraction in (("p50", 0.50), ("p99", 0.99)):
            figures.append(
                Figure(LATENCY, f"{name} {label}", backend, MILLISECONDS,
                       [percentile(v, fraction) for v in values], note=note)
            )  # fmt: skip
    return figures


def _sse_run(
    served: Served,
    ledger: Any,
    write: Write,
    run: str,
    count: int,
    settings: LiveSettings,
) -> list[float]:
    probes = _Probes()
    reader = _SseReader(served, probes, after=ledger.recorder.max_notification_id() or 0)
    try:
        _write_probes(probes, _probe_ids(run, count), write, settings.warm_up)
    finally:
        reader.close()
    return probes.latencies()


def _in_process_run(
    ledger: Any, measure_id: UUID, run: str, count: int, settings: LiveSettings
) -> list[float]:
    probes = _Probes()
    recorder, mapper = ledger.recorder, ledger.mapper
    subscribed = threading.Event()
    stop = threading.Event()

    def follow() -> None:
        with recorder.subscribe(gt=recorder.max_notification_id() or 0) as subscription:
            subscribed.set()
            for notification in subscription:
                at = time.perf_counter()
                event = mapper.to_domain_event(notification)
                probes.hold(str(getattr(event, "event_id", "")), at)
                if stop.is_set():
                    return

    follower = threading.Thread(target=follow, name="bench-subscription", daemon=True)
    follower.start()
    if not subscribed.wait(30):
        msg = "the store's subscription did not start"
        raise RuntimeError(msg)

    ids = _probe_ids(run, count)
    _write_probes(probes, ids, _saver(ledger, measure_id), settings.warm_up)
    stop.set()
    # One more event wakes the subscription so that it sees the stop.
    ledger.append_to_stream(measure_id, [_change(f"bench-probe-{run}-stop", 0)])
    follower.join(10)
    return probes.latencies()


_TERMS = MeasureTerms("US", "Bench latency measure", ("CN",), "bench", rate_pct=Decimal(10))


def _facts(event_id: str) -> Facts:
    announced = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    return Facts(event_id, date(2025, 3, 4), announced, BENCH_PROVENANCE)


def _change(event_id: str, n: int) -> MeasureChange:
    announced = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
    facts = Facts(event_id, date(2025, 4, 9), announced, BENCH_PROVENANCE)
    return ChangeRate(facts, rate_pct=Decimal(10 + n % 50), hs_prefixes=())
