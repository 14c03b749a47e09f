"""Full validation of a flow document (SPEC §3), with a JSON path for every problem.

Errors reject the document; warnings are reported beside a valid one. Paths use the keys the
author wrote: `$.nodes[2].config.params.1`, `$.nodes[0].transitions.missed`, `$.start`.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.evaluate import regex_error
from schemas.flow import (
    AbSplitNode,
    FlowDocument,
    LoopNode,
    Node,
    ParallelNode,
    SplitNode,
    SubflowNode,
    WaitNode,
)
from schemas.steps import ACTION_TYPES, FAILURE_PORT, PAUSING_TYPES, STEP, VOICE_TYPES, ports_of
from schemas.templating import template_syntax_error

__all__ = [
    "DEFAULT_LIMITS",
    "PAUSING_TYPES",
    "FlowLimits",
    "Problem",
    "ValidationReport",
    "definition_size",
    "flow_json_schema",
    "validate_flow",
]

NODE_TYPES: tuple[str, ...] = tuple(STEP)

_NODE = TypeAdapter[Node](Node)
_CONDITION_MEMBERS = {"Comparison", "AllOf", "AnyOf", "NotOf"}
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


@dataclass(frozen=True)
class FlowLimits:
    """How big a flow may be (`FLOWDECK_MAX_NODES`, `FLOWDECK_MAX_DEFINITION_BYTES`).

    The definition travels inside every execution's workflow input (and again at each
    continue-as-new), where Temporal refuses payloads over 2 MB and gRPC messages over 4 MB.
    """

    max_nodes: int = 2000
    max_definition_bytes: int = 512 * 1024
    max_depth: int = 64
    """Objects and lists inside one another, from the document's top: a condition may nest
    some 30 `all`/`any` deep, a body as deep as any API needs; the checks and the renders that
    walk them never come near Python's recursion limit."""


DEFAULT_LIMITS = FlowLimits()
"""The settings' defaults (`FLOWDECK_MAX_NODES`, `FLOWDECK_MAX_DEFINITION_BYTES`)."""


def definition_size(raw: Any) -> int:
    """The definition's size in bytes as compact UTF-8 JSON, as it is stored and sent."""
    text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(text.encode("utf-8", "surrogatepass"))


class Problem(BaseModel):
    """One thing wrong with a document, at the JSON path where it is."""

    path: str
    code: str
    message: str
    severity: Literal["error", "warning"] = "error"


class ValidationReport(BaseModel):
    valid: bool
    errors: list[Problem]
    warnings: list[Problem]


def flow_json_schema() -> dict[str, Any]:
    """The flow document's JSON Schema, as published at `GET /api/schemas/flow`."""
    return FlowDocument.model_json_schema(by_alias=True)


def validate_flow(
    raw: Any, *, live_call: bool = False, limits: FlowLimits = DEFAULT_LIMITS
) -> tuple[ValidationReport, FlowDocument | None]:
    """Check `raw`; the parsed document comes back only when there is no error.

    `live_call`: the flow is started by a call, so voice steps have one (no warning).
    Every check costs time in proportion to the document's size; a document over `limits`
    is refused before any of them runs.
    """
    problems = _Problems()
    if _over_limits(raw, limits, problems):
        return _report(problems), None
    document: FlowDocument | None = None
    nodes: dict[int, Node] = {}
    try:
        document = FlowDocument.model_validate(raw)
        nodes = dict(enumerate(document.nodes))
    except ValidationError as exc:
        _convert(exc, raw, problems)
        nodes = _parse_good_nodes(raw, failed=problems.node_indexes())
    raw_nodes = _raw_nodes(raw)
    if raw_nodes is not None:
        _check_graph(raw, raw_nodes, nodes, problems, live_call=live_call)
        for index, raw_node in enumerate(raw_nodes):
            if isinstance(raw_node, Mapping):
                _check_strings(raw_node.get("config"), f"$.nodes[{index}].config", problems)
    report = _report(problems)
    return report, (document if report.valid else None)


def _report(problems: _Problems) -> ValidationReport:
    errors = [p for p in problems.items if p.severity == "error"]
    warnings = [p for p in problems.items if p.severity == "warning"]
    return ValidationReport(valid=not errors, errors=errors, warnings=warnings)


