"""Routes that answer questions about any point in time, on the three axes.

Each takes `on` (the effective day), `known_at` (what had been announced by then) and
`recorded_at` (what this ledger held then), each a date or an instant with a zone,
defaulting to today/now; the answer says which point it is for and the log position
it stands on (also in the `X-Log-Position` header). Answers come from the read models
(projections.queries), never from a replay of the write side, and reading never
writes. `min_position` makes a read wait until the read models have reached that
position (a client's own write), or answer 503 with Retry-After.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.dependencies import (
    LOG_POSITION_HEADER,
    Country,
    HsCode,
    MeasureId,
    MinPosition,
    NegotiationId,
    PointQuery,
    QueriesDep,
    Reader,
    SecondPointQuery,
)
from api.models import (
    DiffPublic,
    DutyPublic,
    MeasurePublic,
    NegotiationPublic,
    SchedulePublic,
    SchemasPublic,
    TimelinePublic,
)
from api.problems import documented
from domain.errors import InvalidValue
from domain.ledger import MEASURE, NEGOTIATION
from eventschema import (
    MEASURE_EVENT_MODELS,
    NEGOTIATION_EVENT_MODELS,
    EventIn,
    dataset_json_schema,
)
from projections import diff as differ
from projections.answers import AsOf
from projections.queries import Queries
from projections.timepoint import TimePoint
from storage.eventlog import full_type

router = APIRouter(prefix="/v1", tags=["reading"])

_POSITION_HEADER = {
    LOG_POSITION_HEADER: {
        "description": "The log position the answer reflects.",
        "schema": {"type": "integer"},
    }
}
_ANSWERED: dict[int | str, dict[str, Any]] = {
    200: {"description": "The answer.", "headers": _POSITION_HEADER}
}
_READ = {**_ANSWERED, **documented(401, 403, 422, 503)}
_READ_STREAM = {**_ANSWERED, **documented(401, 403, 404, 422, 503)}
_VERSIONED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The state at the point asked for.",
        "headers": {
            **_POSITION_HEADER,
            "ETag": {
                "description": "The stream's version at the answer's log position (\"3\"), "
                "for If-Match on a later write; absent when `recorded_at` asks about the past.",
                "schema": {"type": "string"},
            },
        },
    },
    **documented(401, 403, 404, 422, 503),
}

Order = Annotated[
    Literal["effective", "announced", "recorded"],
    Query(description="Which date orders the events."),
]


def _reflects(response: Response, *points: AsOf) -> None:
    response.headers[LOG_POSITION_HEADER] = str(max(point.position for point in points))


@router.get("/duty", responses=_READ, summary="The duty on a product")
async def duty(
    _: Reader,
    queries: QueriesDep,
    point: PointQuery,
    importer: Annotated[Country, Query(description="The importing country.", examples=["US"])],
    origin: Annotated[Country, Query(description="The country of origin.", examples=["CN"])],
    hs: Annotated[
        HsCode, Query(description="The HS/HTS code, dots allowed.", examples=["9503.00.0090"])
    ],
    response: Response,
    min_position: MinPosition = 0,
) -> DutyPublic:
    """The additional duty (not MFN) `importer` charged on `hs` from `origin` on day `on`,
    as known at `known_at` and as this ledger recorded it at `recorded_at`.

    Lists each measure applied with its rate and the events that established it, and each
    measure that did not apply with the reason (excluded, displaced, suspended until...).
    """
    answer = await run_in_threadpool(
        queries.duty_on, importer, origin, hs, at=point, min_position=min_position
    )
    _reflects(response, answer.as_of)
    return DutyPublic.model_validate(answer)


@router.get("/measures/{id}", responses=_VERSIONED, summary="A measure's state")
async def measure(
    _: Reader,
    queries: QueriesDep,
    measure_id: MeasureId,
    point: PointQuery,
    response: Response,
    min_position: MinPosition = 0,
) -> MeasurePublic:
    """A measure on day `on`: whether it is in force, its rates, scope, exclusions,
    suspensions and precedence rules, each with the event behind it."""

    def read() -> MeasurePublic:
        state = queries.measure_state(measure_id, at=point, min_position=min_position)
        _stream_state_headers(response, queries, measure_id, state.as_of, point)
        return MeasurePublic.model_validate(state)

    return await run_in_threadpool(read)


@router.get("/negotiations/{id}", responses=_VERSIONED, summary="A negotiation's state")
async def negotiation(
    _: Reader,
    queries: QueriesDep,
    negotiation_id: NegotiationId,
    point: PointQuery,
    response: Response,
    min_position: MinPosition = 0,
) -> NegotiationPublic:
    """A negotiation on day `on`: its status and the step that set it, open preconditions,
    the last round, proposals on the table, agreements, truce and threats."""

    def read() -> NegotiationPublic:
        answer = queries.negotiation_state(negotiation_id, at=point, min_position=min_position)
        _stream_state_headers(response, queries, negotiation_id, answer.as_of, point)
        return NegotiationPublic.of(answer)

    return await run_in_threadpool(read)


def _stream_state_headers(
    response: Response, queries: Queries, stream_id: UUID, answered: AsOf, point: TimePoint
) -> None:
    """The ETag of a stream's state, unless `recorded_at` asks about the past, and the
    log position the state reflects."""
    # The version at the answer's position, read from the same read models: a write
    # based on it conflicts (409) if the stream has moved on since.
    version = queries.stream_version(stream_id, answered)
    if version and point.recorded_at is None:
        response.headers["ETag"] = f'"{version}"'
    _reflects(response, answered)


@router.get("/schedules/{imposer}", responses=_READ, summary="An imposer's schedule")
async def schedule(
    _: Reader,
    queries: QueriesDep,
    imposer: Annotated[
        Country, Path(description="The imposing country.", max_length=10, examples=["US"])
    ],
    origin: Annotated[Country, Query(description="The country of origin.", examples=["CN"])],
    point: PointQuery,
    response: Response,
    min_position: MinPosition = 0,
) -> SchedulePublic:
    """Every measure of `imposer` that targets `origin` (or every origin), and its state
    on day `on`; measures in force first."""
    answer = await run_in_threadpool(
        queries.schedule, imposer, origin, at=point, min_position=min_position
    )
    _reflects(response, answer.as_of)
    return SchedulePublic.model_validate(answer)


@router.get("/measures/{id}/timeline", responses=_READ_STREAM, summary="A measure's timeline")
def measure_timeline(
    _: Reader,
    queries: QueriesDep,
    measure_id: MeasureId,
    point: PointQuery,
    response: Response,
    order: Order = "effective",
    min_position: MinPosition = 0,
) -> TimelinePublic:
    """The measure's events with their three dates (effective, announced, recorded),
    ordered by one of them; `known_at` and `recorded_at` limit what is shown."""
    return _timeline(queries, response, MEASURE, measure_id, order, point, min_position)


@router.get(
    "/negotiations/{id}/timeline", responses=_READ_STREAM, summary="A negotiation's timeline"
)
def negotiation_timeline(
    _: Reader,
    queries: QueriesDep,
    negotiation_id: NegotiationId,
    point: PointQuery,
    response: Response,
    order: Order = "effective",
    min_position: MinPosition = 0,
) -> TimelinePublic:
    """The negotiation's steps with their three dates, ordered by one of them."""
    return _timeline(queries, response, NEGOTIATION, negotiation_id, order, point, min_position)


