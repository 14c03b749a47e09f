"""Every error leaves the API as `{"error": {"code", "message", "details"}}`.

Bad input is a 4xx with the JSON path of each problem, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.api_errors import request_error_details
from store.flows import ConflictError, InvalidInputError, NotFoundError

log = structlog.get_logger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    503: "unavailable",
}


class ServiceUnavailableError(Exception):
    """A service we depend on (Temporal) cannot be reached; the request may be retried."""


class ForbiddenError(Exception):
    """The key may not act on this resource (found in the tenant, but not its to touch)."""


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "code": code or CODES.get(status, "error"),
            "message": message,
            "details": [dict(d) for d in details],
        }
    }
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        # A JSON syntax error's location is a character offset, not a path: it is the body.
        {**e, "loc": ("body",), "msg": f"invalid JSON: {e.get('ctx', {}).get('error', e['msg'])}"}
        if e.get("type") == "json_invalid"
        else e
        for e in exc.errors()
    ]
    details = [d.model_dump() for d in request_error_details(errors)]
    return error_response(422, "the request is invalid", details=details)


async def _invalid_input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInputError)
    return error_response(422, exc.message, code=exc.code, details=exc.details)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return error_response(404, str(exc))


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return error_response(409, str(exc))


async def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    return error_response(403, str(exc))


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    return error_response(503, str(exc), headers={"Retry-After": "5"})


async def _bad_data(request: Request, exc: Exception) -> JSONResponse:
    # Reached when a value passes our models but not the database (a NUL byte in text,
    # an integer beyond the column's range): still the client's input.
    log.info("database refused a value", error=str(getattr(exc, "orig", exc)))
    return error_response(422, "a value is not acceptable to the database (too large or malformed)")


async def _integrity(request: Request, exc: Exception) -> JSONResponse:
    log.info("constraint hit", error=str(getattr(exc, "orig", exc)))
    return error_response(409, "the change clashes with existing data")


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path)
    return error_response(500, "internal error", code="internal_error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidInputError, _invalid_input)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(ConflictError, _conflict)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(ServiceUnavailableError, _unavailable)
    app.add_exception_handler(DataError, _bad_data)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(Exception, _internal)
