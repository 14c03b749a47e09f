"""`POST /api/events/{name}` starts the flows whose event trigger names it, under the guards."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.settings import Settings
from store.event_triggers import KEY_TTL, STALE_CLAIM, forget_expired
from store.models import EventPost, utcnow
from tests.api.conftest import TEMPORAL_UI
from tests.api.helpers import TenantKeys, make_flow, wait_for_status
from tests.engagement.helpers import event_types, executions, outbox, sms_flow, stored_execution
from tests.examples import load_example, relocate, settings_of

MEERA = {"name": "Meera", "phone": "+15550100001"}
ORDER = {"intent": "order_status", "order_id": "A-1001"}


@pytest.fixture
def settings(task_queue: str, temporal_env: WorkflowEnvironment) -> Settings:
    """The API tests' settings, with the loopback shop the order-status flow looks up allowed."""
    return Settings(
        FLOWDECK_ENV="test",
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_UI_URL=TEMPORAL_UI,
        FLOWDECK_TASK_QUEUE=task_queue,
        FLOWDECK_HTTP_ALLOWLIST="127.0.0.1,localhost",
    )


def event_trigger(name: str, *conditions: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event", "event": name, "conditions": list(conditions)}


async def event_flow(
    api: httpx.AsyncClient, tenant: TenantKeys, text: str, trigger: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    return await make_flow(api, tenant, sms_flow(text), name=text, trigger=trigger, **fields)


async def order_status_flow(
    api: httpx.AsyncClient, tenant: TenantKeys, shop: HTTPServer
) -> dict[str, Any]:
    """The shipped order-status example, fired by `order.created`, its shop on loopback."""
    example = load_example("order_status")
    definition = relocate(
        example["definition"], "https://shop.example.com/api/orders", shop.url_for("/api/orders")
    )
    fields = settings_of(example)
    fields["trigger"] = {**fields["trigger"], "event": "order.created"}
    return await make_flow(api, tenant, definition, **fields)


async def post_event(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    name: str,
    body: dict[str, Any],
    *,
    key: str | None = None,
    role: str = "manager",
) -> httpx.Response:
    headers = tenant.auth(role) | ({"Idempotency-Key": key} if key else {})
    return await api.post(f"/api/events/{name}", json=body, headers=headers)


async def test_an_order_created_event_starts_the_order_status_flow_once_per_key(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    engine: Engine,
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/api/orders/A-1001").respond_with_json(
        {"status": "shipped", "tracking_url": "https://track.example/A-1001"}
    )
    flow = await order_status_flow(api, tenant, httpserver)
    body = {"contact": MEERA, "payload": ORDER}
    key = uuid.uuid4().hex

    first = await post_event(api, tenant, "order.created", body, key=key)
    assert first.status_code == 200, first.text
    answer = first.json()
    [started] = answer["started"]
    assert (started["flow_id"], started["flow_name"]) == (flow["id"], flow["name"])
    assert answer["skipped"] == []
    assert answer["event"] == "order.created"

    done = await wait_for_status(api, tenant, started["execution_id"], "completed")
    [sms] = await outbox(api, tenant, done["id"])
    assert sms["to"] == MEERA["phone"]
    assert sms["content"]["body"] == "Your order A-1001 is on its way: https://track.example/A-1001"
    stored = stored_execution(engine, done["id"])
    assert stored.contact_id == answer["contact_id"]
    assert stored.trigger == {
        "type": "event",
        "event": "order.created",
        "contact_id": answer["contact_id"],
        "intent": "order_status",
        "order_id": "A-1001",
        "payload": ORDER,
    }
    assert stored.match is not None
    assert stored.match["reason"] == "matched trigger.intent eq order_status"

    again = await post_event(api, tenant, "order.created", body, key=key)
    assert again.status_code == 200, again.text
    assert again.json() == answer
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [e["id"] for e in await executions(api, tenant, flow_id=flow["id"])] == [done["id"]]

    other_request = await post_event(
        api, tenant, "order.created", {"contact": MEERA, "payload": {}}, key=key
    )
    assert other_request.status_code == 409, other_request.text


async def test_racing_posts_with_one_key_start_one_execution(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    flow = await event_flow(
        api, tenant, "Thanks", event_trigger("order.created"), cooldown_minutes=0
    )
    body = {"contact": MEERA, "payload": ORDER}
    key = uuid.uuid4().hex
    posts = await asyncio.gather(
        *(post_event(api, tenant, "order.created", body, key=key) for _ in range(10))
    )
    assert {p.status_code for p in posts} <= {200, 409}
    answers = [p.json() for p in posts if p.status_code == 200]
    assert answers and all(a == answers[0] for a in answers)
    listed = await executions(api, tenant, flow_id=flow["id"])
    assert [e["id"] for e in listed] == [answers[0]["started"][0]["execution_id"]]

    # without a key, nothing is remembered: the same post starts the flow again
    other = await post_event(api, tenant, "order.created", body)
    assert len(other.json()["started"]) == 1
    assert len(await executions(api, tenant, flow_id=flow["id"])) == 2


async def test_a_flow_whose_conditions_are_false_is_skipped_with_its_reason(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    condition = {"field": "trigger.intent", "op": "eq", "value": "refund"}
    refunds = await event_flow(api, tenant, "Refunds", event_trigger("order.created", condition))
    every = await event_flow(api, tenant, "Every", event_trigger("order.created"), priority=1)
    await event_flow(api, tenant, "Other event", event_trigger("order.cancelled"))
    off = await event_flow(api, tenant, "Off", event_trigger("order.created"), enabled=False)
    draft = await event_flow(api, tenant, "Draft", event_trigger("order.created"), publish=False)

    response = await post_event(api, tenant, "order.created", {"contact": MEERA, "payload": ORDER})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [s["flow_id"] for s in answer["started"]] == [every["id"]]
    skipped = {s["flow_id"]: s for s in answer["skipped"]}
    assert skipped[refunds["id"]]["reason"] == (
        "conditions false: trigger.intent eq refund does not hold "
        "(trigger.intent is 'order_status')"
    )
    assert skipped[off["id"]]["reason"] == "the flow is disabled"
    assert skipped[draft["id"]]["reason"] == "the flow has no published version"
    assert len(skipped) == 3
    assert await executions(api, tenant, flow_id=refunds["id"]) == []


async def test_dnc_and_cooldown_skip(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    flow = await event_flow(api, tenant, "Hi", event_trigger("cart.abandoned"))
    quiet = {"contact": {"phone": "+15550100009", "tags": ["DNC"]}, "payload": {}}
    dnc = (await post_event(api, tenant, "cart.abandoned", quiet)).json()
    [skip] = dnc["skipped"]
    assert (skip["flow_id"], skip["reason"]) == (flow["id"], "contact is tagged DNC")
    assert dnc["started"] == []
    assert event_types(engine, skip["execution_id"]) == ["flow.skipped"]

    contact = await api.post("/api/contacts", json=MEERA, headers=tenant.auth("manager"))
    by_id = {"contact": {"id": contact.json()["id"]}, "payload": {}}
    first = (await post_event(api, tenant, "cart.abandoned", by_id)).json()
    assert len(first["started"]) == 1
    second = (await post_event(api, tenant, "cart.abandoned", by_id)).json()
    [cooled] = second["skipped"]
    assert cooled["reason"].startswith("cooldown: entered this flow")
    assert second["started"] == []


async def test_an_unknown_event_starts_nothing_and_other_tenants_flows_never_start(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, worker: Worker
) -> None:
    theirs = await event_flow(api, other_tenant, "Theirs", event_trigger("order.created"))
    body = {"contact": MEERA, "payload": ORDER}
    unknown = await post_event(api, tenant, "nobody.listens", body)
    assert unknown.status_code == 200, unknown.text
    assert (unknown.json()["started"], unknown.json()["skipped"]) == ([], [])
    mine = await post_event(api, tenant, "order.created", body)
    assert (mine.json()["started"], mine.json()["skipped"]) == ([], [])
    assert await executions(api, other_tenant, flow_id=theirs["id"]) == []
    missing = await post_event(api, tenant, "order.created", {"contact": {"id": "nope"}})
    assert missing.status_code == 404, missing.text


@pytest.mark.parametrize(
    ("name", "body", "path"),
    [
        ("order.created", {"payload": {}}, "$.contact"),
        ("order.created", {"contact": {"name": "No way to reach"}}, "$.contact"),
        ("order.created", {"contact": {"id": "x", "phone": "+15550100001"}}, "$.contact"),
        ("order.created", {"contact": {"phone": "12345"}}, "$.contact.phone"),
        ("order.created", {"contact": MEERA, "payload": [1]}, "$.payload"),
        ("order.created", {"contact": MEERA, "extra": 1}, "$.extra"),
        ("bad name!", {"contact": MEERA}, "$.path.name"),
    ],
)
async def test_bad_posts_are_422_at_their_paths(
    api: httpx.AsyncClient, tenant: TenantKeys, name: str, body: dict[str, Any], path: str
) -> None:
    response = await post_event(api, tenant, name, body)
    assert response.status_code == 422, response.text
    assert path in [d["path"] for d in response.json()["error"]["details"]]


async def test_viewers_may_not_post_events_and_bad_event_triggers_are_refused(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    refused = await post_event(api, tenant, "order.created", {"contact": MEERA}, role="viewer")
    assert refused.status_code == 403
    for trigger, path in (
        ({"type": "event"}, "$.trigger.event"),
        ({"type": "event", "event": "x", "conditions": [{"field": "intent"}]}, None),
    ):
        response = await api.post(
            "/api/flows",
            json={"name": "Bad", "trigger": trigger},
            headers=tenant.auth("manager"),
        )
        assert response.status_code == 422, response.text
        paths = [d["path"] for d in response.json()["error"]["details"]]
        assert path is None or path in paths, paths


async def make_hook(api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str) -> dict[str, Any]:
    response = await api.post(f"/api/flows/{flow_id}/event-hook", headers=tenant.auth("manager"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def signed(secret: str, body: bytes, *, at: float | None = None) -> dict[str, str]:
    """Signed as a third party would, without our code: HMAC-SHA256 of "<t>.<raw body>"."""
    timestamp = int(time.time() if at is None else at)
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"Flowdeck-Signature": f"t={timestamp},v1={digest.hexdigest()}"}


async def test_a_flows_inbound_hook_fires_it_when_signed_and_refuses_bad_signatures(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    flow = await event_flow(api, tenant, "Hooked", event_trigger("order.paid"), cooldown_minutes=0)
    neighbour = await event_flow(api, tenant, "Neighbour", event_trigger("order.paid"))
    hook = await make_hook(api, tenant, flow["id"])
    assert hook["url"].startswith("/webhooks/events/") and hook["event"] == "order.paid"
    body = json.dumps({"contact": MEERA, "payload": {"order_id": "A-7"}}).encode()
    json_type = {"Content-Type": "application/json"}

    for headers in (
        {},
        signed("not-the-secret", body),
        signed(hook["secret"], body, at=time.time() - 3600),
        {"Flowdeck-Signature": f"t={int(time.time())},v1=zz"},
        {"Flowdeck-Signature": "v1=zz"},
    ):
        refused = await api.post(hook["url"], content=body, headers=headers | json_type)
        assert refused.status_code == 403, refused.text
    tampered = body.replace(b"A-7", b"A-8")
    headers = signed(hook["secret"], body)
    assert (await api.post(hook["url"], content=tampered, headers=headers)).status_code == 403
    assert await executions(api, tenant, flow_id=flow["id"]) == []

    fired = await api.post(hook["url"], content=body, headers=signed(hook["secret"], body))
    assert fired.status_code == 200, fired.text
    [started] = fired.json()["started"]
    assert started["flow_id"] == flow["id"]
    assert stored_execution(engine, started["execution_id"]).trigger["order_id"] == "A-7"  # type: ignore[index]
    assert await executions(api, tenant, flow_id=neighbour["id"]) == []  # only the hook's flow

    keyed = signed(hook["secret"], body) | {"Idempotency-Key": "delivery-1"}
    once = await api.post(hook["url"], content=body, headers=keyed)
    twice = await api.post(hook["url"], content=body, headers=keyed)
    assert once.json() == twice.json() and twice.headers["Idempotent-Replayed"] == "true"
    assert len(await executions(api, tenant, flow_id=flow["id"])) == 2

    bad = b'{"contact": {"phone": "123"}}'
    invalid = await api.post(hook["url"], content=bad, headers=signed(hook["secret"], bad))
    assert invalid.status_code == 422, invalid.text
    assert "$.contact.phone" in [d["path"] for d in invalid.json()["error"]["details"]]

    rotated = await make_hook(api, tenant, flow["id"])
    stale = await api.post(hook["url"], content=body, headers=signed(hook["secret"], body))
    assert stale.status_code == 404
    old_secret = await api.post(rotated["url"], content=body, headers=signed(hook["secret"], body))
    assert old_secret.status_code == 403
    gone = await api.delete(f"/api/flows/{flow['id']}/event-hook", headers=tenant.auth("manager"))
    assert gone.status_code == 204
    after = await api.post(rotated["url"], content=body, headers=signed(rotated["secret"], body))
    assert after.status_code == 404


async def test_only_event_flows_get_a_hook_and_only_in_their_tenant(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    manual = await make_flow(api, tenant, name="By hand", trigger={"type": "manual"})
    response = await api.post(f"/api/flows/{manual['id']}/event-hook", headers=tenant.auth())
    assert response.status_code == 422, response.text
    flow = await make_flow(api, tenant, name="Ev", trigger=event_trigger("x.y"))
    theirs = await api.post(f"/api/flows/{flow['id']}/event-hook", headers=other_tenant.auth())
    assert theirs.status_code == 404


async def test_a_key_whose_post_died_unanswered_is_taken_over_by_a_later_retry(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    """A process killed between claiming a key and storing its answer leaves the claim
    unanswered: a retry soon after is told to retry later (the post may still be running);
    once the claim is stale the retry handles the event, and the flow's cooldown keeps the
    contact from entering the flow a second time."""
    flow = await event_flow(api, tenant, "Thanks", event_trigger("order.created"))
    body = {"contact": MEERA, "payload": ORDER}
    key = uuid.uuid4().hex
    first = await post_event(api, tenant, "order.created", body, key=key)
    assert first.status_code == 200, first.text
    [started] = first.json()["started"]

    def died_unanswered(ago: timedelta) -> None:
        with Session(engine) as session:
            session.execute(
                sa.update(EventPost)
                .where(col(EventPost.idempotency_key) == key)
                .values(result=sa.null(), created_at=utcnow() - ago)
            )
            session.commit()

    died_unanswered(timedelta(seconds=30))
    busy = await post_event(api, tenant, "order.created", body, key=key)
    assert busy.status_code == 409, busy.text
    assert "being handled" in busy.json()["error"]["message"]

    died_unanswered(STALE_CLAIM + timedelta(seconds=1))
    retried = await post_event(api, tenant, "order.created", body, key=key)
    assert retried.status_code == 200, retried.text
    assert retried.json()["started"] == []
    [skipped] = retried.json()["skipped"]
    assert (skipped["flow_id"], "cooldown" in skipped["reason"]) == (flow["id"], True)
    listed = await executions(api, tenant, flow_id=flow["id"])
    ran = [e["id"] for e in listed if e["status"] != "skipped"]
    assert ran == [started["execution_id"]]
    # and the retry's answer is the key's answer from now on
    again = await post_event(api, tenant, "order.created", body, key=key)
    assert again.json() == retried.json()


async def test_a_key_is_remembered_for_a_day_then_free_again(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    """Within `KEY_TTL` a key answers as it first did, even for another body (409); after it,
    the key is new again (a post with it handles its event), and the sweep's
    `forget_expired` deletes claims that old and keeps the rest."""
    await event_flow(api, tenant, "Thanks", event_trigger("order.created"), cooldown_minutes=0)
    key, fresh = uuid.uuid4().hex, uuid.uuid4().hex
    body = {"contact": MEERA, "payload": ORDER}
    first = await post_event(api, tenant, "order.created", body, key=key)
    assert first.status_code == 200, first.text
    other = {"contact": MEERA, "payload": {**ORDER, "order_id": "A-2002"}}
    reused = await post_event(api, tenant, "order.created", other, key=key)
    assert reused.status_code == 409, reused.text
    assert (await post_event(api, tenant, "order.created", body, key=fresh)).status_code == 200

    def age(of: str, ago: timedelta) -> None:
        with Session(engine) as session:
            session.execute(
                sa.update(EventPost)
                .where(col(EventPost.idempotency_key) == of)
                .values(created_at=utcnow() - ago)
            )
            session.commit()

    age(key, KEY_TTL + timedelta(minutes=1))
    later = await post_event(api, tenant, "order.created", other, key=key)
    assert later.status_code == 200, later.text
    [started] = later.json()["started"]
    assert started["execution_id"] != first.json()["started"][0]["execution_id"]

    age(key, KEY_TTL + timedelta(minutes=1))
    assert forget_expired(engine) == 1
    with Session(engine) as session:
        kept = session.exec(sa.select(EventPost.idempotency_key)).scalars().all()  # type: ignore[call-overload]
    assert key not in kept and fresh in kept
