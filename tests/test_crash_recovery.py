"""Fault injection: `flowdeck api` killed (SIGKILL) between an execution's commit and its
workflow's start, and right after the start; restarted, it finishes every accepted run.

The process dies at a named failpoint (`FLOWDECK_FAILPOINT`, `api.failpoints`), exactly where a
power cut would leave the work half-done; its embedded worker dies with it. Real database,
real Temporal dev server, a real HTTP endpoint the flow calls.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from store.keys import new_secret
from store.models import Execution
from tests.processes import ApiProcess, free_port

HOOK = "/crm/hook"


def _flow(sink: str) -> dict[str, Any]:
    return {
        "start": "notify",
        "nodes": [
            {
                "id": "notify",
                "type": "http",
                "config": {"method": "POST", "url": sink, "body": {"lead": "{{ contact.name }}"}},
                "timeout_s": 5,
                "transitions": {"success": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


@pytest.fixture
def crash_env(database_url: str, temporal_env: WorkflowEnvironment) -> Iterator[dict[str, str]]:
    """What both lives of the API process share: database, Temporal, task queue, key."""
    env = {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "FLOWDECK_TASK_QUEUE": f"crash-{uuid.uuid4().hex[:10]}",
        "FLOWDECK_ADMIN_KEY": new_secret(),
        "FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1,localhost",
        "FLOWDECK_ENV": "test",
        "FLOWDECK_LOG_LEVEL": "WARNING",
    }
    yield env


def _start(tmp_path: Path, env: dict[str, str], **extra: str) -> ApiProcess:
    api = ApiProcess.start(tmp_path, port=free_port(), **env, **extra)
    api.wait_until_serving()
    return api


def _auth(env: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {env['FLOWDECK_ADMIN_KEY']}"}


def _published_flow(api: ApiProcess, env: dict[str, str], sink: str, **settings: Any) -> str:
    name = f"crash {uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=api.base_url, headers=_auth(env), timeout=10) as http:
        created = http.post(
            "/api/flows", json={"name": name, "definition": _flow(sink), **settings}
        )
        assert created.status_code == 201, created.text
        flow_id: str = created.json()["id"]
        published = http.post(f"/api/flows/{flow_id}/versions/1/publish")
        assert published.status_code == 200, published.text
    return flow_id


def _rows(engine: Engine, flow_id: str) -> list[Execution]:
    with Session(engine) as session:
        return list(session.exec(select(Execution).where(Execution.flow_id == flow_id)).all())


async def _runs_of(env: WorkflowEnvironment, workflow_id: str) -> int:
    """How many workflow runs Temporal has under this id (0 if none)."""
    runs = [w async for w in env.client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    return len(runs)


async def _exists(env: WorkflowEnvironment, workflow_id: str) -> bool:
    try:
        await env.client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        assert exc.status == RPCStatusCode.NOT_FOUND
        return False
    return True


async def _until_status(engine: Engine, execution_id: str, status: str, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while True:
        with Session(engine) as session:
            row = session.get(Execution, execution_id)
            assert row is not None
            if row.status == status:
                return
            current = row.status
        assert time.monotonic() < deadline, f"execution {execution_id} still {current}"
        await asyncio.sleep(0.25)


def _post_and_die(api: ApiProcess, env: dict[str, str], path: str, body: Any) -> None:
    """The request gets no answer: the process dies mid-request."""
    with (
        httpx.Client(base_url=api.base_url, headers=_auth(env), timeout=20) as http,
        pytest.raises(httpx.TransportError),
    ):
        http.post(path, json=body)
    assert api.wait_for_exit() == -9, api.log()


def _dying_at(tmp_path: Path, env: dict[str, str], failpoint: str) -> ApiProcess:
    """The API's first life: it kills itself at `failpoint`, and does not sweep."""
    return _start(tmp_path, env, FLOWDECK_FAILPOINT=failpoint, FLOWDECK_START_SWEEP_S="0")


