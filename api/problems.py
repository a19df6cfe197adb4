"""Every error as RFC 9457 problem details (`application/problem+json`), from one table.

Domain errors carry a stable `rule`; the table below maps each kind to an HTTP status
(409 when the request conflicts with what is recorded, 422 when its values are wrong,
404 when the stream in the path does not exist, 503 with Retry-After when the stream was
too busy to take a write in time), and so does it for a read whose `min_position` the
read models did not reach in time (503, with Retry-After), and for a store that cannot be
reached (503 `store_unavailable`, with Retry-After). FastAPI's
own errors (404, 405, request validation) and unexpected exceptions get the same shape,
so a client parses one format. Nothing here ever puts a stack trace or an exception's
text from deep inside into a response: unexpected errors are logged server-side and
answered with a generic 500 whose `error_id` is also in the log line, for an operator to
find it.

A damaged record is named, never a bare 500: a stored event that does not decode answers
500 `undecodable_event` with its log position, stream and version (read on with
`after=<position>`), and a write to a stream with such an event or a missing version
answers 500 `stream_unreadable`. Both are 500 (the request is valid; the server's own
record is at fault) without Retry-After: unlike a store outage (503), asking again does
not help until an operator repairs the row, and unlike a conflict (409) there is nothing
the client could change in its request.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.field_errors import FieldError, validation_errors
from api.security import NotAuthenticated, NotPermitted
from domain.commands import BatchItemError
from domain.errors import (
    DomainError,
    DuplicateEventId,
    InvalidMeasureChange,
    InvalidTransition,
    InvalidValue,
    StreamAlreadyExists,
    StreamNotFound,
    StreamUnreadable,
    UnknownEventReference,
    UnknownEventType,
    VersionConflict,
    WrongStreamKind,
)
from domain.idempotency import IdempotencyKeyReused
from domain.stream_queue import StreamBusy
from domain.values import ECHO_LIMIT, shorten
from projections.progress import ReadModelBehind
from storage.backoff import is_transient, one_line
from storage.undecodable import UndecodableEvent

logger = logging.getLogger(__name__)


class NoSuchStream(DomainError):
    """A stream named outside the path (a filter) that no measure or negotiation has."""

    rule = "stream_not_found"


PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPES = "https://tradeledger.example/problems/"

DOMAIN_ERROR_STATUS: Sequence[tuple[type[DomainError | ReadModelBehind], HTTPStatus]] = (
    (ReadModelBehind, HTTPStatus.SERVICE_UNAVAILABLE),
    (StreamBusy, HTTPStatus.SERVICE_UNAVAILABLE),
    (VersionConflict, HTTPStatus.CONFLICT),
    (StreamAlreadyExists, HTTPStatus.CONFLICT),
    (DuplicateEventId, HTTPStatus.CONFLICT),
    (InvalidTransition, HTTPStatus.CONFLICT),
    (InvalidMeasureChange, HTTPStatus.CONFLICT),
    # The event it names may yet be recorded: the stream's state decides, not the body.
    (UnknownEventReference, HTTPStatus.CONFLICT),
    (StreamUnreadable, HTTPStatus.INTERNAL_SERVER_ERROR),
    (StreamNotFound, HTTPStatus.NOT_FOUND),
    (NoSuchStream, HTTPStatus.NOT_FOUND),
    (WrongStreamKind, HTTPStatus.NOT_FOUND),
    (UnknownEventType, HTTPStatus.UNPROCESSABLE_ENTITY),
    (InvalidValue, HTTPStatus.UNPROCESSABLE_ENTITY),
    (IdempotencyKeyReused, HTTPStatus.UNPROCESSABLE_ENTITY),
    (DomainError, HTTPStatus.UNPROCESSABLE_ENTITY),
)
"""The status of each kind of error the ledger raises: the first matching row wins."""

DETAIL_LIMIT = 300
"""The most characters of a problem's `detail` (and of each field error's message): a
1 MB key in a body must not come back as a 1 MB answer. Every piece of input a message
repeats is cut to ECHO_LIMIT (80) characters first (see domain.values.echo)."""

RETRY_AFTER_BEHIND = "1"
"""Seconds a reader should wait before asking again for a position not yet reached."""

RETRY_AFTER_BUSY = "1"
"""Seconds a writer should wait before sending again a write its stream was too busy for."""

RETRY_AFTER_STORE = "2"
"""Seconds a client should wait before trying again while the store is unreachable."""

STORE_UNAVAILABLE = "store_unavailable"
"""The problem of a request that the store could not serve because it cannot be reached
(down, restarting, or not answering within TRADELEDGER_STORE_TIMEOUT_SECONDS)."""


class Problem(BaseModel):
    """RFC 9457 problem details; `rule` names the broken rule of the ledger, if one was."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": f"{PROBLEM_TYPES}version-conflict",
                    "title": "Version conflict",
                    "status": 409,
                    "detail": "stream 3f1c... is at version 4, not 3",
                    "instance": "/v1/measures/us-cn-fentanyl/events",
                    "rule": "version_conflict",
                    "expected_version": 3,
                    "current_version": 4,
                }
            ]
        },
    )

    type: str = Field(description="A URI naming the kind of problem ('about:blank': see status).")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request.")
    instance: str = Field(description="The request path.")
    rule: str | None = Field(default=None, description="The ledger rule broken, if any.")
    errors: list[FieldError] | None = Field(
        default=None, description="Each invalid input, for validation problems."
    )
    current_version: int | None = Field(
        default=None, description="Version conflicts: the stream's version now."
    )
    expected_version: int | None = Field(
        default=None, description="Version conflicts: the version the request expected."
    )
    min_position: int | None = Field(
        default=None, description="Reads not served in time: the log position asked for."
    )
    position: int | None = Field(
        default=None,
        description="Reads not served in time: the position reached meanwhile. An "
        "undecodable event: its log position (read on with `after` set to it).",
    )
    stream_id: str | None = Field(
        default=None, description="A damaged record: the stream of the unreadable event."
    )
    version: int | None = Field(
        default=None,
        description="A damaged record: the version in the stream that does not decode or is "
        "missing.",
    )
    reason: str | None = Field(default=None, description="A damaged record: why, in short.")
    error_id: str | None = Field(
        default=None,
        description="Unexpected errors: the id under which the server logged this one.",
    )


