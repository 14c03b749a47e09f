"""Issue 3's walk-through, through the API: the right flow, the call, WhatsApp, wait, email.

Two IndiaMART flows with different priorities and one website flow; an IndiaMART lead
starts the priority-1 flow (the `lead_engagement` example), whose sandbox call is
simulated as missed, so it sends the WhatsApp template, waits ten minutes and emails. The
time-skipping server lets the business-hours wait and the ten minutes pass at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.temporal import index_executions_if_possible
from schemas.settings import Settings
from tests.api.helpers import TenantKeys, make_flow
from tests.examples import load_example, settings_of
from worker import build_worker


@pytest.fixture
async def api(
    engine: Engine, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.model_validate({"FLOWDECK_ENV": "test", "FLOWDECK_TASK_QUEUE": task_queue})
    client = time_skipping_env.client
    app = create_app(settings=settings, engine=engine, temporal_client=client)
    # As the app's lifespan does: the time-skipping server has no search attributes.
    await index_executions_if_possible(app.state, client)
    async with build_worker(client, engine=engine, settings=settings, task_queue=task_queue):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://flowdeck.test") as c:
            yield c


async def _get(api: httpx.AsyncClient, tenant: TenantKeys, path: str) -> Any:
    response = await api.get(path, headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    return response.json()


async def _skip_until(
    env: WorkflowEnvironment,
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    execution: dict[str, Any],
    done: Callable[[dict[str, Any]], bool],
    *,
    step_s: float,
) -> dict[str, Any]:
    """Let server time pass until the execution's detail satisfies `done`.

    A business-hours wait is skipped to its opening in one go; otherwise time moves `step_s`
    at a time, so that no outcome is missed by jumping past it.
    """
    handle = env.client.get_workflow_handle(execution["workflow_id"])
    for _ in range(200):
        detail: dict[str, Any] = await _get(api, tenant, f"/api/executions/{execution['id']}")
        if done(detail) or (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            return detail
        hours = [s for s in detail["steps"] if s["node_id"] == "business_hours"]
        if hours and hours[0]["status"] == "waiting":
            opening = datetime.fromisoformat(hours[0]["result"]["until"])
            began = datetime.fromisoformat(hours[0]["started_at"])
            await env.sleep((opening - began).total_seconds() + 1)
        else:
            await env.sleep(step_s)
    raise AssertionError(f"the execution never got there: {detail}")


async def test_an_indiamart_lead_is_called_then_messaged_then_emailed(
    api: httpx.AsyncClient,
    time_skipping_env: WorkflowEnvironment,
    make_tenant: Callable[[], TenantKeys],
) -> None:
    example = load_example("lead_engagement")
    tenant = make_tenant()
    settings = {k: v for k, v in settings_of(example).items() if k not in ("name", "description")}
    best = await make_flow(api, tenant, example["definition"], name="IndiaMART first", **settings)
    await make_flow(
        api, tenant, example["definition"], name="IndiaMART later", **{**settings, "priority": 5}
    )
    website = {**settings, "priority": 2}
    website["trigger"] = {
        "type": "lead_created",
        "conditions": [{"field": "lead_source", "op": "eq", "value": "website"}],
    }
    await make_flow(api, tenant, example["definition"], name="Website", **website)

    posted = await api.post(
        "/api/contacts",
        json={
            "name": "Asha Rao",
            "phone": "+919800000001",
            "email": "asha@example.com",
            "lead_source": "IndiaMART",
            "entry_type": "integration",
            "custom": {"product": "borewell pumps"},
        },
        headers=tenant.auth("manager"),
    )
    assert posted.status_code == 201, posted.text
    engagement = posted.json()["engagement"]
    assert (engagement["status"], engagement["flow_id"]) == ("started", best["id"])
    execution = await _get(api, tenant, f"/api/executions/{engagement['execution_id']}")
    assert execution["match"]["flow_id"] == best["id"]
    losers = {c["name"]: c["matched"] for c in execution["match"]["candidates"]}
    assert losers == {"IndiaMART first": True, "IndiaMART later": True, "Website": False}

    # the call is placed (after the business-hours opening, if the lead came in at night)
    placed = await _skip_until(
        time_skipping_env,
        api,
        tenant,
        execution,
        # The step's row is written by its activity, the run's status by the workflow just
        # after: both, or a poll between the two writes reads the run still `pending`.
        lambda d: (
            d["status"] == "waiting"
            and any(s["node_id"] == "call" and s["status"] == "waiting" for s in d["steps"])
        ),
        step_s=1,
    )
    assert placed["status"] == "waiting"
    missed = await api.post(
        f"/api/executions/{execution['id']}/simulate",
        json={"call": "missed"},
        headers=tenant.auth("manager"),
    )
    assert missed.status_code in (200, 202), missed.text

    done = await _skip_until(
        time_skipping_env, api, tenant, execution, lambda d: d["status"] == "completed", step_s=60
    )
    path = [(s["node_id"], s["port"]) for s in done["steps"] if s["node_id"] != "business_hours"]
    assert path == [
        ("call", "missed"),
        ("wa", "sent"),
        ("pause", "next"),
        ("mail", "sent"),
        ("done", None),
    ]
    sent = (await _get(api, tenant, f"/api/outbox?execution_id={execution['id']}"))["items"]
    by_channel = {m["channel"]: m for m in sent}
    assert set(by_channel) == {"voice", "whatsapp", "email"}
    assert by_channel["whatsapp"]["content"]["template"] == "lead_followup"
    assert by_channel["whatsapp"]["content"]["params"] == {"1": "Asha Rao", "2": "Acme Pumps"}
    assert by_channel["email"]["subject"] == "Your enquiry with Acme Pumps"
    assert "Thanks for your enquiry about our products." in by_channel["email"]["content"]["text"]
