"""Test mode: the path a contact would take through a flow, every action simulated.

A pure walk over the flow document with the interpreter's own decisions (conditions, A/B
variants, failure ports, business hours, template rendering) and a simulated clock. It does
no I/O and starts nothing: the caller hands in the stored templates the flow names and turns
the message counts into a cost.

Simulated outcomes: `ai_call` follows `outcomes["call"]` (default `answered`);
`send_and_wait` follows `reply` with `outcomes["reply"]` as the reply text, or `timeout` when
that is `"timeout"`; `http`, `crm_update` and `subflow` succeed with an empty result; the AI
steps call nothing: `ai_generate` gives no output, `ai_classify` answers the label that
`outcomes[<node id>]` names (else its first), with confidence 1;
`wait_for` and `human_task` receive empty data. `outcomes[<node id>] = <port>` overrides any
step. Loops stop at `max_iterations`, and the whole walk at `STEP_CAP` steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas import evaluate, hours, templating
from schemas.ai_prompts import simulated_result
from schemas.flow import (
    AbSplitNode,
    AiCallNode,
    AiClassifyNode,
    AiGenerateNode,
    ConditionNode,
    EmailNode,
    EndNode,
    FlowDocument,
    HttpNode,
    HumanTaskNode,
    LoopNode,
    Node,
    ParallelNode,
    SendAndWaitNode,
    SetNode,
    SplitNode,
    SubflowNode,
    TagNode,
    WaitForNode,
    WaitNode,
)
from schemas.steps import FAILURE_PORT, SUCCESS_PORT, VOICE_TYPES, ports_of, step_of
from schemas.triggers import DNC_REASON, is_dnc
from workflows.routing import failure_port
from workflows.state import (
    decide,
    dnc_stops,
    loop_items,
    render_config,
    saved_var,
    task_fields,
    wait_target,
)

STEP_CAP = 500
DRY_RUN_ID = "dry-run"
CONNECTED_CALL_PORTS = frozenset({"answered", "voicemail"})
CALL_MINUTES = 1
"""Minutes billed per connected call in the estimate (a call's length is not known)."""


@dataclass
class Usage:
    """What the run would send: messages per channel and call minutes."""

    sms: int = 0
    whatsapp: int = 0
    email: int = 0
    voice_minutes: int = 0


@dataclass
class DryRun:
    steps: list[dict[str, Any]] = field(default_factory=list)
    skips: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    ends: str = "completed"
    reason: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)


class _End(Exception):
    def __init__(self, status: str, reason: str | None = None) -> None:
        super().__init__(reason or status)
        self.status = status
        self.reason = reason


