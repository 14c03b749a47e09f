"""Issue 2's "done means", as a user does it through the API, on both database backends.

A flow with an HTTP step, a condition, a one-minute wait and an email is created, published
and run to completion; every step shows in the execution's timeline; a waiting execution is
cancelled; an older version is rolled back to and the next execution runs it; a viewer cannot
publish; another tenant sees nothing. The Temporal server skips time, so the minute passes
at once while the timer is real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.temporal import index_executions_if_possible
from schemas.execution import ExecutionResult
from schemas.settings import Settings
from tests.api.helpers import TenantKeys, wait_for_status
from worker import build_worker


def _flow(url: str, subject: str) -> dict[str, Any]:
    return {
        "start": "lookup",
        "nodes": [
            {
                "id": "lookup",
                "type": "http",
                "config": {"url": url, "save_as": "crm"},
                "transitions": {"success": "hot", "error": "done"},
            },
            {
                "id": "hot",
                "type": "condition",
                "config": {"when": {"var": "vars.crm.score", "op": "gte", "value": 50}},
                "transitions": {"true": "pause", "false": "done"},
            },
            {
                "id": "pause",
                "type": "wait",
                "config": {"minutes": 1},
                "transitions": {"next": "mail"},
            },
            {
                "id": "mail",
                "type": "email",
                "config": {
                    "to": "{{ contact.email }}",
                    "subject": subject,
                    "body": "Hello {{ contact.name }}, your score is {{ vars.crm.score }}.",
                },
                "transitions": {"sent": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


@pytest.fixture
async def api(
    engine: Engine, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.model_validate(
        {
            "FLOWDECK_ENV": "test",
            "FLOWDECK_TASK_QUEUE": task_queue,
            "FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1,localhost",
        }
    )
    client = time_skipping_env.client
    app = create_app(settings=settings, engine=engine, temporal_client=client)
    # As the app's lifespan does: the time-skipping server has no search attributes.
    await index_executions_if_possible(app.state, client)
    worker = build_worker(client, engine=engine, settings=settings, task_queue=task_queue)
    async with worker:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://flowdeck.test") as c:
            yield c


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _finish(env: WorkflowEnvironment, execution: dict[str, Any]) -> ExecutionResult:
    """Skip server time until the workflow has closed, then read its result."""
    handle = env.client.get_workflow_handle(execution["workflow_id"], result_type=ExecutionResult)
    for _ in range(20):
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            break
        await env.sleep(30)
    result: ExecutionResult = await handle.result()
    return result


async def test_a_published_flow_runs_is_cancelled_and_rolled_back(
    api: httpx.AsyncClient,
    time_skipping_env: WorkflowEnvironment,
    make_tenant: Callable[[], TenantKeys],
    httpserver: HTTPServer,
) -> None:
    tenant, stranger = make_tenant(), make_tenant()
    httpserver.expect_request("/crm/lead").respond_with_json({"score": 75})
    url = httpserver.url_for("/crm/lead")

    # create and publish; a viewer may not publish
    flow = await _ok(
        await api.post(
            "/api/flows",
            json={"name": "Follow-up", "definition": _flow(url, "First {{ contact.name }}")},
            headers=tenant.auth("manager"),
        ),
        201,
    )
    publish_v1 = f"/api/flows/{flow['id']}/versions/1/publish"
    assert (await api.post(publish_v1, headers=tenant.auth("viewer"))).status_code == 403
    await _ok(await api.post(publish_v1, headers=tenant.auth("manager")))

    # run it to completion: every step is in the timeline, the email in the outbox
    contact = {"name": "Asha", "email": "asha@example.com"}
    started = await _ok(
        await api.post(
            f"/api/flows/{flow['id']}/executions",
            json={"contact": contact},
            headers=tenant.auth("manager"),
        ),
        201,
    )
    assert (await _finish(time_skipping_env, started)).status == "completed"
    done = await wait_for_status(api, tenant, started["id"], "completed")
    assert [(s["node_id"], s["status"], s["port"]) for s in done["steps"]] == [
        ("lookup", "success", "success"),
        ("hot", "success", "true"),
        ("pause", "success", "next"),
        ("mail", "success", "sent"),
        ("done", "success", None),
    ]
    pause = done["steps"][2]
    assert pause["duration_ms"] >= 60_000
    assert done["workflow_id"] == f"exec-{started['id']}"
    assert done["temporal_url"].endswith(f"/workflows/exec-{started['id']}")
    outbox = await _ok(
        await api.get(f"/api/outbox?execution_id={started['id']}", headers=tenant.auth("viewer"))
    )
    [mail] = outbox["items"] if isinstance(outbox, dict) else outbox
    assert (mail["to"], mail["subject"]) == ("asha@example.com", "First Asha")
    assert "your score is 75." in mail["content"]["text"]

    # a waiting execution is cancelled through the API and stops at once
    waiting = await _ok(
        await api.post(
            f"/api/flows/{flow['id']}/executions",
            json={"contact": contact},
            headers=tenant.auth("manager"),
        ),
        201,
    )
    await wait_for_status(api, tenant, waiting["id"], "waiting")
    await _ok(
        await api.post(
            f"/api/executions/{waiting['id']}/cancel",
            json={"reason": "duplicate lead"},
            headers=tenant.auth("manager"),
        ),
        202,
    )
    assert (await _finish(time_skipping_env, waiting)).status == "cancelled"
    cancelled = await wait_for_status(api, tenant, waiting["id"], "cancelled")
    assert cancelled["reason"] == "duplicate lead"
    assert [s["status"] for s in cancelled["steps"]][-1] == "skipped"

    # version 2 changes the subject; rolling back to 1 publishes a copy that new runs use
    await _ok(
        await api.post(
            f"/api/flows/{flow['id']}/versions",
            json={"definition": _flow(url, "Second {{ contact.name }}"), "change_notes": "v2"},
            headers=tenant.auth("manager"),
        ),
        201,
    )
    await _ok(await api.post(f"/api/flows/{flow['id']}/versions/2/publish", headers=tenant.auth()))
    rolled = await _ok(
        await api.post(
            f"/api/flows/{flow['id']}/rollback", json={"version": 1}, headers=tenant.auth()
        ),
        201,
    )
    assert rolled["number"] == 3
    latest = await _ok(
        await api.post(
            f"/api/flows/{flow['id']}/executions",
            json={"contact": contact},
            headers=tenant.auth("manager"),
        ),
        201,
    )
    assert (await _finish(time_skipping_env, latest)).status == "completed"
    assert (await wait_for_status(api, tenant, latest["id"], "completed"))["version"] == 3
    outbox = await _ok(
        await api.get(f"/api/outbox?execution_id={latest['id']}", headers=tenant.auth("viewer"))
    )
    [mail] = outbox["items"] if isinstance(outbox, dict) else outbox
    assert mail["subject"] == "First Asha"

    # another tenant sees nothing of it
    for path in (
        f"/api/flows/{flow['id']}",
        f"/api/flows/{flow['id']}/versions/1",
        f"/api/executions/{started['id']}",
    ):
        assert (await api.get(path, headers=stranger.auth())).status_code == 404
    listed = await _ok(await api.get("/api/executions", headers=stranger.auth()))
    assert listed["items"] == []
