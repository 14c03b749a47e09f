"""The pure schema modules work inside Temporal's workflow sandbox, as the interpreter uses them.

The worker is given the product's sandbox runner (`workflows.sandbox`), which passes Jinja2
through: Jinja imports parts of itself while compiling, which the default sandbox refuses.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workflows.sandbox import workflow_runner

with workflow.unsafe.imports_passed_through():
    from pydantic import TypeAdapter

    from schemas.conditions import Condition
    from schemas.evaluate import evaluate
    from schemas.hours import BusinessHours, next_opening
    from schemas.templating import TemplateRenderError, render, render_value


@workflow.defn(sandboxed=True)
class PureLogicWorkflow:
    @workflow.run
    async def run(self, context: dict[str, Any]) -> dict[str, Any]:
        try:
            render("{{ contact.email }}", context)
            missing = None
        except TemplateRenderError as exc:
            missing = exc.variable
        condition = TypeAdapter[Condition](Condition).validate_python(
            {"var": "call.speech", "op": "eq", "value": "sales"}
        )
        hours = BusinessHours(start="09:30", end="18:30", timezone="Asia/Kolkata")
        return {
            "greeting": render("Hi {{ contact.name }}", context),
            "items": render_value("{{ steps.x.body.items }}", context),
            "missing": missing,
            "speech": evaluate(condition, context),
            "opening": next_opening(hours, workflow.now()).isoformat(),
        }


async def test_templating_evaluation_and_hours_run_in_the_sandbox(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    context = {
        "contact": {"name": "Ann"},
        "steps": {"x": {"body": {"items": [1, 2]}}},
        "call": {"speech": "Sales!"},
    }
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[PureLogicWorkflow],
        workflow_runner=workflow_runner(),
    ):
        result = await time_skipping_env.client.execute_workflow(
            PureLogicWorkflow.run, context, id=f"pure-{uuid.uuid4().hex}", task_queue=task_queue
        )
    assert result["greeting"] == "Hi Ann"
    assert result["items"] == [1, 2]
    assert result["missing"] == "contact.email"
    assert result["speech"] is True
    assert result["opening"].endswith("+00:00")
