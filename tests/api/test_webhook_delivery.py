"""Outgoing webhooks delivered: a real receiver on loopback, the API's fan-out, the delivery
workflow on a real Temporal server; the signatures checked as the Standard Webhooks
specification tells a receiver to (written here from the spec, not from our signer)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from werkzeug import Request, Response

from api.main import create_app
from api.services import webhooks
from schemas.settings import Settings
from store.db import session_scope
from store.models import WebhookCursor
from tests.api.helpers import TenantKeys, make_flow, wait_for_status

WEBHOOK_HISTORIES = Path(__file__).parents[1] / "histories" / "webhooks"


def verify(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The receiver's check, by the Standard Webhooks reference library (`standardwebhooks`
    on PyPI): the `whsec_` key, `msg_id.timestamp.body` signed with HMAC-SHA256, any of the
    space-separated `v1,` signatures, and a timestamp within five minutes of now."""
    return dict(Webhook(secret).verify(body, headers))


@dataclass
class Receiver:
    """A webhook receiver: answers 500 to its first `failures` requests, then 200."""

    server: HTTPServer
    secret: str = ""
    failures: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    """The payloads answered 200, each verified, in the order they came."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse_unless: set[str] | None = None
    """When set: events of executions not in it are answered 500."""

    def url(self) -> str:
        return self.server.url_for("/hooks/flowdeck")

    def handle(self, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        body = request.get_data()
        with self.lock:
            self.requests.append((headers, body))
            if len(self.requests) <= self.failures:
                return Response("try later", status=500)
            execution_id = json.loads(body)["data"]["execution_id"]
            if self.refuse_unless is not None and execution_id not in self.refuse_unless:
                return Response("not this one yet", status=500)
            payload = verify(self.secret, headers, body)
            self.accepted.append({**payload, "webhook-id": headers["webhook-id"]})
        return Response("", status=200)


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Quick retries for a short while; a test may change them (indirect parametrization)."""
    return settings.model_copy(
        update={
            "http_allowlist": "127.0.0.1",
            "webhook_sweep_s": 0.1,
            "webhook_retry_initial_s": 0.2,
            "webhook_retry_for_s": 4.0,
            "webhook_disable_after": 2,
            "webhook_timeout_s": 5.0,
            **getattr(request, "param", {}),
        }
    )


