"""Request bodies are bounded: a body over `FLOWDECK_MAX_BODY_BYTES` is refused with 413.

A pure ASGI middleware, so it sees a body before anything reads it: a `Content-Length` over
the limit is answered at once, without reading a byte of the body; a chunked body is counted
as it streams in, and the read that crosses the limit fails, so the rest is never read.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response


class BodyTooLargeError(HTTPException):
    """Raised by the body's read that crosses the limit: the app's error handlers answer it
    (FastAPI passes an HTTPException from reading a body on as it is)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _message(limit), headers={"Connection": "close"})


def _message(limit: int) -> str:
    return f"the request body is larger than {limit} bytes (FLOWDECK_MAX_BODY_BYTES)"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimitMiddleware:
    """413 in the JSON error shape (`too_large`) for a request body over `max_bytes`.

    The answer carries `Connection: close`: the unread rest of the body must not be taken for
    the next request on the connection.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        over = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    over = True
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                if over and message["status"] != 413:
                    # The app caught the failed read and answered otherwise: the body was
                    # still too large, and that is the answer.
                    raise BodyTooLargeError(self.max_bytes)
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLargeError:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, _message(self.max_bytes), code="too_large", headers={"Connection": "close"}
        )
        await response(scope, receive, send)
