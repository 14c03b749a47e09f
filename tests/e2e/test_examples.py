"""The example flows of examples/, run end to end against local servers.

`lead_engagement` runs through the API in tests/e2e/test_lead_engagement_done.py and
`ivr_menu` as whole calls in tests/calls/test_ivr_example.py.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from schemas.execution import UPDATE_COMPLETE_HUMAN_TASK, ExecutionResult, HumanTaskCompletion
from tests.examples import load_example, relocate
from tests.workflows.conftest import Runner


async def test_bitrix_qualify_updates_the_lead_waits_a_day_and_nudges(
    skipping_runner: Runner, httpserver: HTTPServer
) -> None:
    bitrix = httpserver.url_for("/rest/1/abc123/")
    updates: list[dict[str, Any]] = []

    def update(request: Request) -> Response:
        updates.append(json.loads(request.data))
        return Response(json.dumps({"result": True}), content_type="application/json")

    httpserver.expect_request(
        "/rest/1/abc123/crm.lead.update.json", method="POST"
    ).respond_with_handler(update)
    httpserver.expect_request("/sales", method="POST").respond_with_json({"ok": True})
    httpserver.expect_request(
        "/rest/1/abc123/crm.lead.get", query_string="id=4711"
    ).respond_with_json({"result": {"ID": "4711", "STATUS_ID": "IN_PROCESS"}})
    example = load_example("bitrix_qualify")
    definition = relocate(example["definition"], "https://acme.bitrix24.com/rest/1/abc123/", bitrix)
    definition = relocate(
        definition, "https://hooks.example.com/sales", httpserver.url_for("/sales")
    )

    handle = await skipping_runner.start(
        definition, contact={"name": "Meera", "custom": {"bitrix_id": "4711"}}
    )
    result: ExecutionResult = await handle.result()

    assert result.status == "completed"
    assert [(n, s, p) for n, s, p in skipping_runner.path(handle)] == [
        ("status", "success", "success"),
        ("notify", "success", "success"),
        ("settle", "success", "next"),
        ("check", "success", "success"),
        ("won", "success", "false"),
        ("nudge", "success", "sent"),
        ("done", "success", None),
    ]
    [sent] = updates
    assert sent["id"] == "4711"
    assert sent["fields"]["STATUS_ID"] == "QUALIFIED"
    assert sent["fields"]["COMMENTS"].startswith("Qualified by flow ")
    [mail] = skipping_runner.outbox(handle)
    assert (mail.to, mail.subject) == ("sales@acme.example", "Lead Meera still open after a day")
    settle = next(s for s in skipping_runner.steps(handle) if s.node_id == "settle")
    assert settle.duration_ms is not None and settle.duration_ms >= 24 * 3600 * 1000
    await skipping_runner.save_history(handle, "crm_http_wait_condition_email")


async def test_campaign_script_pitches_calls_back_and_confirms(runner: Runner) -> None:
    example = load_example("campaign_script")
    handle = await runner.start(
        example["definition"],
        contact={"name": "Kiran", "email": "kiran@example.com"},
        trigger={"type": "campaign", "agent_id": "agent-9"},
    )

    async def complete(data: dict[str, Any]) -> None:
        for _ in range(200):
            waiting = [s for s in runner.steps(handle) if s.status == "waiting"]
            if waiting and waiting[-1].node_id == "agent_call":
                break
            await asyncio.sleep(0.05)
        await handle.execute_update(
            UPDATE_COMPLETE_HUMAN_TASK,
            HumanTaskCompletion(node_id="agent_call", data=data, completed_by="agent-9"),
        )

    callback_at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    await complete({"outcome": "callback", "callback_at": callback_at})
    await complete({"outcome": "renewed"})
    result: ExecutionResult = await handle.result()

    assert result.status == "completed"
    variant = result.steps["offer"]["variant"]
    pitch = "Renew today and save 10%." if variant == "a" else "Renew for two years"
    assert result.vars["pitch"].startswith(pitch)
    path = [n for n, _, _ in runner.path(handle)]
    assert path == [
        "offer",
        f"script_{variant}",
        "agent_call",
        "result",
        "later",
        "agent_call",
        "result",
        "thanks",
        "done",
    ]
    first_task = next(s for s in runner.steps(handle) if s.node_id == "agent_call")
    assert first_task.result is not None
    assert first_task.result["assignee"] == "agent-9"
    assert first_task.result["title"] == f"Pitch: {result.vars['pitch']}"
    [mail] = runner.outbox(handle)
    assert (mail.to, mail.subject) == ("kiran@example.com", "Thank you for renewing")


async def test_campaign_script_run_by_hand_asks_the_agent_named_in_its_variables(
    runner: Runner,
) -> None:
    """Run by hand (not by its campaign), `agent_id` comes from the run's variables, as the
    example's description says."""
    example = load_example("campaign_script")
    handle = await runner.start(
        example["definition"],
        contact={"name": "Kiran", "email": "kiran@example.com"},
        variables={"agent_id": "agent-9"},
        trigger={"type": "manual", "by": "manager-key"},
    )
    for _ in range(200):
        waiting = [s for s in runner.steps(handle) if s.status == "waiting"]
        if waiting and waiting[-1].node_id == "agent_call":
            break
        await asyncio.sleep(0.05)
    [task] = [s for s in runner.steps(handle) if s.node_id == "agent_call"]
    assert task.result is not None and task.result["assignee"] == "agent-9"
    await handle.execute_update(
        UPDATE_COMPLETE_HUMAN_TASK,
        HumanTaskCompletion(node_id="agent_call", data={"outcome": "declined"}),
    )
    result: ExecutionResult = await handle.result()
    assert result.status == "completed"
    assert [n for n, _, _ in runner.path(handle)][-3:] == ["agent_call", "result", "done"]


@pytest.mark.parametrize(
    ("trigger", "variables"),
    [
        ({"type": "manual", "by": "manager-key"}, {"order_id": "A-1001"}),
        ({"type": "event", "intent": "order_status", "order_id": "A-1001"}, {}),
    ],
    ids=["by hand", "by its event"],
)
async def test_order_status_looks_the_order_up_and_texts_the_tracking_link(
    runner: Runner,
    httpserver: HTTPServer,
    trigger: dict[str, Any],
    variables: dict[str, Any],
) -> None:
    """The order id comes from the event's payload (`trigger.order_id`) once issue 14 fires
    it, and from the run's variables when it is run by hand."""
    httpserver.expect_request("/api/orders/A-1001").respond_with_json(
        {"status": "shipped", "tracking_url": "https://track.example/A-1001"}
    )
    example = load_example("order_status")
    definition = relocate(
        example["definition"],
        "https://shop.example.com/api/orders",
        httpserver.url_for("/api/orders"),
    )
    handle = await runner.start(
        definition,
        contact={"name": "Meera", "phone": "+15550100001"},
        variables=variables,
        trigger=trigger,
    )
    result: ExecutionResult = await handle.result()

    assert result.status == "completed"
    assert [(n, p) for n, _, p in runner.path(handle)] == [
        ("which", "next"),
        ("order", "success"),
        ("shipped", "true"),
        ("reply", "sent"),
        ("done", None),
    ]
    [sms] = runner.outbox(handle)
    assert sms.to == "+15550100001"
    assert sms.content is not None
    assert sms.content["body"] == "Your order A-1001 is on its way: https://track.example/A-1001"