def _too_deep(raw: Any, limit: int) -> str | None:
    """The path of the first value nested deeper than `limit`, if any (no recursion)."""
    stack: list[tuple[Any, str, int]] = [(raw, "$", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, Mapping):
            items: Iterator[tuple[Any, Any]] = iter(value.items())
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        if depth >= limit:
            return path
        stack.extend((item, f"{path}{_key(key)}", depth + 1) for key, item in items)
    return None


def _over_limits(raw: Any, limits: FlowLimits, problems: _Problems) -> bool:
    deep = _too_deep(raw, limits.max_depth)
    if deep is not None:
        problems.error(
            deep, "too_deep", f"nested more than {limits.max_depth} objects or lists deep"
        )
        return True
    size = definition_size(raw)
    if size > limits.max_definition_bytes:
        problems.error(
            "$",
            "too_large",
            f"the definition is {size:,} bytes of JSON, over the limit of "
            f"{limits.max_definition_bytes:,} (FLOWDECK_MAX_DEFINITION_BYTES): it travels with "
            "every execution, and Temporal refuses inputs over 2 MB",
        )
        return True
    nodes = _raw_nodes(raw)
    if nodes is not None and len(nodes) > limits.max_nodes:
        problems.error(
            "$.nodes",
            "too_many_nodes",
            f"the flow has {len(nodes):,} nodes, over the limit of {limits.max_nodes:,} "
            "(FLOWDECK_MAX_NODES): split it into subflows",
        )
        return True
    return False


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def error(self, path: str, code: str, message: str) -> None:
        self.items.append(Problem(path=path, code=code, message=message, severity="error"))

    def warning(self, path: str, code: str, message: str) -> None:
        self.items.append(Problem(path=path, code=code, message=message, severity="warning"))

    def node_indexes(self) -> set[int]:
        found = set()
        for problem in self.items:
            match = re.match(r"^\$\.nodes\[(\d+)\]", problem.path)
            if match:
                found.add(int(match.group(1)))
        return found


def _key(name: Any) -> str:
    if isinstance(name, int):
        return f"[{name}]"
    text = str(name)
    return f".{text}" if _PLAIN_KEY.match(text) else f"[{text!r}]"


def _raw_nodes(raw: Any) -> list[Any] | None:
    nodes = raw.get("nodes") if isinstance(raw, Mapping) else None
    return nodes if isinstance(nodes, list) else None


# --- pydantic errors -> problems ----------------------------------------------------------


def _condition_member(value: Any) -> str:
    """Which condition model a raw condition means, judged by its keys."""
    if isinstance(value, Mapping):
        for key, member in (("all", "AllOf"), ("any", "AnyOf"), ("not", "NotOf")):
            if key in value:
                return member
    return "Comparison"


def _convert(exc: ValidationError, raw: Any, problems: _Problems) -> None:
    """Pydantic's errors as problems at JSON paths; a union's alternatives merged into one."""
    merged: dict[tuple[str, str], list[str]] = {}
    for error in exc.errors(include_url=False):
        path = _locate(error["loc"], raw)
        if path is None:
            continue  # an alternative of a condition the author did not mean
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path += ".type"
        code, message = _describe(error, path)
        messages = merged.setdefault((path, code), [])
        if message not in messages:
            messages.append(message)
    for (path, code), messages in merged.items():
        first, *others = messages
        # "Input should be a valid string or a valid list".
        rest = [m.removeprefix("Input should be ") for m in others]
        problems.error(path, code, " or ".join([first, *rest]))


def _locate(loc: tuple[Any, ...], raw: Any) -> str | None:
    """The JSON path of `loc` in `raw`; None for an alternative the author did not mean.

    Pydantic puts the names of union members (`say`, `Comparison`, `list[any]`) in `loc`; they
    are not keys of the document, so they are skipped.
    """
    path, current = "$", raw
    for position, segment in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(segment, int):
            path += _key(segment)
            ok = isinstance(current, list) and 0 <= segment < len(current)
            current = current[segment] if ok else None
        elif isinstance(current, Mapping) and (segment in current or last):
            path += _key(segment)
            current = current.get(segment)
        else:
            if segment in _CONDITION_MEMBERS and segment != _condition_member(current):
                return None
    return path


def _describe(error: Any, path: str) -> tuple[str, str]:
    kind: str = error["type"]
    message: str = error["msg"]
    name = path.rsplit(".", 1)[-1]
    if kind == "extra_forbidden":
        return "unknown_key", f"unknown key {name!r}"
    if kind == "missing":
        return "missing", f"missing required key {name!r}"
    if kind == "union_tag_invalid":
        return "unknown_node_type", (
            f"unknown node type {error['ctx']['tag']!r}; known types: {', '.join(NODE_TYPES)}"
        )
    if kind == "union_tag_not_found":
        return "missing", f"missing node `type`; known types: {', '.join(NODE_TYPES)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "invalid_type", "should be an object"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "invalid_type", message
    return "invalid_value", message.removeprefix("Value error, ")


def _parse_good_nodes(raw: Any, *, failed: set[int]) -> dict[int, Node]:
    nodes: dict[int, Node] = {}
    for index, raw_node in enumerate(_raw_nodes(raw) or []):
        if index in failed:
            continue
        try:
            nodes[index] = _NODE.validate_python(raw_node)
        except ValidationError:
            continue  # already reported through the whole document's errors
    return nodes


# --- graph rules --------------------------------------------------------------------------


def _check_graph(
    raw: Mapping[str, Any],
    raw_nodes: list[Any],
    nodes: dict[int, Node],
    problems: _Problems,
    *,
    live_call: bool,
) -> None:
    ids = _unique_ids(raw_nodes, problems)
    start = raw.get("start")
    if isinstance(start, str) and start and start not in ids:
        problems.error("$.start", "unknown_node", f"start {start!r} is not the id of any node")
    for index, node in nodes.items():
        _check_node(index, node, ids, problems, live_call=live_call)
    whole = len(nodes) == len(raw_nodes) == len(ids)
    if whole and isinstance(start, str) and start in ids:
        # Reachability and cycles need every node's edges: only judged on a sound document.
        by_id = {node.id: (index, node) for index, node in nodes.items()}
        _check_reachable(start, by_id, problems)
        _check_cycles(by_id, problems)


def _unique_ids(raw_nodes: list[Any], problems: _Problems) -> dict[str, int]:
    ids: dict[str, int] = {}
    for index, raw_node in enumerate(raw_nodes):
        node_id = raw_node.get("id") if isinstance(raw_node, Mapping) else None
        if not isinstance(node_id, str):
            continue
        if node_id in ids:
            problems.error(
                f"$.nodes[{index}].id",
                "duplicate_id",
                f"node id {node_id!r} is already used by $.nodes[{ids[node_id]}]",
            )
        else:
            ids[node_id] = index
    return ids


def _check_node(
    index: int, node: Node, ids: Mapping[str, int], problems: _Problems, *, live_call: bool
) -> None:
    at = f"$.nodes[{index}]"
    ports = ports_of(node)
    for port, target in node.transitions.items():
        path = f"{at}.transitions{_key(port)}"
        if port not in ports:
            known = ", ".join(ports) if ports else "none"
            problems.error(
                path, "unknown_port", f"a {node.type} step has no port {port!r} (ports: {known})"
            )
        if target not in ids:
            problems.error(path, "unknown_node", f"transition to {target!r}, which is no node")
    if isinstance(node, SplitNode):
        _check_ports(
            [case.port for case in node.config.cases], f"{at}.config.cases", problems, "else"
        )
    elif isinstance(node, AbSplitNode):
        _check_ports([v.port for v in node.config.variants], f"{at}.config.variants", problems)
    elif isinstance(node, ParallelNode):
        for k, branch in enumerate(node.config.branches):
            if branch not in ids:
                problems.error(
                    f"{at}.config.branches[{k}]", "unknown_node", f"branch {branch!r} is no node"
                )
    elif isinstance(node, SubflowNode) and not node.config.flow_id.strip():
        problems.error(f"{at}.config.flow_id", "missing", "subflow needs the `flow_id` to run")
    if node.type in VOICE_TYPES and not live_call:
        problems.warning(
            at,
            "voice_without_call",
            f"{node.type} step {node.id!r} is reachable with no live call unless the flow is "
            "started by a call; without one it fails at run time",
        )
    if _failure_unhandled(node):
        problems.warning(
            f"{at}.transitions",
            "unhandled_failure",
            f"{node.type} step {node.id!r} has no transition for a failure and "
            "continue_on_error is false: a failure ends the execution as failed",
        )


def _check_ports(ports: list[str], at: str, problems: _Problems, reserved: str = "") -> None:
    seen: set[str] = set()
    for k, port in enumerate(ports):
        if port == reserved:
            problems.error(
                f"{at}[{k}].port", "duplicate_port", f"{port!r} is the port when no case holds"
            )
        elif port in seen:
            problems.error(f"{at}[{k}].port", "duplicate_port", f"port {port!r} is used twice")
        seen.add(port)


def _failure_unhandled(node: Node) -> bool:
    if node.type not in ACTION_TYPES or node.continue_on_error:
        return False
    failure_ports = {"error", FAILURE_PORT.get(node.type, "error")}
    return not failure_ports & node.transitions.keys()


def _edges(node: Node) -> Iterator[tuple[str, str]]:
    """`(port, target)` of every way out of `node`, parallel branches included."""
    yield from node.transitions.items()
    if isinstance(node, ParallelNode):
        for branch in node.config.branches:
            yield "branch", branch


def _check_reachable(
    start: str, by_id: Mapping[str, tuple[int, Node]], problems: _Problems
) -> None:
    seen = {start}
    queue = deque([start])
    while queue:
        _, node = by_id[queue.popleft()]
        for _, target in _edges(node):
            if target in by_id and target not in seen:
                seen.add(target)
                queue.append(target)
    for node_id, (index, _) in by_id.items():
        if node_id not in seen:
            problems.error(
                f"$.nodes[{index}]",
                "unreachable",
                f"node {node_id!r} cannot be reached from start {start!r}",
            )


def _pauses(node: Node) -> bool:
    """Whether running `node` gives the workflow a rest: a timer, a signal, a reply.

    A `wait` with a literal duration that comes to nothing (0 in every unit) starts no timer:
    a cycle through it would spin in one workflow task. `until` and `until_open` count as
    pausing: their length is known only at run time.
    """
    if isinstance(node, WaitNode):
        return not node.config.is_instant()
    return node.type in PAUSING_TYPES


def _busy_successors(by_id: Mapping[str, tuple[int, Node]]) -> dict[str, list[str]]:
    """The graph with pausing steps and loop bodies taken out: what remains cannot pause."""
    busy = {node_id for node_id, (_, node) in by_id.items() if not _pauses(node)}
    return {
        node_id: [
            target
            for port, target in _edges(by_id[node_id][1])
            if target in busy and not (isinstance(by_id[node_id][1], LoopNode) and port == "body")
        ]
        for node_id in busy
    }


def _strong_components(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, without recursion: O(nodes + edges)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            current, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(graph[target])))
                elif target in on_stack:
                    low[current] = min(low[current], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[current])
            if low[current] == index[current]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == current:
                        break
                components.append(component)
    return components