@dataclass
class _Walker:
    document: FlowDocument
    contact: dict[str, Any]
    trigger: dict[str, Any]
    outcomes: Mapping[str, str]
    now: datetime
    business_hours: hours.BusinessHours | None
    stored_templates: Mapping[tuple[str, str], Mapping[str, str | None]]
    execution: dict[str, Any]
    run: DryRun = field(default_factory=DryRun)
    steps: dict[str, Any] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)

    def context(self, loop: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "contact": self.contact,
            "trigger": self.trigger,
            "vars": self.run.vars,
            "steps": self.steps,
            "call": {},
            "loop": loop or {},
            "execution": self.execution,
        }

    def walk(self, node_id: str | None, loop: dict[str, Any] | None = None) -> None:
        while node_id is not None:
            if len(self.run.steps) >= STEP_CAP:
                raise _End("incomplete", f"the dry run stopped after {STEP_CAP} steps (a cycle?)")
            node = self.nodes[node_id]
            self.visits[node_id] = self.visits.get(node_id, 0) + 1
            port = self.step(node, loop)
            node_id = node.transitions.get(port) if port else None

    def record(self, node: Node, **fields: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {"node_id": node.id, "type": node.type, "port": None, **fields}
        self.run.steps.append(entry)
        return entry

    def override(self, node: Node) -> str | None:
        port = self.outcomes.get(node.id)
        return port if port is not None and port in ports_of(node) else None

    def step(self, node: Node, loop: dict[str, Any] | None) -> str | None:
        if node.type in VOICE_TYPES:
            return self.failed(self.record(node), node, "this step needs a live call")
        if isinstance(node, EndNode):
            self.record(node, port=None)
            if node.config.status == "failed":
                raise _End("failed", node.config.reason)
            raise _End("completed", node.config.reason)
        if isinstance(node, WaitNode):
            return self.wait(node)
        if isinstance(node, LoopNode):
            return self.loop(node, loop)
        if isinstance(node, ParallelNode):
            return self.parallel(node, loop)
        if isinstance(node, SetNode | ConditionNode | SplitNode | AbSplitNode):
            return self.pure(node, loop)
        return self.action(node, loop)

    # --- pure steps ----------------------------------------------------------------------

    def pure(self, node: Node, loop: dict[str, Any] | None) -> str | None:
        entry = self.record(node)
        context = self.context(loop)
        try:
            port, result = decide(
                node,
                context,
                variables=self.run.vars,
                execution_id=DRY_RUN_ID,
                visit=self.visits[node.id],
            )
        except (templating.TemplateRenderError, ValueError, TypeError) as exc:
            entry["error"] = str(exc)
            raise _End("failed", f"step {node.id} failed: {exc}") from None
        forced = self.override(node)
        if forced is not None:
            port, result = forced, {**result, "forced": True}
        self.steps[node.id] = result
        entry.update(port=port, result=result)
        return port

    # --- actions -------------------------------------------------------------------------

    def action(self, node: Node, loop: dict[str, Any] | None) -> str | None:
        entry = self.record(node, simulated=True)
        try:
            rendered = self.render(node, loop)
        except templating.TemplateRenderError as exc:
            entry["error"] = str(exc)
            if exc.variable is not None:
                entry["missing_variable"] = exc.variable
            return self.failed(entry, node, str(exc))
        entry["rendered"] = rendered
        if calls := would_call(node, rendered):
            entry["calls"] = calls
        if dnc_stops(node, rendered, self.contact):
            entry["skipped"] = DNC_REASON
            self.run.skips.append({"node_id": node.id, "reason": DNC_REASON})
            raise _End("skipped", DNC_REASON)
        port, result = self.simulate(node, rendered)
        forced = self.override(node)
        if forced is not None:
            port = forced
            failing = forced in (FAILURE_PORT.get(node.type), "error")
            result = {"error": "simulated failure"} if failing else result
        self.count(node, port)
        self.steps[node.id] = result
        if (saved := saved_var(node, result)) and step_of(node).saves in result:
            # A connector's simulated result has nothing to save: the variable the dry run
            # was given stands in for what the vendor would answer.
            self.run.vars[saved[0]] = saved[1]
        entry.update(port=port, result=result)
        return port

    def render(self, node: Node, loop: dict[str, Any] | None) -> dict[str, Any]:
        context = self.context(loop)
        if isinstance(node, HumanTaskNode):
            return task_fields(node.config, context)
        if isinstance(node, SubflowNode):
            return {
                "flow_id": node.config.flow_id,
                "input": templating.render_value(node.config.input, context),
            }
        if isinstance(node, WaitForNode):
            return {"event": node.config.event}
        rendered = render_config(node, context)
        if isinstance(node, EmailNode) and node.config.template:
            stored = self.stored_templates.get(("email", node.config.template))
            if stored is None:
                raise templating.TemplateRenderError(
                    f"no email template named {node.config.template!r}",
                    template=node.config.template,
                )
            for key in ("subject", "body", "html"):
                source = stored.get(key)
                if source and key not in rendered:
                    rendered[key] = templating.render(source, context, autoescape=key == "html")
        return rendered

    def simulate(self, node: Node, rendered: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if isinstance(node, AiCallNode):
            port = self.outcomes.get("call", "answered")
            if port not in ports_of(node):
                port = "answered"
            return port, {"call_sid": "simulated", "status": port}
        if isinstance(node, SendAndWaitNode):
            reply = self.outcomes.get("reply")
            if reply == "timeout":
                self.now += timedelta(seconds=node.config.timeout_s)
                return "timeout", {"timed_out": True}
            return "reply", {"reply": reply if reply is not None else "", "body": reply or ""}
        if isinstance(node, WaitForNode):
            return "received", {"event": node.config.event, "data": {}}
        if isinstance(node, HumanTaskNode):
            return "completed", {"data": {}, "completed_by": None}
        if isinstance(node, TagNode):
            tags = [t for t in self.contact.get("tags") or [] if t not in node.config.remove]
            tags += [t for t in node.config.add if t not in tags]
            self.contact["tags"] = tags
            return "next", {"tags": tags}
        if isinstance(node, HttpNode):
            return "success", {"status": None, "body": None}
        if isinstance(node, AiGenerateNode | AiClassifyNode):
            return "success", simulated_result(node.type, rendered, self.outcomes.get(node.id))
        if isinstance(node, SubflowNode):
            return "success", {"status": "completed", "vars": {}}
        success = SUCCESS_PORT.get(node.type)
        if success is None:
            raise ValueError(f"step type {node.type!r} cannot be simulated")
        return success, {"to": rendered.get("to")} if "to" in rendered else {}

    def count(self, node: Node, port: str) -> None:
        """What the step would be charged (its `cost` in the step registry), if it went out."""
        cost = step_of(node).cost
        if cost is None or port == FAILURE_PORT.get(node.type) or port == "error":
            return
        if isinstance(node, SendAndWaitNode):
            cost = node.config.channel
        usage = self.run.usage
        if cost == "sms":
            usage.sms += 1
        elif cost == "whatsapp":
            usage.whatsapp += 1
        elif cost == "email":
            usage.email += 1
        elif cost == "call" and port in CONNECTED_CALL_PORTS:
            usage.voice_minutes += CALL_MINUTES

    def failed(self, entry: dict[str, Any], node: Node, error: str) -> str | None:
        port = failure_port(node)
        self.steps[node.id] = {"error": error}
        entry.update(port=port, error=error)
        if port is None:
            raise _End("failed", f"step {node.id} failed: {error}")
        return port

    # --- waits and structure -------------------------------------------------------------

    def wait(self, node: WaitNode) -> str:
        entry = self.record(node)
        try:
            until = wait_target(
                node.config,
                now=self.now,
                context=self.context(None),
                business_hours=self.business_hours,
            )
        except (templating.TemplateRenderError, ValueError) as exc:
            entry["error"] = str(exc)
            raise _End("failed", f"step {node.id} failed: {exc}") from None
        until = max(until, self.now)
        self.now = until
        entry.update(port="next", waits_until=until.isoformat())
        return "next"

    def goes_on(self, node: LoopNode, entry: dict[str, Any], loop: dict[str, Any] | None) -> bool:
        """A `while` loop's condition; one that cannot be evaluated fails the step."""
        assert node.config.while_ is not None
        try:
            return evaluate.evaluate(node.config.while_, self.context(loop))
        except (templating.TemplateRenderError, ValueError, TypeError) as exc:
            entry["error"] = str(exc)
            raise _End("failed", f"step {node.id} failed: {exc}") from None

    def loop(self, node: LoopNode, loop: dict[str, Any] | None) -> str:
        entry = self.record(node)
        config = node.config
        context = self.context(loop)
        try:
            items = loop_items(config, context)
        except (templating.TemplateRenderError, ValueError, TypeError) as exc:
            entry["error"] = str(exc)
            raise _End("failed", f"step {node.id} failed: {exc}") from None
        index = 0
        while index < config.max_iterations:
            if items is not None and index >= len(items):
                break
            if items is None and not self.goes_on(node, entry, loop):
                break
            item = items[index] if items is not None else None
            if config.for_each is not None:
                self.run.vars[config.item_as] = item
            self.walk(node.transitions.get("body"), {"index": index, "item": item, "node": node.id})
            index += 1
        result: dict[str, Any] = {"iterations": index}
        if index >= config.max_iterations:
            result["stopped_at_max_iterations"] = True
        self.steps[node.id] = result
        entry.update(port="done", result=result)
        return "done"

    def parallel(self, node: ParallelNode, loop: dict[str, Any] | None) -> str:
        entry = self.record(node)
        branches = node.config.branches
        if node.config.join == "any":
            branches = branches[:1]  # the first branch stands for the one that finishes first
        for start in branches:
            self.walk(start, loop)
        entry.update(port="next", result={"branches": len(branches), "join": node.config.join})
        return "next"


def would_call(node: Node, rendered: dict[str, Any]) -> dict[str, Any] | None:
    """What a connector step would call, and with which connection (it calls nothing here):
    a connector's, or a step whose config names a connection of an integration (an `email`
    step naming a `sendgrid` one)."""
    integration = step_of(node).integration or getattr(node.config, "integration", None)
    if integration is None:
        return None
    return {
        "integration": integration,
        "action": rendered.get("action"),
        "connection": rendered.get("connection"),
    }


def dry_run(
    document: FlowDocument,
    *,
    contact: Mapping[str, Any],
    variables: Mapping[str, Any],
    trigger: Mapping[str, Any],
    outcomes: Mapping[str, str],
    start_at: datetime,
    business_hours: hours.BusinessHours | None = None,
    respect_business_hours: bool = False,
    stored_templates: Mapping[tuple[str, str], Mapping[str, str | None]] | None = None,
    execution: Mapping[str, Any] | None = None,
) -> DryRun:
    """Walk `document` for `contact` from `start_at`, simulating every action."""
    walker = _Walker(
        document=document,
        contact=dict(contact),
        trigger=dict(trigger),
        outcomes=outcomes,
        now=start_at,
        business_hours=business_hours,
        stored_templates=stored_templates or {},
        execution={"id": DRY_RUN_ID, "test": True, **(execution or {})},
        nodes=document.by_id(),
    )
    walker.run.vars = {**document.variables, **variables}
    if is_dnc(walker.contact):
        walker.run.skips.append({"reason": DNC_REASON})
        walker.run.ends, walker.run.reason = "skipped", DNC_REASON
        return walker.run
    if respect_business_hours and business_hours is not None:
        opening = hours.next_opening(business_hours, start_at)
        if opening > start_at:
            walker.run.skips.append(
                {
                    "reason": "outside business hours: the first step waits for the opening",
                    "waits_until": opening.isoformat(),
                }
            )
            walker.now = opening
    try:
        walker.walk(document.start)
    except _End as end:
        walker.run.ends, walker.run.reason = end.status, end.reason
    return walker.run