def _timeline(
    queries: Queries,
    response: Response,
    kind: str,
    stream_id: UUID,
    order: Order,
    point: TimePoint,
    min_position: int,
) -> TimelinePublic:
    timeline = queries.timeline(
        stream_id, kind=kind, order=order, at=point, min_position=min_position
    )
    _reflects(response, timeline.as_of)
    return TimelinePublic.of(stream_id, kind, order, list(timeline.entries))


_DIFF_TEXT = """

(A diff has one subject, named by the route: a duty question, a measure or a
negotiation.) Compares the answer at two points, (`on`, `known_at`, `recorded_at`) and (`on2`,
`known_at2`, `recorded_at2`), each second value defaulting to the first. Each change
shows old -> new, the events that caused it and those no longer relied on."""


_SUBJECT_PARAMETERS = frozenset({"importer", "origin", "hs", "measure", "negotiation"})


@router.get(
    "/diff",
    deprecated=True,
    status_code=308,
    response_class=RedirectResponse,
    responses={
        308: {"description": "The same question at its own route (`Location`)."},
        **documented(401, 403, 422),
    },
    summary="Moved: a diff's route now names its subject",
)
def diff_moved(
    _: Reader,
    request: Request,
    importer: Annotated[str | None, Query(description="Duty question: importer.")] = None,
    origin: Annotated[str | None, Query(description="Duty question: origin.")] = None,
    hs: Annotated[str | None, Query(description="Duty question: HS code.")] = None,
    measure: Annotated[str | None, Query(description="A measure (key or UUID).")] = None,
    negotiation: Annotated[str | None, Query(description="A negotiation (key or UUID).")] = None,
) -> RedirectResponse:
    """Deprecated: the single diff route of earlier releases, kept so that clients written
    for it keep working. It answers 308 Permanent Redirect to `/v1/diff/duty`,
    `/v1/measures/{id}/diff` or `/v1/negotiations/{id}/diff` with the same time-axis
    parameters (a client following redirects gets the same answer as before), with
    `Deprecation` and a `Link` to the successor (RFC 9745, RFC 8288)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in _SUBJECT_PARAMETERS]
    if importer and origin and hs:
        path = "/v1/diff/duty"
        kept = [("importer", importer), ("origin", origin), ("hs", hs), *kept]
    elif measure:
        path = f"/v1/measures/{quote(measure, safe='')}/diff"
    elif negotiation:
        path = f"/v1/negotiations/{quote(negotiation, safe='')}/diff"
    else:
        raise InvalidValue(
            "diff", "give importer, origin and hs; or measure; or negotiation (one subject)"
        )
    location = f"{path}?{urlencode(kept)}" if kept else path
    return RedirectResponse(
        location,
        status_code=308,
        headers={"Deprecation": "true", "Link": f'<{path}>; rel="successor-version"'},
    )


def _diff_answer(response: Response, result: differ.Diff) -> DiffPublic:
    _reflects(response, result.before, result.after)
    return DiffPublic.model_validate(result)


@router.get(
    "/diff/duty",
    responses=_READ,
    summary="What changed in a duty between two points",
    description="The duty `importer` charged on `hs` from `origin`." + _DIFF_TEXT,
)
def duty_diff(
    _: Reader,
    queries: QueriesDep,
    first: PointQuery,
    second: SecondPointQuery,
    response: Response,
    importer: Annotated[Country, Query(description="The importing country.", examples=["US"])],
    origin: Annotated[Country, Query(description="The country of origin.", examples=["CN"])],
    hs: Annotated[
        HsCode, Query(description="The HS/HTS code, dots allowed.", examples=["9503.00.0090"])
    ],
    min_position: MinPosition = 0,
) -> DiffPublic:
    after = second.or_else(first)
    result = differ.duty_diff(queries, importer, origin, hs, first, after, min_position)
    return _diff_answer(response, result)


@router.get(
    "/measures/{id}/diff",
    responses=_READ_STREAM,
    summary="What changed in a measure between two points",
    description="A measure's state: status, rates, scope, suspensions, rules." + _DIFF_TEXT,
)
def measure_diff(
    _: Reader,
    queries: QueriesDep,
    measure_id: MeasureId,
    first: PointQuery,
    second: SecondPointQuery,
    response: Response,
    min_position: MinPosition = 0,
) -> DiffPublic:
    after = second.or_else(first)
    result = differ.measure_diff(queries, str(measure_id), first, after, min_position)
    return _diff_answer(response, result)


@router.get(
    "/negotiations/{id}/diff",
    responses=_READ_STREAM,
    summary="What changed in a negotiation between two points",
    description="A negotiation's state: status, preconditions, proposals, truce." + _DIFF_TEXT,
)
def negotiation_diff(
    _: Reader,
    queries: QueriesDep,
    negotiation_id: NegotiationId,
    first: PointQuery,
    second: SecondPointQuery,
    response: Response,
    min_position: MinPosition = 0,
) -> DiffPublic:
    after = second.or_else(first)
    result = differ.negotiation_diff(queries, str(negotiation_id), first, after, min_position)
    return _diff_answer(response, result)


def _schema(model: type[EventIn]) -> dict[str, Any]:
    return model.model_json_schema()


@router.get("/schemas", responses=documented(401, 403), summary="The event schemas")
def schemas(_: Reader) -> SchemasPublic:
    """The JSON Schema of every event type a client can send, by CloudEvents type, and of
    one line of a dataset file. A read like any other: public only when reads are."""
    events = {full_type(MEASURE, _type(model)): _schema(model) for model in MEASURE_EVENT_MODELS}
    events |= {
        full_type(NEGOTIATION, _type(model)): _schema(model) for model in NEGOTIATION_EVENT_MODELS
    }
    return SchemasPublic(events=events, dataset_line=dataset_json_schema())


def _type(model: type[EventIn]) -> str:
    annotation = model.model_fields["type"].annotation
    return str(getattr(annotation, "__args__", ("",))[0])
