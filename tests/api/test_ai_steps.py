"""The AI steps through the API, on both databases: an `ai_classify` step and a `split` route a
message to the right branch against a local chat-completions server, the dry run shows what
would be sent without sending it, analytics count the tokens and cost, and the connection's
key appears in no answer, log line or timeline."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.settings import Settings
from store.models import ExecutionStep
from tests.api.conftest import TEMPORAL_UI
from tests.api.helpers import TenantKeys, make_flow, run, wait_for_status
from tests.fake_openai import (
    API_KEY,
    FakeChatServer,
    Received,
    Reply,
    json_reply,
    serve_fake_openai,
)

WRONG_KEY = "sk-wrong-9876543210zyxwvutsrqponmlkjihgfedcba"


@pytest.fixture
def settings(task_queue: str, temporal_env: WorkflowEnvironment) -> Settings:
    """The API's and the worker's settings, with the local chat server allow-listed."""
    return Settings(
        FLOWDECK_ENV="test",
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_UI_URL=TEMPORAL_UI,
        FLOWDECK_TASK_QUEUE=task_queue,
        FLOWDECK_HTTP_ALLOWLIST="127.0.0.1",
    )


def _by_keyword(request: Received) -> Reply:
    """The fake model: billing when the message speaks of money, else technical."""
    text = request.user.lower()
    label = "billing" if any(w in text for w in ("invoice", "refund", "charged")) else "technical"
    return json_reply({"label": label, "confidence": 0.85}, prompt_tokens=40, completion_tokens=8)


@pytest.fixture
async def chat(api: httpx.AsyncClient, tenant: TenantKeys) -> AsyncIterator[FakeChatServer]:
    """The fake endpoint, and two `openai` connections to it made through the API: `gpt`
    with the key it expects, `stale` with another."""
    async with serve_fake_openai() as server:
        server.answer = _by_keyword
        for name, key in (("gpt", API_KEY), ("stale", WRONG_KEY)):
            created = await api.post(
                "/api/connections",
                json={
                    "name": name,
                    "integration": "openai",
                    "auth": "api_key",
                    "settings": {
                        "base_url": server.base_url,
                        "model": "gpt-4o-mini",
                        "price_per_1k_input": 0.5,
                        "price_per_1k_output": 1.5,
                    },
                    "secret": {"api_key": key},
                },
                headers=tenant.auth("admin"),
            )
            assert created.status_code == 201, created.text
            assert key not in created.text
        yield server


def routed_flow(connection: str = "gpt") -> dict[str, Any]:
    return {
        "start": "classify",
        "nodes": [
            {
                "id": "classify",
                "type": "ai_classify",
                "config": {
                    "connection": connection,
                    "text": "{{ vars.message }}",
                    "labels": ["billing", "technical"],
                    "instructions": "billing: invoices, charges and refunds.",
                },
                "retry": {"max_attempts": 1},
                "transitions": {"success": "route", "error": "to_human"},
            },
            {
                "id": "route",
                "type": "split",
                "config": {
                    "cases": [
                        {
                            "port": "billing",
                            "when": {
                                "all": [
                                    {"var": "steps.classify.label", "op": "eq", "value": "billing"},
                                    {"var": "steps.classify.confidence", "op": "gte", "value": 0.6},
                                ]
                            },
                        }
                    ]
                },
                "transitions": {"billing": "to_billing", "else": "to_support"},
            },
            {"id": "to_billing", "type": "set", "config": {"assign": {"queue": "billing"}}},
            {"id": "to_support", "type": "set", "config": {"assign": {"queue": "support"}}},
            {"id": "to_human", "type": "set", "config": {"assign": {"queue": "human"}}},
        ],
    }


async def test_a_classified_message_is_routed_to_its_branch_and_the_key_never_shows(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    chat: FakeChatServer,
    engine: Engine,
    product_logs: io.StringIO,
) -> None:
    answers: list[str] = []
    listed = await api.get("/api/connections", headers=tenant.auth("viewer"))
    ids = {c["name"]: c["id"] for c in listed.json()}
    checks = {
        name: await api.post(f"/api/connections/{ids[name]}/test", headers=tenant.auth("manager"))
        for name in ("gpt", "stale")
    }
    assert checks["gpt"].json()["outcome"] == "ok"
    assert checks["stale"].json()["outcome"] == "failed"
    answers += [listed.text, *(c.text for c in checks.values())]
    flow = await make_flow(api, tenant, routed_flow(), name="Inbox triage")
    answers.append(json.dumps(flow))
    runs = {}
    for message in ("I was charged twice on my invoice", "The app crashes when I log in"):
        started = await run(api, tenant, flow["id"], variables={"message": message})
        runs[message] = await wait_for_status(api, tenant, started["id"], "completed")
        answers.append(json.dumps(runs[message]))

    billing = runs["I was charged twice on my invoice"]
    support = runs["The app crashes when I log in"]
    assert [s["node_id"] for s in billing["steps"]] == ["classify", "route", "to_billing"]
    assert [s["node_id"] for s in support["steps"]] == ["classify", "route", "to_support"]
    assert billing["context"]["vars"]["queue"] == "billing"
    assert support["context"]["vars"]["queue"] == "support"
    classify = billing["steps"][0]
    assert (classify["result"]["label"], classify["result"]["confidence"]) == ("billing", 0.85)
    assert classify["result"]["usage"] == {
        "prompt_tokens": 40,
        "completion_tokens": 8,
        "total_tokens": 48,
    }
    assert classify["result"]["cost"] == pytest.approx((40 * 0.5 + 8 * 1.5) / 1000)
    assert (
        classify["result"]["connection"] == "gpt" and classify["result"]["model"] == "gpt-4o-mini"
    )
    assert [r.headers["Authorization"] for r in chat.requests] == [f"Bearer {API_KEY}"] * 2
    assert [r.body["model"] for r in chat.requests] == ["gpt-4o-mini"] * 2

    # A connection whose key the endpoint refuses: the run takes the step's error port, and
    # the 401's text (which quotes the key whole) reaches the timeline scrubbed.
    stale = await make_flow(api, tenant, routed_flow("stale"), name="Stale key")
    started = await run(api, tenant, stale["id"], variables={"message": "refund please"})
    failed = await wait_for_status(api, tenant, started["id"], "completed")
    answers.append(json.dumps(failed))
    refused = failed["steps"][0]
    assert refused["status"] == "failed" and "HTTP 401" in refused["error"]
    assert failed["context"]["vars"]["queue"] == "human"
    assert WRONG_KEY in chat.requests[-1].headers["Authorization"]  # it was sent, to the vendor

    listing = await api.get("/api/executions", headers=tenant.auth("viewer"))
    report = await api.get(f"/api/analytics/flows/{flow['id']}", headers=tenant.auth("viewer"))
    overview = await api.get("/api/analytics/overview", headers=tenant.auth("viewer"))
    answers += [listing.text, report.text, overview.text]
    with Session(engine) as session:
        rows = session.exec(select(ExecutionStep).where(ExecutionStep.tenant_id == tenant.id)).all()
        timeline = json.dumps([(r.result, r.error) for r in rows])
    for secret in (API_KEY, WRONG_KEY):
        for text in (*answers, timeline, product_logs.getvalue()):
            assert secret not in text

    # Analytics: the classification's tokens and cost, per node and per flow.
    [node] = report.json()["ai_usage"]
    assert node == {
        "node_id": "classify",
        "steps": 2,
        "prompt_tokens": 80,
        "completion_tokens": 16,
        "total_tokens": 96,
        "priced_steps": 2,
        "cost": pytest.approx(2 * (40 * 0.5 + 8 * 1.5) / 1000),
    }
    by_flow = {entry["flow_id"]: entry for entry in overview.json()["ai_usage"]}
    assert by_flow[flow["id"]]["total_tokens"] == 96
    assert stale["id"] not in by_flow  # its one AI step failed: nothing was used


async def test_the_dry_run_shows_the_request_and_calls_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, chat: FakeChatServer
) -> None:
    flow = await make_flow(api, tenant, routed_flow(), name="Inbox triage")

    response = await api.post(
        f"/api/flows/{flow['id']}/test",
        json={"variables": {"message": "Where is my order?"}, "outcomes": {"classify": "billing"}},
        headers=tenant.auth("manager"),
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    classify, route, branch = answer["steps"]
    assert classify["request"]["connection"] == "gpt"
    assert classify["request"]["url"] == f"{chat.base_url}/chat/completions"
    body = classify["request"]["body"]
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"][-1] == {"role": "user", "content": "Where is my order?"}
    assert classify["result"]["label"] == "billing" and classify["result"]["simulated"]
    assert (route["port"], branch["node_id"]) == ("billing", "to_billing")
    assert chat.requests == []
    assert API_KEY not in response.text

    unknown = await api.post(
        f"/api/flows/{flow['id']}/test",
        json={"outcomes": {"classify": "spam"}},
        headers=tenant.auth("manager"),
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["path"] == "$.outcomes.classify"
