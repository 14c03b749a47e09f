"""The domain's errors: what the store (and the services above it) refuse, and why.

The API turns each into its status (`api/errors.py`): NotFoundError 404, ConflictError 409,
InvalidInputError 422 with one detail per JSON path.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any


class NotFoundError(LookupError):
    """A resource that does not exist for this tenant (another tenant's looks the same)."""


class ConflictError(Exception):
    """The request is valid but clashes with the resource's current state."""


class InvalidInputError(ValueError):
    """Input that fails validation; `details` holds one problem per JSON path."""

    def __init__(
        self,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] = (),
        code: str = "invalid_input",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = [dict(d) for d in details]


def check_known(
    items: Sequence[str],
    known: Collection[str],
    *,
    path: str,
    code: str,
    problem: Callable[[str], str],
    message: str,
) -> None:
    """422 with one detail (at `path[i]`) per item that is not among `known`."""
    details = [
        {"path": f"{path}[{i}]", "code": code, "message": problem(item)}
        for i, item in enumerate(items)
        if item not in known
    ]
    if details:
        raise InvalidInputError(message, details=details)


class ConnectionNotFound(NotFoundError):
    """No connection of that name and integration in the tenant (`store.connections.resolve`)."""
