"""The interpreter's plain parts: its state, its control-flow exceptions, config rendering.

Kept out of `workflows.interpreter` and passed through the sandbox: the sandbox re-imports
the workflow module for every execution, and building these classes each time is not free.
Nothing here keeps global state or does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas import evaluate, templating
from schemas.execution import ExecutionStatus, ReceivedEvent
from schemas.flow import AbSplitNode, ConditionNode, HumanTaskNode, Node, SetNode, SplitNode
from schemas.limits import json_size
from schemas.steps import NATIVE_FIELDS
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
    vars: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
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


def cause(error: BaseException) -> str:
    """The innermost message of an activity or child-workflow failure."""
    while error.__cause__ is not None:
        error = error.__cause__
    return str(error) or type(error).__name__
