"""Routes that record events: create a measure or a negotiation, append to one.

Each route hands the validated body to the Ledger, which checks every rule and writes
all of a request's events in one transaction, or nothing. Optimistic concurrency with
`If-Match` (or `expected_version` in a batch); idempotent retries with `Idempotency-Key`
(see domain.idempotency); the new version comes back as the `ETag`, and the log position
the write reached as `X-Log-Position` (and `position`): a read given it as `min_position`
sees the write, in any process.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status
from starlette.concurrency import run_in_threadpool

from api.dependencies import (
    LOG_POSITION_HEADER,
    Claim,
    ExpectedVersion,
    LedgerDep,
    MeasureId,
    NegotiationId,
    Writer,
)
from api.exact_json import ExactJSONRoute
from api.models import (
    MeasureCreate,
    MeasureEventsCreate,
    NegotiationCreate,
    NegotiationEventsCreate,
    WrittenPublic,
    events_of,
)
from api.problems import documented
from domain.commands import Change, Written
from domain.errors import VersionConflict
from domain.idempotency import IdempotencyClaim
from domain.ledger import MEASURE, Ledger
from eventschema import check_recordable

router = APIRouter(prefix="/v1", tags=["writing"], route_class=ExactJSONRoute)

_WRITTEN_HEADERS: dict[str, Any] = {
    "ETag": {
        "description": 'The stream\'s version after the write: "3".',
        "schema": {"type": "string"},
    },
    LOG_POSITION_HEADER: {
        "description": "The log position the write reached: read with it as `min_position` "
        "to see the write.",
        "schema": {"type": "integer"},
    },
    "Idempotent-Replayed": {
        "description": "'true' when an Idempotency-Key showed the request was already "
        "done: this is the first response, and nothing was recorded again.",
        "schema": {"type": "string"},
    },
}
_CREATED = {
    201: {
        "description": "The stream was created (see Location).",
        "headers": {
            **_WRITTEN_HEADERS,
            "Location": {"description": "The new stream.", "schema": {"type": "string"}},
        },
    },
    **documented(400, 401, 403, 409, 413, 422),
}
_APPENDED = {
    201: {"description": "The events were recorded.", "headers": _WRITTEN_HEADERS},
    **documented(400, 401, 403, 404, 409, 413, 422, 503),
}


def _answer(response: Response, written: Written) -> WrittenPublic:
    response.headers["ETag"] = f'"{written.version}"'
    response.headers[LOG_POSITION_HEADER] = str(written.position)
    if written.created:
        plural = "measures" if written.kind == MEASURE else "negotiations"
        response.headers["Location"] = f"/v1/{plural}/{written.stream_id}"
    if written.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return WrittenPublic.of(written)


_NO_VERSION = -1
"""A version no stream is at: an append expecting it learns the stream's version."""


async def _two_versions(
    ledger: Ledger, stream_id: UUID, changes: list[Change], versions: tuple[int, int]
) -> VersionConflict:
    """The conflict of a write giving two different versions (If-Match and
    `expected_version`): the stream cannot be at both, so at least one is stale.

    Both are preconditions the document lets a client give, and OpenAPI cannot relate a
    header to a body field ("give one of them"), so the answer is the one a stale version
    gets (409 with the current version), naming a version the stream is not at. Nothing
    is recorded: the append asks for a version no stream has.
    """
    try:
        await run_in_threadpool(ledger.append_to_stream, stream_id, changes, _NO_VERSION)
    except VersionConflict as conflict:
        stale = next(v for v in versions if v != conflict.current_version)
        return VersionConflict(stream_id, stale, conflict.current_version)
    raise AssertionError(f"an append expecting version {_NO_VERSION} was recorded")


async def _create(
    ledger: Ledger,
    body: MeasureCreate | NegotiationCreate,
    claim: IdempotencyClaim | None,
    response: Response,
) -> WrittenPublic:
    check_recordable(body)
    written = await run_in_threadpool(ledger.create_stream, body.to_command(), claim=claim)
    return _answer(response, written)


async def _append(
    ledger: Ledger,
    stream_id: UUID,
    body: MeasureEventsCreate | NegotiationEventsCreate,
    if_match: int | None,
    claim: IdempotencyClaim | None,
    response: Response,
) -> WrittenPublic:
    """Check the whole body, then hand the store work to the thread pool."""
    events, in_body = events_of(body)
    check_recordable(body)
    changes = [event.to_change() for event in events]
    if in_body is not None and if_match is not None and in_body != if_match:
        raise await _two_versions(ledger, stream_id, changes, (in_body, if_match))
    expected = in_body if in_body is not None else if_match
    written = await run_in_threadpool(
        ledger.append_to_stream, stream_id, changes, expected, claim=claim
    )
    return _answer(response, written)


@router.post(
    "/measures", status_code=status.HTTP_201_CREATED, responses=_CREATED, summary="Create a measure"
)
async def create_measure(
    _: Writer,
    body: MeasureCreate,
    ledger: LedgerDep,
    claim: Claim,
    response: Response,
) -> WrittenPublic:
    """Create a tariff measure from its `imposed` event.

    With a `key`, the measure's id is derived from it (the same key always names the same
    measure, and creating it twice answers 409); without one, it gets a fresh UUID.
    """
    return await _create(ledger, body, claim, response)


@router.post(
    "/negotiations",
    status_code=status.HTTP_201_CREATED,
    responses=_CREATED,
    summary="Open a negotiation",
)
async def create_negotiation(
    _: Writer,
    body: NegotiationCreate,
    ledger: LedgerDep,
    claim: Claim,
    response: Response,
) -> WrittenPublic:
    """Open a negotiation from its `opened` event.

    With a `key`, the negotiation's id is derived from it (the same key always names the
    same negotiation, and opening it twice answers 409); without one, it gets a fresh UUID.
    """
    return await _create(ledger, body, claim, response)


@router.post(
    "/measures/{id}/events",
    status_code=status.HTTP_201_CREATED,
    responses=_APPENDED,
    summary="Append to a measure",
)
async def append_to_measure(
    _: Writer,
    measure_id: MeasureId,
    body: MeasureEventsCreate,
    ledger: LedgerDep,
    claim: Claim,
    if_match: ExpectedVersion,
    response: Response,
) -> WrittenPublic:
    """Append one event, or a batch (`{"events": [...], "expected_version": N}`), to a measure.

    The events are checked against the measure in order and recorded together or not at
    all. A broken rule answers 409 (a conflict with what is recorded) or 422 (a value the
    ledger refuses) naming the `rule`. Without `If-Match` or `expected_version` the
    events are still never lost or interleaved with another writer's, and never refused
    for a version: concurrent writes to one measure take turns, and one that cannot be
    made in time answers 503 `stream_busy` (nothing recorded; retry after Retry-After).
    """
    return await _append(ledger, measure_id, body, if_match, claim, response)


@router.post(
    "/negotiations/{id}/events",
    status_code=status.HTTP_201_CREATED,
    responses=_APPENDED,
    summary="Append to a negotiation",
)
async def append_to_negotiation(
    _: Writer,
    negotiation_id: NegotiationId,
    body: NegotiationEventsCreate,
    ledger: LedgerDep,
    claim: Claim,
    if_match: ExpectedVersion,
    response: Response,
) -> WrittenPublic:
    """Append one step, or a batch (`{"events": [...], "expected_version": N}`), to a
    negotiation.

    Each step is checked against the negotiation's state on its own day (no round after
    talks collapsed: 409 `invalid_transition`); all are recorded together or none.
    """
    return await _append(ledger, negotiation_id, body, if_match, claim, response)