def _shortest_cycle(graph: Mapping[str, list[str]], origin: str, within: set[str]) -> list[str]:
    """`origin → … → origin` by the fewest steps, searched inside its component only."""
    parents: dict[str, str] = {}
    queue = deque([origin])
    while queue and origin not in parents:
        current = queue.popleft()
        for target in graph[current]:
            if target in within and target not in parents:
                parents[target] = current
                queue.append(target)
    backwards = [origin]
    while (previous := parents[backwards[-1]]) != origin:
        backwards.append(previous)
    return [origin, *reversed(backwards[1:]), origin]


def _check_cycles(by_id: Mapping[str, tuple[int, Node]], problems: _Problems) -> None:
    """One problem per busy cycle (strongly connected component), at its first node."""
    graph = _busy_successors(by_id)
    found = []
    for component in _strong_components(graph):
        first = min(component, key=lambda n: by_id[n][0])
        if len(component) > 1 or first in graph[first]:
            found.append((by_id[first][0], first, set(component)))
    for position, node_id, members in sorted(found, key=lambda f: f[0]):
        path = _shortest_cycle(graph, node_id, members)
        if len(path) > 12:
            path = [*path[:10], "…", node_id]
        names = " → ".join(path)
        problems.error(
            f"$.nodes[{position}]",
            "unbounded_cycle",
            f"the cycle {names} passes through no {', '.join(sorted(PAUSING_TYPES))} step "
            "(a wait of no length does not count) and no loop body: it would run forever "
            "without pausing",
        )


