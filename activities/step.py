"""What every step handler gets, how it fails, and how it is found.

A handler is `async def handler(ctx: StepContext) -> ActionOutput`, decorated with
`@handles("<step type>")`; it raises `step_error(...)` for an expected failure, and says
whether a retry could help. Importing `activities` imports every module of the package, so
each handler is in `HANDLERS` without a list of them anywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from structlog.typing import FilteringBoundLogger
from temporalio.exceptions import ApplicationError

from activities.fetch import SHARED, Fetcher
from schemas.execution import ActionInput, ActionOutput
from schemas.settings import Settings
from schemas.steps import ACTIVITY_TYPES
from store.models import OutboxMessage

# Error types the workflow and the timeline see (ApplicationError.type).
INVALID_CONFIG = "InvalidConfig"
NOT_IMPLEMENTED = "NotImplementedYet"
EXECUTION_NOT_FOUND = "ExecutionNotFound"


@dataclass(frozen=True, kw_only=True)
class StepContext:
    """One action step being performed, with the clients it may use."""

    data: ActionInput
    engine: Engine
    settings: Settings
    http: httpx.AsyncClient
    log: FilteringBoundLogger
    deferred: list[OutboxMessage] = field(default_factory=list)
    """Sandbox messages, written with the step's own record in one transaction."""
    fetcher: Fetcher = SHARED
    """The client of guarded requests (`activities.net.guarded_request`)."""


StepHandler = Callable[[StepContext], Awaitable[ActionOutput]]

HandlerT = TypeVar("HandlerT", bound=StepHandler)
ConfigT = TypeVar("ConfigT", bound=BaseModel)

_handlers: dict[str, StepHandler] = {}
HANDLERS: Mapping[str, StepHandler] = _handlers
"""Step type -> the function that performs it, as each handler module registers it."""


def handles(step_type: str) -> Callable[[HandlerT], HandlerT]:
    """Register the decorated function as what `perform_action` does for `step_type`.

    Only a type `schemas.steps` declares as an activity, and only once: a typo or a second
    handler stops the worker at its start, not an execution at run time."""
    if step_type not in ACTIVITY_TYPES:
        raise ValueError(f"{step_type!r} is not declared as an activity step (schemas.steps)")

    def register(handler: HandlerT) -> HandlerT:
        if step_type in _handlers:
            raise ValueError(f"{step_type!r} already has a handler: {_handlers[step_type]!r}")
        _handlers[step_type] = handler
        return handler

    return register


def step_error(
    message: str, *, type: str, retryable: bool, details: dict[str, Any] | None = None
) -> ApplicationError:
    """An ApplicationError the workflow's retry policy understands."""
    extra = (details,) if details else ()
    return ApplicationError(message, *extra, type=type, non_retryable=not retryable)


def parse_config(model: type[ConfigT], ctx: StepContext) -> ConfigT:
    """The step's rendered config as its model; invalid config cannot be fixed by a retry."""
    try:
        return model.model_validate(ctx.data.config)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}"
            for err in exc.errors()
        )
        raise step_error(
            f"invalid {ctx.data.node_type} config: {problems}", type=INVALID_CONFIG, retryable=False
        ) from None


def not_implemented(subject: str, *, verb: str = "is") -> ApplicationError:
    """The honest answer of a step or provider that does not exist yet."""
    return step_error(
        f"{subject} {verb} not implemented yet (issue 3)", type=NOT_IMPLEMENTED, retryable=False
    )