def problem(
    status: int,
    detail: str,
    instance: str,
    *,
    rule: str | None = None,
    title: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    **members: Any,
) -> JSONResponse:
    """A problem+json response; `rule` gives the type URI and title, else the status does."""
    body = Problem(
        type=f"{PROBLEM_TYPES}{rule.replace('_', '-')}" if rule else "about:blank",
        title=title or (rule.replace("_", " ").capitalize() if rule else _phrase(status)),
        status=status,
        detail=shorten(detail, DETAIL_LIMIT),
        instance=instance,
        rule=rule,
        errors=[_capped(error) for error in errors] or None,
        **members,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_JSON,
    )


def _capped(error: FieldError) -> FieldError:
    """`error` with each part of its path cut to ECHO_LIMIT characters (a path names the
    body's own keys), and its message to DETAIL_LIMIT."""
    field = ".".join(shorten(part, ECHO_LIMIT) for part in error.field.split("."))
    return FieldError(field=field, message=shorten(error.message, DETAIL_LIMIT))


def status_of(error: DomainError | ReadModelBehind) -> HTTPStatus:
    return next(status for kind, status in DOMAIN_ERROR_STATUS if isinstance(error, kind))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# -- handlers ---------------------------------------------------------------------------


def domain_error_response(request: Request, error: DomainError) -> JSONResponse:
    """The problem for a broken rule; a batch item's error keeps its own rule and status."""
    cause = error.error if isinstance(error, BatchItemError) else error
    members: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(error, BatchItemError):
        members["index"] = error.index
    if isinstance(cause, StreamUnreadable):
        members.update(stream_id=str(cause.stream_id), version=cause.version, reason=cause.reason)
        if cause.position is not None:
            members["position"] = cause.position
    if isinstance(cause, VersionConflict):
        members["current_version"] = cause.current_version
        members["expected_version"] = cause.expected_version
        headers["ETag"] = f'"{cause.current_version}"'
    if isinstance(cause, StreamBusy):
        headers["Retry-After"] = RETRY_AFTER_BUSY
    errors: list[FieldError] = []
    if isinstance(cause, InvalidValue):
        field = _where(request, cause.field)
        if isinstance(error, BatchItemError):
            field = f"body.events.{error.index}.{cause.field}"
        errors.append(FieldError(field=field, message=cause.message.split(": ", 1)[-1]))
    return problem(
        status_of(cause),
        error.message,
        request.url.path,
        rule=cause.rule,
        errors=errors,
        headers=headers,
        **members,
    )


def _where(request: Request, name: str) -> str:
    """Where a value named by the domain came from: a path, query or header parameter."""
    if name in request.path_params:
        return f"path.{name}"
    if name in request.query_params:
        return f"query.{name}"
    if name.lower() in request.headers:
        return f"header.{name}"
    return name


async def _on_domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return domain_error_response(request, error)


async def _on_read_model_behind(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ReadModelBehind)
    return problem(
        status_of(error),
        error.message,
        request.url.path,
        rule="read_model_behind",
        headers={"Retry-After": RETRY_AFTER_BEHIND},
        min_position=error.asked,
        position=error.reached,
    )


async def _on_undecodable(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, UndecodableEvent)
    logger.error("%s (on %s %s)", error.message, request.method, request.url.path)
    return problem(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        f"{error.message}; the log goes on after it: read with after={error.position}",
        request.url.path,
        rule="undecodable_event",
        position=error.position,
        stream_id=error.stream_id,
        version=error.version,
        reason=error.reason,
    )


def store_unavailable(instance: str, detail: str | None = None) -> JSONResponse:
    """The 503 problem for a store that cannot be reached: try again after Retry-After."""
    return problem(
        HTTPStatus.SERVICE_UNAVAILABLE,
        detail or "the store cannot be reached (it is down or restarting); try again later",
        instance,
        rule=STORE_UNAVAILABLE,
        headers={"Retry-After": RETRY_AFTER_STORE},
    )


