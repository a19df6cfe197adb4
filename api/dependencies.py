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
from pydantic import TypeAdapter, ValidationError, WithJsonSchema

from api.problems import NoSuchStream
from api.security import Principal, require_read, require_write
from api.settings import Settings
from domain.errors import InvalidValue, UnknownEventType
from domain.idempotency import MAX_KEY_LENGTH, IdempotencyClaim, check_key
from domain.ledger import MEASURE, NEGOTIATION, Ledger, stream_id_for_key
from domain.values import ISO_3166_ALPHA_2
from eventschema import StreamRef, measure_event_types, negotiation_event_types
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

# -- what each parameter accepts, as the document says it ------------------------------
#
# A parameter's schema says exactly what the server accepts, so that a client (or a tool
# generating requests from the document) never sends a value it is told is valid and
# gets a 422: a pattern, a format or an enum each. An optional parameter is documented
# as its type, not as "its type or null" (a query parameter is given or left out, and
# an empty `on=` is not a date). The server stays lenient where the document is exact:
# a country code in lower case, an HS code with spaces around it.

_STREAM_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
"""A stream's key, or its UUID (whose canonical form is a key too), as `StreamRef` takes it."""

StreamRefText = Annotated[str, WithJsonSchema({"type": "string", "pattern": _STREAM_REF_PATTERN})]
OptionalStreamRef = Annotated[
    str | None, WithJsonSchema({"type": "string", "pattern": _STREAM_REF_PATTERN})
]
Country = Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(ISO_3166_ALPHA_2)})]
"""An ISO 3166 alpha-2 code (the server also takes it in lower case)."""
_HS_PATTERN = r"^[0-9](?:[. ]*[0-9]){1,11}[. ]*$"
"""2 to 12 digits, with dots (or spaces) anywhere after the first: what `hs_digits` takes."""
HsCode = Annotated[str, WithJsonSchema({"type": "string", "pattern": _HS_PATTERN})]
PointText = Annotated[
    str | None,
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}
    ),
]
"""A date, or an instant (RFC 3339); one without a zone is refused."""

# -- who is asking ----------------------------------------------------------------------

Reader = Annotated[Principal, Depends(require_read)]
"""Any role; anonymous callers too when reads are public."""

Writer = Annotated[Principal, Depends(require_write)]
"""Writers and admins."""

# -- streams named in the path ----------------------------------------------------------

_STREAM_REF: TypeAdapter[str] = TypeAdapter(StreamRef)

StreamRefPath = Annotated[
    StreamRefText,
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
        PointText, Query(description="The effective day (default today). " + _POINT_TEXT)
    ] = None,
    known_at: Annotated[
        PointText,
        Query(
            description="What had been announced by then (a date means the end of that day; "
            "default now). " + _POINT_TEXT
        ),
    ] = None,
    recorded_at: Annotated[
        PointText,
        Query(description="What this ledger held then (default now). " + _POINT_TEXT),
    ] = None,
) -> TimePoint:
    return TimePoint.parse(on=on, known_at=known_at, recorded_at=recorded_at)


async def second_point(
    on2: Annotated[PointText, Query(description="The second point's `on` (default `on`).")] = None,
    known_at2: Annotated[
        PointText, Query(description="The second point's `known_at` (default `known_at`).")
    ] = None,
    recorded_at2: Annotated[
        PointText, Query(description="The second point's `recorded_at` (default `recorded_at`).")
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
        "`position` a write answered, to read that write; or one still to come, to wait "
        "for the next write): the request waits for it, and answers 503 with Retry-After "
        "if it is not reached in time.",
    ),
]

# -- optimistic concurrency and idempotency ---------------------------------------------

_ETAG = re.compile(r'\s*"(\d{1,18})"\s*')

IF_MATCH_SCHEMA = {
    "anyOf": [
        {"type": "string", "const": "*"},
        {"type": "string", "pattern": r'^"[0-9]{1,18}"$'},
    ],
    "examples": ['"3"'],
}
"""`*`, or one strong entity tag holding a version (RFC 9110: a bare `3` is no entity tag).

`*` is its own branch, not an alternative inside the pattern: schemathesis's coverage
phase makes header values only of letters and digits, so for a pattern every match of
which needs another character (`*` or `"`) it had no valid value at all, and then sent
its first invalid one (the number 0, a bare `0` on the wire) in cases it called valid.
With `*` a constant it has one."""


async def expected_version(
    if_match: Annotated[
        Annotated[str | None, WithJsonSchema(IF_MATCH_SCHEMA)],
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
        Annotated[
            str | None,
            WithJsonSchema({"type": "string", "pattern": f"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"}),
        ],
        Header(
            alias="Idempotency-Key",
            description="Makes the write safe to retry. Choose a new, unique key for each new "
            "request (a random UUID, say), and send the same key only to retry that same "
            "request: the retry returns the first response and records nothing. A key "
            "already used for a different request (another body, path or If-Match) answers "
            "422, so no fixed value is ever a valid example. 1 to 255 visible ASCII "
            "characters.",
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


_EVENT_TYPE_NAMES = sorted(
    name
    for kind, types in ((MEASURE, measure_event_types()), (NEGOTIATION, negotiation_event_types()))
    for event_type in types
    for name in (f"tradeledger.{kind}.{event_type}", f"{kind}.{event_type}", event_type)
)
"""Every name `type` takes: full, with its kind, or alone (matching either kind)."""


def log_filter(
    log: EventLogDep,
    event_type: Annotated[
        Annotated[
            list[str] | None,
            WithJsonSchema(
                {"type": "array", "items": {"type": "string", "enum": _EVENT_TYPE_NAMES}}
            ),
        ],
        Query(
            alias="type",
            description="Only these event types (repeat the parameter for several): "
            "'tradeledger.measure.rate_changed', 'measure.rate_changed' or 'rate_changed' "
            "(either kind).",
        ),
    ] = None,
    stream: Annotated[
        OptionalStreamRef,
        Query(
            description="Only this stream: its UUID, or the key of a measure or negotiation "
            "(404 if none has it).",
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
        stream_id=_filtered_stream(log, stream) if stream is not None else None,
    )


def _filtered_stream(log: EventLog, ref: str) -> UUID:
    """The stream a filter names; a well-formed reference to no stream is a 404, as it is
    in a path (a malformed one, or a key both a measure and a negotiation have, a 422)."""
    stream_id_of(MEASURE, ref, "stream")  # well-formed, or 422
    try:
        return log.resolve_stream(ref)
    except InvalidValue as error:
        if error.message.startswith("stream: no "):
            raise NoSuchStream(error.message.removeprefix("stream: ")) from None
        raise


LogFilterQuery = Annotated[LogFilter, Depends(log_filter)]
