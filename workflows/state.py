"""The interpreter's plain parts: its state, its control-flow exceptions, config rendering.

Kept out of `workflows.interpreter` and passed through the sandbox: the sandbox re-imports
the workflow module for every execution, and building these classes each time is not free.
Nothing here keeps global state or does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas import evaluate, hours, templating
from schemas.execution import ExecutionStatus, ReceivedEvent
from schemas.flow import (
    AbSplitNode,
    ConditionNode,
    HumanTaskConfig,
    HumanTaskNode,
    LoopConfig,
    Node,
    SetNode,
    SplitNode,
    WaitConfig,
)
from schemas.limits import json_size
from schemas.steps import CONTACT_STEPS, NATIVE_FIELDS, step_of
from workflows.contact_rules import is_dnc, reaches_contact
from workflows.routing import choose_variant


class Finish(Exception):
    """An `end` step (or a failure nobody routes) finishes the whole execution."""

    def __init__(self, status: ExecutionStatus, reason: str | None = None) -> None:
        super().__init__(reason or status)
        self.status = status
        self.reason = reason


class StepFailed(Exception):
    """A step failed and has no port to leave by: its branch fails."""

    def __init__(self, node_id: str, error: str) -> None:
        super().__init__(f"step {node_id} failed: {error}")
        self.node_id = node_id
        self.error = error


class LeaveBy(Exception):
    """A step failed and leaves by `port` (its `error` transition, its own failure port, or
    where `continue_on_error` sends it): the walk goes on from there."""

    def __init__(self, port: str) -> None:
        super().__init__(port)
        self.port = port


@dataclass(frozen=True)
class Scope:
    """Where a walk is: nesting depth (0 = top level) and the innermost loop."""

    depth: int = 0
    loop: dict[str, Any] | None = None

    def inner(self, loop: dict[str, Any] | None = None) -> Scope:
        return Scope(depth=self.depth + 1, loop=loop if loop is not None else self.loop)


@dataclass
class PendingTask:
    node: HumanTaskNode
    seq: int
    data: dict[str, Any] | None = None
    completed_by: str | None = None


@dataclass
class State:
    """What the flow has so far: its variables, its steps' results, how often each node was
    reached, the events received, a loop's place (handed over by continue-as-new)."""

    vars: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, Any] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)
    events: list[ReceivedEvent] = field(default_factory=list)
    loop_index: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    """The JSON size of each variable and step result (`vars.x`, `steps.y`), measured as it
    is written, so the data budget costs the new value's size, not the whole state's."""

    def measure(self) -> None:
        """Measure every variable and step result (at start, and after continue-as-new)."""
        self.sizes = {f"vars.{k}": json_size(v) for k, v in self.vars.items()}
        self.sizes.update({f"steps.{k}": json_size(v) for k, v in self.steps.items()})

    def size(self) -> int:
        return sum(self.sizes.values())


def decide(
    node: Node, context: dict[str, Any], *, variables: dict[str, Any], execution_id: str, visit: int
) -> tuple[str, dict[str, Any]]:
    """A pure step's port and result; `set` writes into `variables`.

    The interpreter and the dry run (`workflows.dryrun`) both decide with this.
    """
    if isinstance(node, SetNode):
        assigned = {k: templating.render_value(v, context) for k, v in node.config.assign.items()}
        variables.update(assigned)
        return "next", {"assigned": assigned}
    if isinstance(node, ConditionNode):
        holds = evaluate.evaluate(node.config.when, context)
        return ("true" if holds else "false"), {"result": holds}
    if isinstance(node, SplitNode):
        port = evaluate.choose_case(node.config.cases, context)
        return port, {"case": port}
    if isinstance(node, AbSplitNode):
        variant = choose_variant(
            node.config, execution_id=execution_id, node_id=node.id, visit=visit
        )
        return variant, {"variant": variant}
    raise ValueError(f"step type {node.type!r} cannot run here")


def render_config(node: Node, context: dict[str, Any]) -> dict[str, Any]:
    raw = node.config.model_dump(by_alias=True, exclude_none=True)
    native = NATIVE_FIELDS.get(node.type, frozenset())
    return {
        key: templating.render_value(value, context, native=key in native)
        for key, value in raw.items()
    }


def save_target(node: Node) -> tuple[str, str] | None:
    """The variable an action step's `save_as` sets, and the result's key it takes (the
    step's declaration names it: `saves`), or None when the step saves nothing."""
    key = step_of(node).saves
    name = getattr(node.config, "save_as", None)
    if key is None or not name:
        return None
    return str(name), key


def saved_var(node: Node, result: dict[str, Any]) -> tuple[str, Any] | None:
    """The variable an action step's `save_as` sets, and its value, or None."""
    target = save_target(node)
    return (target[0], result.get(target[1])) if target is not None else None


def cause(error: BaseException) -> str:
    """The innermost message of an activity or child-workflow failure."""
    while error.__cause__ is not None:
        error = error.__cause__
    return str(error) or type(error).__name__


# --- rules the interpreter and the dry run share ------------------------------------------


def dnc_stops(node: Node, config: dict[str, Any], contact: dict[str, Any]) -> bool:
    """A Do-Not-Call tag stops a step that reaches a person, when it is addressed to the
    contact (a sales notification to someone else still goes out)."""
    return node.type in CONTACT_STEPS and is_dnc(contact) and reaches_contact(config, contact)


def wait_target(
    config: WaitConfig,
    *,
    now: datetime,
    context: dict[str, Any],
    business_hours: hours.BusinessHours | None,
) -> datetime:
    """When a `wait` ends: after its duration or at `until` (a zone-less time is UTC), then,
    with `until_open`, at the next business-hours opening from there (no hours: no more)."""
    if config.until is not None:
        text = templating.render(config.until, context)
        try:
            target = datetime.fromisoformat(text.strip())
        except ValueError:
            raise ValueError(f"`until` is not an ISO date-time: {text!r}") from None
        if target.tzinfo is None:
            target = target.replace(tzinfo=now.tzinfo)
    else:
        target = now + timedelta(seconds=config.duration_s())
    if config.until_open and business_hours is not None:
        return hours.next_opening(business_hours, max(target, now))
    return target


def loop_items(config: LoopConfig, context: dict[str, Any]) -> list[Any] | None:
    """The list a loop iterates (a range for `count`, stopped at `max_iterations`), or None
    for a `while` loop."""
    if config.for_each is not None:
        items = templating.render_value(config.for_each, context)
        if not isinstance(items, list):
            raise ValueError(f"for_each must give a list, not {type(items).__name__}")
        return items
    if config.count is not None:
        count = int(templating.render_value(config.count, context))
        return list(range(min(count, config.max_iterations)))  # a count of 10**12 too
    return None


def task_fields(config: HumanTaskConfig, context: dict[str, Any]) -> dict[str, Any]:
    """A human task's assignee, title and description, rendered."""
    return dict(
        templating.render_value(
            {
                "assignee": config.assignee,
                "title": config.title,
                "description": config.description,
            },
            context,
        )
    )
