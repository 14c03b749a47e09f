"""Every error leaves the API as `{"error": {"code", "message", "details"}}`.

Bad input is a 4xx with the JSON path of each problem, never a 500.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.api_errors import ErrorResponse, request_error_details
from store.errors import ConflictError, InvalidInputError, NotFoundError

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


DESCRIPTIONS = {
    400: "the request could not be read",
    401: "no API key, or an unknown or revoked one",
    403: "the key may not do this (its role, or the operator's key is needed)",
    404: "no such resource in the key's tenant",
    409: "the change clashes with the resource's state or with existing data",
    413: "the request body is larger than FLOWDECK_MAX_BODY_BYTES",
    422: "invalid input: each problem with its JSON path",
    503: "Temporal or the database is unreachable; try again",
}

OpenAPIResponses = dict[int | str, dict[str, Any]]


def error_responses(*statuses: int) -> OpenAPIResponses:
    """OpenAPI `responses=` declaring these statuses with the error body as their schema."""
    return {s: {"model": ErrorResponse, "description": DESCRIPTIONS[s]} for s in statuses}


KEYED = error_responses(401, 403, 413, 422, 503)
"""What every route behind an API key may answer: no key or a wrong one, a body too large,
invalid input, the database (which every key is checked against) out of reach. Routers
declare it; routes add what they answer besides."""
NOT_FOUND = error_responses(404)
CONFLICT = error_responses(409)
UNAVAILABLE = error_responses(503)


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
    if exc.status_code == 400:
        # FastAPI's and Starlette's word for a body they could not read (not UTF-8, a broken
        # form): invalid input like any other, at the body's path.
        detail = {"path": "$", "code": "unreadable_body", "message": str(exc.detail)}
        return error_response(422, "the request body could not be read", details=[detail])
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


async def _database_unreachable(request: Request, exc: Exception) -> JSONResponse:
    """The database is down, restarting or dropped the connection (`store.db.is_unreachable`):
    try again, as for Temporal. A statement it refused for its content is not this (below)."""
    log.warning("database unreachable", path=request.url.path, error=str(exc).splitlines()[0])
    return error_response(
        503, "the database is unreachable; try again", headers={"Retry-After": "5"}
    )


async def _pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    """Every database connection stayed busy for the pool's whole timeout: the API is
    overloaded, not broken; the client may try again."""
    log.warning("database pool exhausted", path=request.url.path, error=str(exc).splitlines()[0])
    return error_response(
        503,
        "the API is busy (no database connection came free); try again",
        headers={"Retry-After": "5"},
    )


async def _bad_data(request: Request, exc: Exception) -> JSONResponse:
    # Reached when a value passes our models but not the database (a NUL byte in text,
    # an integer beyond the column's range): still the client's input.
    log.info("database refused a value", error=str(getattr(exc, "orig", exc)))
    return error_response(422, "a value is not acceptable to the database (too large or malformed)")


_DATABASE_MODULES = ("sqlalchemy.", "sqlmodel.", "psycopg.", "sqlite3.")


def _raised_by_the_database(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith(_DATABASE_MODULES):
            return True
        tb = tb.tb_next
    return False


async def _overflow(request: Request, exc: Exception) -> JSONResponse:
    """An integer the driver cannot pass (SQLite's are 64-bit): a value the database refuses.

    Every integer the API takes is bounded; this is the net for one that slipped through.
    An overflow anywhere else is our own error and stays a 500.
    """
    if not _raised_by_the_database(exc):
        raise exc
    return await _bad_data(request, exc)


async def _integrity(request: Request, exc: Exception) -> JSONResponse:
    log.info("constraint hit", error=str(getattr(exc, "orig", exc)))
    return error_response(409, "the change clashes with existing data")


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    # The traceback as plain text: a console renderer's rich one, with every frame's locals,
    # took seconds to draw on this event loop, and every request waited meanwhile.
    trace = "".join(traceback.format_exception(exc))
    log.error("unhandled error", path=request.url.path, error=repr(exc), traceback=trace)
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
    app.add_exception_handler(OverflowError, _overflow)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(OperationalError, _database_unreachable)
    app.add_exception_handler(InterfaceError, _database_unreachable)
    app.add_exception_handler(PoolTimeoutError, _pool_exhausted)
    app.add_exception_handler(Exception, _internal)
