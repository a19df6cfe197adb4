"""ASGI middleware that must see a request before FastAPI does, or an error after it.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, which buffers and re-wraps
streaming responses (the SSE stream must go out as it is written).
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import PROBLEM_JSON, Problem, new_error_id, unexpected_detail

logger = logging.getLogger(__name__)


async def send_problem(
    send: Send,
    status: HTTPStatus,
    detail: str,
    instance: str,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
    error_id: str | None = None,
) -> None:
    body = Problem(
        type="about:blank",
        title=status.phrase,
        status=status,
        detail=detail,
        instance=instance,
        error_id=error_id,
    ).model_dump(mode="json", exclude_none=True)
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(data)).encode()),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class BodySizeLimit:
    """Answer 413 to a request body over `max_bytes`, without reading all of it.

    A declared Content-Length over the limit is refused before a byte of the body is
    read; a chunked body is read only up to the limit, then refused. The server closes
    the connection afterwards (the rest of the body is never consumed).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                await send_problem(
                    send, HTTPStatus.BAD_REQUEST, "Content-Length is not a number", scope["path"]
                )
                return
            if int(length) > self.max_bytes:
                await self._refuse(scope, send)
                return
            await self.app(scope, receive, send)
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_problem(
            send,
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the request body is larger than {self.max_bytes} bytes",
            scope["path"],
            [(b"connection", b"close")],
        )


class UnexpectedErrors:
    """Log an exception no handler took, once, and answer a generic 500 problem.

    (Starlette's own last-resort handler answers too, but then re-raises, so the server
    logs the same error a second time; and its answer is not problem+json.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            error_id = new_error_id()
            logger.exception(
                "unexpected error %s on %s %s", error_id, scope.get("method"), scope["path"]
            )
            if not started:
                await send_problem(
                    send,
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    unexpected_detail(error_id),
                    scope["path"],
                    error_id=error_id,
                )