# --- strings: templates and regexes -------------------------------------------------------


def _check_strings(value: Any, path: str, problems: _Problems) -> None:
    """Templates must parse (outside conditions, whose values are literal); regexes compile."""
    stack: list[tuple[Any, str, bool]] = [(value, path, False)]
    while stack:
        value, path, condition = stack.pop()
        if isinstance(value, Mapping):
            if condition and value.get("op") == "regex" and "var" in value:
                _check_regex(value.get("value"), f"{path}.value", problems)
            stack.extend(
                (item, f"{path}{_key(key)}", condition or key in ("when", "while"))
                for key, item in reversed(list(value.items()))
            )
        elif isinstance(value, list):
            stack.extend(
                (item, f"{path}[{k}]", condition) for k, item in reversed(list(enumerate(value)))
            )
        elif isinstance(value, str) and not condition:
            reason = template_syntax_error(value)
            if reason is not None:
                problems.error(path, "template_syntax", f"template does not parse: {reason}")


def _check_regex(pattern: Any, path: str, problems: _Problems) -> None:
    if not isinstance(pattern, str):
        problems.error(path, "invalid_regex", "a regex condition needs a string pattern")
        return
    reason = regex_error(pattern)
    if reason is not None:
        problems.error(
            path,
            "invalid_regex",
            f"regex cannot be used: {reason} (regexes run on RE2, in time linear in the text: "
            "no backreferences, lookarounds or (?x))",
        )
