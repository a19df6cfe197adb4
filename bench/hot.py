"""8. A hot stream: 1 writer, then 16, appending to one measure over HTTP, no If-Match.

The API runs in a uvicorn process of its own (bench.served), and the writers are
threads of the benchmark's process, each on one keep-alive connection, POSTing one rate
change per request to the same measure, as fast as the answers come. Every request
must answer 201: a 409 (or anything else) stops the run, since a writer that asked for
no version check must never be refused for a version. Each run starts on a new measure,
so that the runs compare; each figure is the median of the runs.

The throughput of 16 writers is reported as a ratio of one writer's in the same run of
the suite (target >= 0.7x), and their p99 latency against 100 ms (issue #13, item 4).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import statistics
import threading
import time
from collections.abc import Sequence

import httpx

from bench.figures import EVENTS_PER_SECOND, MILLISECONDS, Figure, percentile
from bench.served import WRITER_KEY, LiveSettings, Served, _expect, _imposed, _rate_changed, serving
from bench.stores import Place, scratch

HOT = "8 hot stream"
WRITERS = (1, 16)
WARM_UP = 5
"""Requests each writer sends before the clock starts."""


def rate_name(writers: int) -> str:
    return f"POST to one measure, {writers} writer{'s' * (writers > 1)}"


def hot_stream(place: Place, backend: str, runs: int, settings: LiveSettings) -> list[Figure]:
    """Appends/s and latency (p50, p99, max) of 1 and of 16 writers on one stream."""
    measured: dict[int, list[_Run]] = {writers: [] for writers in WRITERS}
    with scratch(place, backend, "hot") as config, serving(config) as served:
        for run in range(runs):
            for writers in WRITERS:
                measured[writers].append(_hot_run(served, writers, settings, f"r{run}w{writers}"))
    figures = []
    note = f"{settings.hot_appends} requests per run, one rate change each, no If-Match"
    for writers in WRITERS:
        results = measured[writers]
        name = rate_name(writers)
        reference = None if writers == 1 else f"{backend}:{rate_name(1)}"
        figures.append(
            Figure(HOT, name, backend, EVENTS_PER_SECOND, [r.rate for r in results],
                   reference=reference, note=note + ("; ratio to 1 writer" if reference else ""),
                   details={"requests": [r.requests for r in results]})
        )  # fmt: skip
        for label, values in (
            ("p50", [r.p50 for r in results]),
            ("p99", [r.p99 for r in results]),
            ("max", [r.max for r in results]),
        ):
            figures.append(Figure(HOT, f"{name} {label}", backend, MILLISECONDS, values, note=note))
    return figures


class _Run:
    """One run: requests done, their rate, and their latencies in milliseconds."""

    def __init__(self, requests: int, elapsed: float, latencies: Sequence[float]) -> None:
        values = sorted(latencies)
        self.requests = requests
        self.rate = requests / elapsed
        self.p50 = percentile(values, 0.50)
        self.p99 = percentile(values, 0.99)
        self.max = values[-1]
        self.mean = statistics.fmean(values)


def _hot_run(served: Served, writers: int, settings: LiveSettings, run: str) -> _Run:
    """`settings.hot_appends` POSTs to one new measure, shared among `writers` threads."""
    key = f"bench-hot-{run}"
    with served.client() as setup:
        _expect(setup.post("/v1/measures", json=_imposed(key)), 201)
    per_writer = max(1, settings.hot_appends // writers)
    address = httpx.URL(served.url)
    headers = {"Authorization": f"Bearer {WRITER_KEY}", "Content-Type": "application/json"}
    path = f"/v1/measures/{key}/events"
    bodies = [
        [
            json.dumps(_rate_changed(f"{key}-{w}-{n}", n)).encode()
            for n in range(WARM_UP + per_writer)
        ]
        for w in range(writers)
    ]
    ready = threading.Barrier(writers + 1)
    latencies: list[list[float]] = [[] for _ in range(writers)]
    failures: list[BaseException] = []

    def write(number: int) -> None:
        connection = http.client.HTTPConnection(address.host, address.port, timeout=60)
        try:
            connection.connect()
            for body in bodies[number][:WARM_UP]:
                _post(connection, path, body, headers)
            ready.wait()
            own = latencies[number]
            for body in bodies[number][WARM_UP:]:
                started = time.perf_counter()
                _post(connection, path, body, headers)
                own.append((time.perf_counter() - started) * 1000)
        except BaseException as error:  # reported once the clock has stopped
            failures.append(error)
            with contextlib.suppress(threading.BrokenBarrierError):
                ready.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,), daemon=True) for w in range(writers)]
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
    return _Run(per_writer * writers, elapsed, [v for own in latencies for v in own])


def _post(
    connection: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]
) -> None:
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    answer = response.read()
    if response.status != 201:
        msg = f"POST {path} without If-Match: {response.status} {answer[:500]!r}"
        raise RuntimeError(msg)