@pytest.fixture
async def fan_out(
    engine: Engine, settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[None]:
    """The API's fan-out, running as it does in `flowdeck api`: in two API processes at once,
    each reading every event, so every delivery below is offered twice."""
    tasks = [
        asyncio.create_task(
            webhooks.fan_out_forever(
                create_app(settings=settings, engine=engine, temporal_client=temporal_env.client)
            )
        )
        for _ in range(2)
    ]
    yield
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def receiver(httpserver: HTTPServer) -> Receiver:
    found = Receiver(server=httpserver)
    httpserver.expect_request("/hooks/flowdeck", method="POST").respond_with_handler(found.handle)
    return found


async def _subscribe(
    api: httpx.AsyncClient, tenant: TenantKeys, url: str, events: list[str]
) -> dict[str, Any]:
    response = await api.post(
        "/api/webhooks", json={"url": url, "events": events}, headers=tenant.auth("manager")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _deliveries(
    api: httpx.AsyncClient, tenant: TenantKeys, webhook_id: str
) -> list[dict[str, Any]]:
    response = await api.get(
        f"/api/webhooks/{webhook_id}/deliveries", headers=tenant.auth("viewer")
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def _until(check: Callable[[], Any], what: str, within_s: float = 30.0) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {within_s} s")
        await asyncio.sleep(0.1)


async def _events(
    api: httpx.AsyncClient, tenant: TenantKeys, **params: str
) -> list[dict[str, Any]]:
    response = await api.get("/api/events", params=params, headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _save_history(env: WorkflowEnvironment, workflow_id: str) -> None:
    """With FLOWDECK_RECORD_HISTORIES=1, keep the delivery workflow's history for the replay
    tests (tests/workflows/test_webhook_replay.py)."""
    if os.environ.get("FLOWDECK_RECORD_HISTORIES") != "1":
        return
    history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    WEBHOOK_HISTORIES.mkdir(exist_ok=True)
    path = WEBHOOK_HISTORIES / "fails_twice_then_delivers.json"
    path.write_text(json.dumps(json.loads(history.to_json()), indent=1))


async def test_a_receiver_that_fails_twice_gets_every_event_once_in_order_signed(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    fan_out: None,
    receiver: Receiver,
    product_logs: io.StringIO,
    temporal_env: WorkflowEnvironment,
) -> None:
    receiver.failures = 2
    flow = await make_flow(api, tenant)  # published before the webhook exists: not heard
    everything = await _subscribe(api, tenant, receiver.url(), ["*"])
    receiver.secret = everything["secret"]
    started = await api.post(
        f"/api/flows/{flow['id']}/executions",
        json={"contact": {"name": "Asha"}},
        headers=tenant.auth("manager"),
    )
    assert started.status_code == 201, started.text
    execution_id = started.json()["id"]
    await wait_for_status(api, tenant, execution_id, "completed")

    # What the tenant's stream carries from the webhook's creation on, the webhook carries.
    stream = await _events(api, tenant, execution_id=execution_id)
    assert await _events(api, tenant, after=str(stream[-1]["id"])) == []
    assert stream[0]["type"] == "flow.started" and stream[-1]["type"] == "flow.completed"

    async def all_delivered() -> bool:
        rows = await _deliveries(api, tenant, everything["id"])
        return len(rows) == len(stream) and all(r["status"] == "delivered" for r in rows)

    await _until(all_delivered, "all delivered")
    assert [p["data"] for p in receiver.accepted] == stream  # each once, in order
    assert [p["type"] for p in receiver.accepted] == [e["type"] for e in stream]
    assert len({p["webhook-id"] for p in receiver.accepted}) == len(stream)
    assert len(receiver.requests) == len(stream) + 2  # the two refused tries of the first

    log = {r["event_id"]: r for r in await _deliveries(api, tenant, everything["id"])}
    first = log[stream[0]["id"]]
    assert first["attempts"] == 3 and first["response_status"] == 200
    assert first["latency_ms"] is not None and first["delivered_at"] is not None
    assert {r["attempts"] for r in log.values() if r is not first} == {1}

    # A tampered body or another secret fails the receiver's check.
    headers, body = receiver.requests[-1]
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verify(receiver.secret, headers, body.replace(b"flow", b"flaw"))

    await _save_history(temporal_env, f"webhook-{everything['id']}")
    handle = temporal_env.client.get_workflow_handle(f"webhook-{everything['id']}")
    history = (await handle.fetch_history()).to_json()
    assert "webhook_send" in history  # the delivery workflow's, read whole
    assert everything["secret"] not in history and "whsec_" not in history
    assert everything["secret"] not in product_logs.getvalue()
    assert everything["secret"].removeprefix("whsec_") not in product_logs.getvalue()
    assert "webhook.delivered" in product_logs.getvalue()  # the logs do flow


async def test_a_delivery_is_sent_again_on_request_under_the_same_message_id(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, fan_out: None, receiver: Receiver
) -> None:
    hook = await _subscribe(api, tenant, receiver.url(), ["flow.published"])
    receiver.secret = hook["secret"]
    flow = await make_flow(api, tenant)

    async def delivered() -> list[dict[str, Any]]:
        rows = await _deliveries(api, tenant, hook["id"])
        return rows if rows and all(r["status"] == "delivered" for r in rows) else []

    [original] = await _until(delivered, "delivered")
    assert original["event_type"] == "flow.published" and len(receiver.accepted) == 1

    again = await api.post(
        f"/api/webhooks/{hook['id']}/deliveries/{original['id']}/redeliver",
        headers=tenant.auth("manager"),
    )
    assert again.status_code == 202, again.text
    assert again.json()["status"] == "pending" and again.json()["id"] != original["id"]

    async def both() -> list[dict[str, Any]]:
        rows = await delivered()
        return rows if len(rows) == 2 else []

    rows = await _until(both, "redelivered")
    assert {r["event_id"] for r in rows} == {original["event_id"]}
    assert [p["webhook-id"] for p in receiver.accepted] == [f"msg_{original['event_id']}"] * 2
    assert receiver.accepted[0]["data"] == receiver.accepted[1]["data"]
    assert receiver.accepted[1]["data"]["flow_id"] == flow["id"]

    # Not for a viewer, nor for another webhook's delivery.
    refused = await api.post(
        f"/api/webhooks/{hook['id']}/deliveries/{original['id']}/redeliver",
        headers=tenant.auth("viewer"),
    )
    assert refused.status_code == 403
    other = await _subscribe(api, tenant, receiver.url(), ["flow.completed"])
    missing = await api.post(
        f"/api/webhooks/{other['id']}/deliveries/{original['id']}/redeliver",
        headers=tenant.auth("manager"),
    )
    assert missing.status_code == 404


async def test_a_webhook_failing_every_retry_is_disabled_and_says_so(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    fan_out: None,
    receiver: Receiver,
    httpserver: HTTPServer,
) -> None:
    """Two deliveries in a row that fail every retry (the settings above) disable it."""
    httpserver.expect_request("/down", method="POST").respond_with_data("down", status=503)
    broken = await _subscribe(api, tenant, httpserver.url_for("/down"), ["flow.published"])
    watcher = await _subscribe(api, tenant, receiver.url(), ["webhook.*"])
    receiver.secret = watcher["secret"]
    await make_flow(api, tenant, name="First")
    await make_flow(api, tenant, name="Second")
    await make_flow(api, tenant, name="Third")

    async def disabled() -> dict[str, Any] | None:
        read = await api.get(f"/api/webhooks/{broken['id']}", headers=tenant.auth("viewer"))
        return dict(read.json()) if read.json()["active"] is False else None

    webhook = await _until(disabled, "disabled")
    assert webhook["failed_in_a_row"] == 2
    assert "503" in webhook["disabled_reason"]
    rows = await _deliveries(api, tenant, broken["id"])
    assert sorted(r["status"] for r in rows) == ["failed", "failed", "pending"]
    assert all(
        r["attempts"] >= 2 and r["response_status"] == 503 for r in rows if r["status"] == "failed"
    )

    [event] = await _events(api, tenant, types="webhook.disabled")
    assert event["data"]["webhook_id"] == broken["id"]

    async def heard() -> bool:
        return len(receiver.accepted) == 1

    await _until(heard, "the disabling heard")
    assert receiver.accepted[0]["type"] == "webhook.disabled"
    assert receiver.accepted[0]["data"] == event

    # Switched on again, it owes nothing more to its failures and sends what waits.
    httpserver.clear()
    httpserver.expect_request("/down", method="POST").respond_with_data("", status=204)
    again = await api.patch(
        f"/api/webhooks/{broken['id']}", json={"active": True}, headers=tenant.auth("manager")
    )
    assert again.json()["failed_in_a_row"] == 0 and again.json()["disabled_reason"] is None

    async def caught_up() -> bool:
        rows = await _deliveries(api, tenant, broken["id"])
        return sorted(r["status"] for r in rows) == ["delivered", "failed", "failed"]

    await _until(caught_up, "the waiting delivery sent")


async def _run(api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str) -> str:
    started = await api.post(
        f"/api/flows/{flow_id}/executions", json={}, headers=tenant.auth("manager")
    )
    assert started.status_code == 201, started.text
    return str(started.json()["id"])


@pytest.mark.parametrize("settings", [{"webhook_retry_for_s": 300.0}], indirect=True)
async def test_a_delivery_retried_for_long_holds_back_only_its_own_execution(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, fan_out: None, receiver: Receiver
) -> None:
    flow = await make_flow(api, tenant)
    hook = await _subscribe(api, tenant, receiver.url(), ["flow.completed"])
    receiver.secret = hook["secret"]
    receiver.refuse_unless = set()
    stuck = await _run(api, tenant, flow["id"])

    async def retrying() -> bool:
        rows = await _deliveries(api, tenant, hook["id"])
        return bool(rows) and rows[0]["status"] == "pending" and rows[0]["attempts"] >= 1

    await _until(retrying, "refused and retrying")
    passing = await _run(api, tenant, flow["id"])
    receiver.refuse_unless.add(passing)

    async def delivered(execution_id: str) -> bool:
        rows = await _deliveries(api, tenant, hook["id"])
        return any(r["execution_id"] == execution_id and r["status"] == "delivered" for r in rows)

    await _until(lambda: delivered(passing), "the other execution's event delivered")
    [held] = [r for r in await _deliveries(api, tenant, hook["id"]) if r["execution_id"] == stuck]
    assert held["status"] == "pending"  # still retrying, not given up

    receiver.refuse_unless.add(stuck)
    await _until(lambda: delivered(stuck), "the held event delivered once accepted", 60.0)
    assert [p["data"]["execution_id"] for p in receiver.accepted] == [passing, stuck]


async def test_an_event_committed_behind_the_fan_outs_cursor_is_still_offered(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    """On PostgreSQL an event can commit after one with a higher id was read: the fan-out
    looks back for ids it has not offered (and offers none twice)."""
    hook = await _subscribe(api, tenant, "http://127.0.0.1:9/hooks", ["flow.published"])
    await make_flow(api, tenant)
    [event] = await _events(api, tenant, types="flow.published")
    # A fan-out whose cursor already passed this event without seeing it.
    late = webhooks.FanOut(cursor=event["id"], floor=event["id"] - 1, saved=event["id"] - 1)
    assert await _deliveries(api, tenant, hook["id"]) == []
    assert hook["id"] in await asyncio.to_thread(late.run_once, engine)
    assert hook["id"] not in await asyncio.to_thread(late.run_once, engine)
    fresh = webhooks.FanOut(cursor=event["id"] - 1, floor=event["id"] - 1, saved=event["id"] - 1)
    again = await asyncio.to_thread(fresh.run_once, engine)  # read again
    assert len(await _deliveries(api, tenant, hook["id"])) == 1, again
    assert hook["id"] not in again
    [delivery] = await _deliveries(api, tenant, hook["id"])
    assert delivery["event_id"] == event["id"] and delivery["status"] == "pending"
    deleted = await api.delete(f"/api/webhooks/{hook['id']}", headers=tenant.auth("manager"))
    assert deleted.status_code == 204


async def test_a_first_fan_out_begins_where_the_oldest_webhook_was_created(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    """Started after a webhook heard events (no cursor stored yet), the fan-out offers them;
    the events before the webhook, never."""
    await make_flow(api, tenant, name="Before")
    hook = await _subscribe(api, tenant, "http://127.0.0.1:9/hooks", ["flow.published"])
    await make_flow(api, tenant, name="After")
    with session_scope(engine) as session:
        session.execute(sa.delete(WebhookCursor))
    await asyncio.to_thread(webhooks.FanOut().run_once, engine)
    rows = await _deliveries(api, tenant, hook["id"])
    after = (await _events(api, tenant, types="flow.published"))[-1]
    assert [r["event_id"] for r in rows] == [after["id"]]
    deleted = await api.delete(f"/api/webhooks/{hook['id']}", headers=tenant.auth("manager"))
    assert deleted.status_code == 204