def _restarted(tmp_path: Path, env: dict[str, str]) -> ApiProcess:
    """Its second life, sweeping often, with a short grace."""
    return _start(tmp_path, env, FLOWDECK_START_GRACE_S="1", FLOWDECK_START_SWEEP_S="0.5")


def _post_run_and_die(api: ApiProcess, env: dict[str, str], flow_id: str) -> None:
    _post_and_die(api, env, f"/api/flows/{flow_id}/executions", {"contact": {"name": "Asha"}})


async def test_a_run_whose_process_died_before_its_workflow_started_is_started_after_restart(
    tmp_path: Path,
    crash_env: dict[str, str],
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(HOOK, method="POST").respond_with_json({"ok": True})
    first = _dying_at(tmp_path, crash_env, "run.after_commit")
    flow_id = _published_flow(first, crash_env, httpserver.url_for(HOOK))
    _post_run_and_die(first, crash_env, flow_id)

    [row] = _rows(engine, flow_id)
    assert row.status == "pending"  # accepted, committed, and no workflow to run it
    assert not await _exists(temporal_env, row.workflow_id)

    second = _restarted(tmp_path, crash_env)
    try:
        await _until_status(engine, row.id, "completed", within_s=30)
    finally:
        second.kill()
    assert len(httpserver.log) == 1
    assert await _runs_of(temporal_env, row.workflow_id) == 1


async def test_a_run_whose_process_died_after_the_start_runs_once_after_restart(
    tmp_path: Path,
    crash_env: dict[str, str],
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(HOOK, method="POST").respond_with_json({"ok": True})
    first = _dying_at(tmp_path, crash_env, "run.after_start")
    flow_id = _published_flow(first, crash_env, httpserver.url_for(HOOK))
    _post_run_and_die(first, crash_env, flow_id)

    [row] = _rows(engine, flow_id)
    assert await _exists(temporal_env, row.workflow_id)  # the start had happened

    second = _restarted(tmp_path, crash_env)
    try:
        await _until_status(engine, row.id, "completed", within_s=45)
    finally:
        second.kill()
    # One workflow, never started twice; its HTTP step may have run before the kill and
    # again after it (at least once), always with the same idempotency key.
    assert await _runs_of(temporal_env, row.workflow_id) == 1
    assert 1 <= len(httpserver.log) <= 2
    keys = {request.headers.get("Idempotency-Key") for request, _ in httpserver.log}
    assert len(keys) == 1 and None not in keys


async def test_a_lead_whose_process_died_before_its_flow_started_is_engaged_after_restart(
    tmp_path: Path,
    crash_env: dict[str, str],
    engine: Engine,
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(HOOK, method="POST").respond_with_json({"ok": True})
    source = f"expo-{uuid.uuid4().hex[:8]}"
    trigger = {
        "type": "lead_created",
        "conditions": [{"field": "lead_source", "op": "eq", "value": source}],
    }
    lead = {"name": "Ravi", "phone": f"+1555{uuid.uuid4().int % 10**7:07d}", "lead_source": source}
    first = _dying_at(tmp_path, crash_env, "run.after_commit")
    flow_id = _published_flow(first, crash_env, httpserver.url_for(HOOK), trigger=trigger)
    _post_and_die(first, crash_env, "/api/contacts", lead)
    [row] = _rows(engine, flow_id)
    assert row.status == "pending"

    second = _restarted(tmp_path, crash_env)
    try:
        await _until_status(engine, row.id, "completed", within_s=30)
        # The lead entered the flow once: posted again within the cooldown, it is skipped.
        async with httpx.AsyncClient(base_url=second.base_url, headers=_auth(crash_env)) as http:
            again = await http.post("/api/contacts", json=lead)
    finally:
        second.kill()
    assert again.status_code == 200, again.text
    engagement = again.json()["engagement"]
    assert engagement["status"] == "skipped" and "cooldown" in engagement["reason"]
    assert len(httpserver.log) == 1
