"""The API's error body: `{"error": {"code": "...", "message": "...", "details": [...]}}`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from schemas.validation import Problem, ValidationReport

__all__ = [
    "ErrorBody",
    "ErrorDetail",
    "ErrorResponse",
    "error_response",
    "invalid_flow_response",
    "json_path",
    "request_error_details",
]


class ErrorDetail(BaseModel):
    """One problem with the request, at a JSON path (`$.definition.nodes[2].type`)."""

    path: str | None = None
    code: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(
    *, code: str, message: str, details: Iterable[ErrorDetail] = ()
) -> ErrorResponse:
    return ErrorResponse(error=ErrorBody(code=code, message=message, details=list(details)))


def invalid_flow_response(report: ValidationReport, *, prefix: str = "$") -> ErrorResponse:
    """The 422 body for a flow document that does not validate.

    `prefix` re-roots the problems' paths where the document sits in the request
    (`$.definition`).
    """
    details = [_detail(problem, prefix) for problem in report.errors]
    count = len(details)
    return error_response(
        code="invalid_flow",
        message=f"the flow document has {count} problem{'s' if count != 1 else ''}",
        details=details,
    )


def _detail(problem: Problem, prefix: str) -> ErrorDetail:
    path = prefix + problem.path.removeprefix("$") if prefix != "$" else problem.path
    return ErrorDetail(path=path, code=problem.code, message=problem.message)


def json_path(loc: Sequence[Any]) -> str:
    """`("definition", "nodes", 2, "type")` → `$.definition.nodes[2].type`."""
    path = "$"
    for segment in loc:
        path += f"[{segment}]" if isinstance(segment, int) else f".{segment}"
    return path


_LOCATIONS = {"body": "", "query": ".query", "path": ".path", "header": ".header"}


def request_error_details(errors: Iterable[Any]) -> list[ErrorDetail]:
    """FastAPI's `RequestValidationError.errors()` as details with JSON paths.

    A body error `("body", "name")` is at `$.name`; query, path and header parameters are at
    `$.query.limit`, `$.path.flow_id`, `$.header.authorization`.
    """
    details = []
    for error in errors:
        loc = list(error.get("loc", ()))
        prefix = _LOCATIONS.get(str(loc[0])) if loc else None
        if prefix is not None:
            loc = loc[1:]
        path = "$" + (prefix or "") + json_path(loc).removeprefix("$")
        kind = str(error.get("type", "invalid"))
        code = {"missing": "missing", "extra_forbidden": "unknown_key"}.get(kind, "invalid_value")
        details.append(ErrorDetail(path=path, code=code, message=str(error.get("msg", kind))))
    return details