async def _on_store_error(request: Request, error: Exception) -> JSONResponse:
    """An unreachable store answers 503 `store_unavailable` and is logged in one line
    (an outage fails every request: the log bell and the follower warn of it once);
    any other error of the store is logged with its traceback."""
    if is_transient(error):
        logger.info(
            "store unavailable on %s %s: %s", request.method, request.url.path, one_line(error)
        )
        return store_unavailable(request.url.path)
    return await _on_other_store_error(request, error)


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    if is_transient(error):  # a driver's connection error that reached us unwrapped
        return await _on_store_error(request, error)
    return await _on_unexpected_error(request, error)


async def _on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = validation_errors(error.errors())
    summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:3])
    if len(errors) > 3:
        summary += f"; and {len(errors) - 3} more"
    return problem(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        summary or "the request is not valid",
        request.url.path,
        rule="invalid_request",
        title="Invalid request",
        errors=errors,
    )


async def _on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else _phrase(error.status_code)
    return problem(error.status_code, detail, request.url.path, headers=error.headers)


async def _on_not_authenticated(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NotAuthenticated)
    return problem(
        HTTPStatus.UNAUTHORIZED,
        error.detail,
        request.url.path,
        headers={"WWW-Authenticate": error.challenge},
    )


async def _on_not_permitted(request: Request, error: Exception) -> JSONResponse:
    return problem(HTTPStatus.FORBIDDEN, str(error), request.url.path)


def _logged(
    level: int, what: str, status: HTTPStatus, detail: str, **answer: Any
) -> Callable[[Request, Exception], Coroutine[Any, Any, JSONResponse]]:
    """A handler for errors whose text must not reach the client: it logs the error (as
    `what`, at `level`, with its traceback) and answers `status` with a fixed `detail`."""

    async def handler(request: Request, error: Exception) -> JSONResponse:
        logger.log(level, "%s on %s %s", what, request.method, request.url.path, exc_info=error)
        return problem(status, detail, request.url.path, **answer)

    return handler


# Date arithmetic on the first or last representable instant (an announced_at of
# 0001-01-01T00:00:00+14:00 has no UTC equivalent): the input, not the server, is wrong.
_on_overflow = _logged(
    logging.WARNING,
    "out-of-range value",
    HTTPStatus.UNPROCESSABLE_ENTITY,
    "a date or time is out of the supported range (years 1 to 9999, in UTC)",
    rule="invalid_value",
)
_on_other_store_error = _logged(
    logging.ERROR,
    "the store failed",
    HTTPStatus.SERVICE_UNAVAILABLE,
    "the store is unavailable; try again later",
    headers={"Retry-After": "5"},
)


def new_error_id() -> str:
    """A short id that a 500 answer and its log line share (never derived from the error)."""
    return uuid.uuid4().hex[:12]


def unexpected_detail(error_id: str) -> str:
    return f"an unexpected error occurred; it has been logged as error {error_id}"


async def _on_unexpected_error(request: Request, error: Exception) -> JSONResponse:
    error_id = new_error_id()
    logger.error(
        "unexpected error %s on %s %s",
        error_id,
        request.method,
        request.url.path,
        exc_info=error,
    )
    return problem(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        unexpected_detail(error_id),
        request.url.path,
        error_id=error_id,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of `app` with problem details."""
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(ReadModelBehind, _on_read_model_behind)
    app.add_exception_handler(UndecodableEvent, _on_undecodable)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(NotAuthenticated, _on_not_authenticated)
    app.add_exception_handler(NotPermitted, _on_not_permitted)
    app.add_exception_handler(PersistenceError, _on_store_error)
    app.add_exception_handler(OverflowError, _on_overflow)
    app.add_exception_handler(Exception, _on_unexpected)


# -- OpenAPI ----------------------------------------------------------------------------

_DESCRIPTIONS: Mapping[int, str] = {
    400: "The request cannot be parsed (a body that is not UTF-8 JSON text, a Content-Length "
    "that is not a number).",
    401: "No API key, or an unknown one (see WWW-Authenticate).",
    403: "The key's role may not do this (auditors never write).",
    404: "No stream with this id or key.",
    500: "The server's own record is damaged (`undecodable_event`, `stream_unreadable`: the "
    "position, stream and version are named), or an unexpected error (its `error_id` is in "
    "the server's log).",
    409: "The request conflicts with what is recorded (version, existing stream, a rule of "
    "the domain); nothing was written.",
    413: "The request body is over the configured limit.",
    422: "Invalid input (each field named in `errors`) or a value the ledger refuses; "
    "nothing was written.",
    503: "The read models did not reach `min_position` in time, the stream was too busy to "
    "take the write in time (rule `stream_busy`: nothing was recorded), or the store is "
    "unavailable; try again after Retry-After seconds.",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problems a route can answer (as problem+json)."""
    return {status: {"model": Problem, "description": _DESCRIPTIONS[status]} for status in statuses}
