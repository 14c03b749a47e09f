"""Email steps that name a stored template render it with the execution's context."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowFailureError

from schemas.execution import ExecutionResult
from store.db import session_scope
from store.models import Template
from tests.workflows.conftest import Runner


def _store_template(runner: Runner, **fields: str) -> None:
    with session_scope(runner.engine) as session:
        session.add(Template(tenant_id=runner.tenant_id, channel="email", **fields))


def _flow(**config: str) -> dict[str, object]:
    return {
        "start": "mail",
        "variables": {"company": "Acme Pumps"},
        "nodes": [
            {
                "id": "mail",
                "type": "email",
                "config": {"to": "{{ contact.email }}", "template": "welcome", **config},
                "transitions": {"sent": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


async def test_a_stored_template_fills_subject_and_bodies(skipping_runner: Runner) -> None:
    _store_template(
        skipping_runner,
        name="welcome",
        subject="Welcome to {{ vars.company }}, {{ contact.name }}",
        body="Hello {{ contact.name }}",
        html="<p>Hello {{ contact.name }}</p>",
    )
    contact = {"name": "Ravi <R&D>", "email": "ravi@example.com"}
    handle = await skipping_runner.start(_flow(), contact=contact)
    result: ExecutionResult = await handle.result()
    assert result.status == "completed"
    [mail] = skipping_runner.outbox(handle)
    assert mail.subject == "Welcome to Acme Pumps, Ravi <R&D>"
    assert mail.content is not None
    assert mail.content["text"] == "Hello Ravi <R&D>"
    assert mail.content["html"] == "<p>Hello Ravi &lt;R&amp;D&gt;</p>"  # escaped in HTML only


async def test_the_steps_own_subject_wins_over_the_template(skipping_runner: Runner) -> None:
    _store_template(skipping_runner, name="welcome", subject="Stored", body="Body")
    handle = await skipping_runner.start(
        _flow(subject="Own subject"), contact={"email": "a@example.com"}
    )
    await handle.result()
    [mail] = skipping_runner.outbox(handle)
    assert (mail.subject, mail.content and mail.content["text"]) == ("Own subject", "Body")


async def test_a_missing_variable_or_template_fails_the_step_and_sends_nothing(
    skipping_runner: Runner,
) -> None:
    _store_template(skipping_runner, name="welcome", subject="Hi", body="{{ contact.product }}")
    handle = await skipping_runner.start(_flow(), contact={"email": "a@example.com"})
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    [step, *_] = skipping_runner.steps(handle)
    assert step.status == "failed" and "contact.product" in (step.error or "")
    assert skipping_runner.outbox(handle) == []

    other = _flow()
    other["nodes"][0]["config"]["template"] = "nope"  # type: ignore[index]
    handle = await skipping_runner.start(other, contact={"email": "a@example.com"})
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    [step, *_] = skipping_runner.steps(handle)
    assert "no email template named 'nope'" in (step.error or "")
