"""Every dependency a route may declare, as an `Annotated[..., Depends(...)]` alias.

Routes name what they need (`ledger: LedgerDep`, `point: PointQuery`, `_: Writer`)
and never reach into `app.state`, a recorder or SQL themselves.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, Path, Query, Request
from pydantic import TypeAdapter, ValidationError

from api.security import Principal, require_read, require_write
from api.settings import Settings
from domain.errors import InvalidValue, UnknownEventType
from domain.idempotency import IdempotencyClaim, check_key
from domain.ledger import MEASURE, NEGOTIATION, Ledger, stream_id_for_key
from eventschema import StreamRef
from projections.queries import Queries
from projections.timepoint import TimePoint
from storage.bell import LogBell
from storage.eventlog import EventLog, LogFilter, parse_event_types
from tradeledger.bootstrap import Services

# -- composition ------------------------------------------------------------------------
#
# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in
# its thread pool, one hand-off per dependency per request (six for an append, costing
# more than the append itself); coroutines run on the event loop at once. Those that
# read the store (log_filter) stay plain functions, so they never block the loop.


def _app_state(name: str) -> Callable[[Request], Coroutine[Any, Any, Any]]:
    """A dependency giving what create_app keeps as `app.state.<name>` (the alias that
    declares it says its type)."""

    async def dependency(request: Request) -> Any:
        return getattr(request.app.state, name)

    return dependency


ServicesDep = Annotated[Services, Depends(_app_state("services"))]
SettingsDep = Annotated[Settings, Depends(_app_state("settings"))]
EventLogDep = Annotated[EventLog, Depends(_app_state("event_log"))]
LogBellDep = Annotated[LogBell, Depends(_app_state("log_bell"))]


async def get_ledger(services: ServicesDep) -> Ledger:
    return services.ledger


async def get_queries(services: ServicesDep) -> Queries:
    return services.queries


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
QueriesDep = Annotated[Queries, Depends(get_queries)]

# -- who is asking ----------------------------------------------------------------------

Reader = Annotated[Principal, Depends(require_read)]
"""Any role; anonymous callers too when reads are public."""

Writer = Annotated[Principal, Depends(require_write)]
"""Writers and admins."""

# -- streams named in the path ----------------------------------------------------------

_STREAM_REF: TypeAdapter[str] = TypeAdapter(StreamRef)

StreamRefPath = Annotated[
    str,
    Path(
        alias="id",
        description="The stream: its UUID, or its key (case-insensitive).",
        examples=["us-cn-fentanyl"],
        min_length=1,
        max_length=100,
    ),
]


def stream_id_of(kind: str, ref: str, field: str = "id") -> UUID:
    """The id of the stream of `kind` that `ref` names: its UUID, or its key."""
    try:
        normalised = _STREAM_REF.validate_python(ref)
    except ValidationError:
        raise InvalidValue(
            field, f"{ref!r} is neither a UUID nor a key (letters, digits, '.', '_', '-')"
        ) from None
    try:
        return UUID(normalised)
    except ValueError:
        return stream_id_for_key(kind, normalised)


async def measure_id(ref: StreamRefPath) -> UUID:
    return stream_id_of(MEASURE, ref)


async def negotiation_id(ref: StreamRefPath) -> UUID:
    return stream_id_of(NEGOTIATION, ref)


MeasureId = Annotated[UUID, Depends(measure_id)]
NegotiationId = Annotated[UUID, Depends(negotiation_id)]

# -- the three time axes, and the position to read at -----------------------------------

_POINT_TEXT = (
    "A date (YYYY-MM-DD) or an instant with a zone (2025-04-10T12:00:00Z); "
    "a time without a zone is refused."
)


async def point(
    on: Annotated[
        str | None, Query(description="The effective day (default today). " + _POINT_TEXT)
    ] = None,
    known_at: Annotated[
        str | None,
        Query(
            description="What had been announced by then (a date means the end of that day; "
            "default now). " + _POINT_TEXT
        ),
    ] = None,
    recorded_at: Annotated[
        str | None,
        Query(description="What this ledger held then (default now). " + _POINT_TEXT),
    ] = None,
) -> TimePoint:
    return TimePoint.parse(on=on, known_at=known_at, recorded_at=recorded_at)


async def second_point(
    on2: Annotated[str | None, Query(description="The second point's `on` (default `on`).")] = None,
    known_at2: Annotated[
        str | None, Query(description="The second point's `known_at` (default `known_at`).")
    ] = None,
    recorded_at2: Annotated[
        str | None, Query(description="The second point's `recorded_at` (default `recorded_at`).")
    ] = None,
) -> TimePoint:
    return TimePoint.parse(on=on2, known_at=known_at2, recorded_at=recorded_at2, suffix="2")


PointQuery = Annotated[TimePoint, Depends(point)]
SecondPointQuery = Annotated[TimePoint, Depends(second_point)]

LOG_POSITION_HEADER = "X-Log-Position"
"""The log position a write reached, or the one a read's answer reflects."""

MinPosition = Annotated[
    int,
    Query(
        ge=0,
        le=2**62,
        description="Answer only once the read models have reached this log position (the "
        "`position` a write answered, to read that write): the request waits for it, and "
        "answers 503 with Retry-After if it is not reached in time.",
    ),
]

# -- optimistic concurrency and idempotency ---------------------------------------------

_ETAG = re.compile(r'\s*"(\d{1,18})"\s*')


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The stream version the write was decided on, as an entity tag: "3". '
            "A stale version answers 409 with the current one.",
            examples=['"3"'],
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.fullmatch(if_match)
    if match is None:
        raise InvalidValue("If-Match", 'give the stream version as an entity tag, e.g. "3"')
    return int(match.group(1))


ExpectedVersion = Annotated[int | None, Depends(expected_version)]


async def idempotency_claim(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Makes the write safe to retry: a retry with the same key and the "
            "same request returns the first response and records nothing. The same key with "
            "a different request answers 422. 1 to 255 visible ASCII characters.",
            examples=["3f0c2b0e-2d6a-4c1e-9a55-7d8d2b7c9e10"],
        ),
    ] = None,
) -> IdempotencyClaim | None:
    """The request's claim on its key: the key and a digest of method, path, If-Match, body."""
    if key is None:
        return None
    check_key(key)
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.headers.get("if-match", "")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\n")
    digest.update(await request.body())
    return IdempotencyClaim(key, digest.hexdigest())


Claim = Annotated[IdempotencyClaim | None, Depends(idempotency_claim)]

# -- the event log ----------------------------------------------------------------------


def log_filter(
    log: EventLogDep,
    event_type: Annotated[
        list[str] | None,
        Query(
            alias="type",
            description="Only these event types (repeat the parameter for several): "
            "'tradeledger.measure.rate_changed', 'measure.rate_changed' or 'rate_changed' "
            "(either kind).",
        ),
    ] = None,
    stream: Annotated[
        str | None,
        Query(
            description="Only this stream: its UUID, or the key of a measure or negotiation.",
            max_length=100,
        ),
    ] = None,
) -> LogFilter:
    try:
        event_types = parse_event_types(event_type or ())
    except UnknownEventType as error:
        raise InvalidValue("type", error.message) from None
    return LogFilter(
        event_types=event_types,
        stream_id=log.resolve_stream(stream) if stream is not None else None,
    )


LogFilterQuery = Annotated[LogFilter, Depends(log_filter)]
