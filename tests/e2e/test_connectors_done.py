"""Issue 16's "done means" for connectors, as a user does it through the API, on both
database backends: a flow posts to Slack, looks the order up in PostgreSQL and refunds it on
Stripe, against local servers; the connections' secrets appear in no API answer, no log line
and no timeline record (the steps' stored rows are read as they are), even when the vendor
echoes one in an error; the dry run shows each call without making it."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.temporal import index_executions_if_possible
from schemas.settings import Settings
from store.models import ExecutionStep
from tests.api.helpers import TenantKeys, make_flow, wait_for_status
from tests.vendors import Answer, VendorServer, vendor_server
from worker import build_worker

SLACK_TOKEN = "xoxb-5555555555-e2eslacktokenvalue"
STRIPE_KEY = "sk_test_51He2eStripeSecretKey0000000"
DB_PASSWORD = "pg-e2e-Passw0rd-7731"
INTENT = "pi_3Ne2eIntent0000000000"


@pytest.fixture
async def api(
    engine: Engine, temporal_env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.model_validate(
        {
            "FLOWDECK_ENV": "test",
            "FLOWDECK_TASK_QUEUE": task_queue,
            "FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1,localhost",
        }
    )
    client = temporal_env.client
    app = create_app(settings=settings, engine=engine, temporal_client=client)
    await index_executions_if_possible(app.state, client)
    async with build_worker(client, engine=engine, settings=settings, task_queue=task_queue):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://flowdeck.test") as c:
            yield c


@pytest.fixture
def shop_db(postgres_url: str) -> Iterator[tuple[str, str]]:
    """A role with a password and an orders table it may read: (its database URL, the table)."""
    role, table = f"shop_{uuid.uuid4().hex[:8]}", f"orders_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as db:
        db.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD '{DB_PASSWORD}'"))
        db.execute(sa.text(f"CREATE TABLE {table} (id text, payment_intent text, refund int)"))
        db.execute(sa.text(f"INSERT INTO {table} VALUES ('A-77', '{INTENT}', 500)"))
        db.execute(sa.text(f"GRANT SELECT ON {table} TO {role}"))
    url = sa.engine.make_url(postgres_url)
    shop_url = url.set(drivername="postgresql", username=role, password=DB_PASSWORD)
    yield shop_url.render_as_string(hide_password=False), table
    with engine.begin() as db:
        db.execute(sa.text(f"DROP TABLE {table}"))
        db.execute(sa.text(f"DROP ROLE {role}"))
    engine.dispose()


def _flow(table: str) -> dict[str, Any]:
    return {
        "start": "notify",
        "nodes": [
            {
                "id": "notify",
                "type": "slack",
                "config": {
                    "connection": "team-slack",
                    "channel": "C024BE91L",
                    "text": "Refunding order {{ vars.order_id }} for {{ contact.name }}",
                },
                "transitions": {"sent": "lookup"},
            },
            {
                "id": "lookup",
                "type": "postgresql",
                "config": {
                    "connection": "shop-db",
                    "sql": f"SELECT payment_intent, refund FROM {table} WHERE id = :order_id",
                    "params": {"order_id": "{{ vars.order_id }}"},
                    "save_as": "order",
                },
                "transitions": {"success": "refund"},
            },
            {
                "id": "refund",
                "type": "stripe",
                "config": {
                    "connection": "stripe-live",
                    "action": "create_refund",
                    "payment_intent": "{{ vars.order[0].payment_intent }}",
                    "amount": "{{ vars.order[0].refund }}",
                    "reason": "requested_by_customer",
                },
                "transitions": {"success": "done", "error": "refund_failed"},
            },
            {
                "id": "refund_failed",
                "type": "end",
                "config": {"status": "failed", "reason": "refund refused"},
            },
            {"id": "done", "type": "end"},
        ],
    }


async def _connect(
    api: httpx.AsyncClient, tenant: TenantKeys, vendor: VendorServer, db_url: str
) -> list[dict[str, Any]]:
    bodies = [
        {
            "name": "team-slack",
            "integration": "slack",
            "auth": "bearer",
            "secret": {"token": SLACK_TOKEN},
            "settings": {"base_url": f"{vendor.url}/api"},
        },
        {
            "name": "shop-db",
            "integration": "postgresql",
            "auth": "database_url",
            "secret": {"url": db_url},
        },
        {
            "name": "stripe-live",
            "integration": "stripe",
            "auth": "api_key",
            "secret": {"api_key": STRIPE_KEY},
            "settings": {"base_url": vendor.url},
        },
    ]
    made = []
    for body in bodies:
        response = await api.post("/api/connections", json=body, headers=tenant.auth())
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


def _secrets_in(text: str) -> list[str]:
    return [s for s in (SLACK_TOKEN, STRIPE_KEY, DB_PASSWORD) if s in text]


def _stored_steps(engine: Engine, execution_id: str) -> str:
    """The execution's timeline rows as stored, results and errors included."""
    with Session(engine) as session:
        rows = session.exec(
            select(ExecutionStep).where(ExecutionStep.execution_id == execution_id)
        ).all()
        return json.dumps([row.model_dump(mode="json") for row in rows])


async def test_slack_postgresql_and_stripe_run_end_to_end_and_no_secret_leaks(
    api: httpx.AsyncClient,
    engine: Engine,
    make_tenant: Callable[[], TenantKeys],
    shop_db: tuple[str, str],
    product_logs: io.StringIO,
) -> None:
    tenant = make_tenant()
    db_url, table = shop_db
    async with vendor_server() as vendor:
        answers = await _connect(api, tenant, vendor, db_url)
        vendor.answer(
            "POST",
            "/api/chat.postMessage",
            Answer(json={"ok": True, "channel": "C024BE91L", "ts": "1712345678.000100"}),
        )
        vendor.answer(
            "POST",
            "/v1/refunds",
            Answer(
                json={
                    "id": "re_e2e",
                    "object": "refund",
                    "amount": 500,
                    "currency": "eur",
                    "payment_intent": INTENT,
                    "status": "succeeded",
                }
            ),
            # the next run's refund: Stripe refuses, quoting the key it was given
            Answer(
                status=401,
                json={
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"Invalid API Key provided: {STRIPE_KEY}",
                    }
                },
            ),
        )
        flow = await make_flow(api, tenant, _flow(table), name="Refunds")

        # the dry run shows each call and makes none
        dry = await api.post(
            f"/api/flows/{flow['id']}/test",
            json={
                "contact": {"name": "Asha"},
                # what the lookup would find: a dry run reads no database
                "variables": {
                    "order_id": "A-77",
                    "order": [{"payment_intent": "pi_x", "refund": 100}],
                },
            },
            headers=tenant.auth("manager"),
        )
        assert dry.status_code == 200, dry.text
        assert dry.json()["ends"] == "completed"
        assert dry.json()["steps"][2]["rendered"]["payment_intent"] == "pi_x"
        assert [s.get("calls") for s in dry.json()["steps"][:3]] == [
            {"integration": "slack", "action": "post_message", "connection": "team-slack"},
            {"integration": "postgresql", "action": "query", "connection": "shop-db"},
            {"integration": "stripe", "action": "create_refund", "connection": "stripe-live"},
        ]
        assert vendor.received == []
        assert [s for s in dry.json()["steps"] if "warning" in s] == []

        # the run: every step succeeds against the local servers and the real database
        started = await api.post(
            f"/api/flows/{flow['id']}/executions",
            json={"contact": {"name": "Asha"}, "variables": {"order_id": "A-77"}},
            headers=tenant.auth("manager"),
        )
        assert started.status_code == 201, started.text
        done = await wait_for_status(api, tenant, started.json()["id"], "completed", "failed")
        assert [(s["node_id"], s["status"], s["port"]) for s in done["steps"]] == [
            ("notify", "success", "sent"),
            ("lookup", "success", "success"),
            ("refund", "success", "success"),
            ("done", "success", None),
        ]
        assert done["steps"][1]["result"]["rows"] == [{"payment_intent": INTENT, "refund": 500}]
        assert done["steps"][2]["result"]["refund_id"] == "re_e2e"
        [slack] = vendor.requests("POST", "/api/chat.postMessage")
        assert slack.headers["authorization"] == f"Bearer {SLACK_TOKEN}"
        assert slack.json()["text"] == "Refunding order A-77 for Asha"
        [refund] = vendor.requests("POST", "/v1/refunds")
        assert refund.headers["authorization"] == f"Bearer {STRIPE_KEY}"
        assert refund.form() == {
            "payment_intent": INTENT,
            "amount": "500",
            "reason": "requested_by_customer",
        }
        assert refund.headers["idempotency-key"] == f"{started.json()['id']}:refund:1"

        # a refusal that quotes the key: the step fails by its error port, the key masked
        second = await api.post(
            f"/api/flows/{flow['id']}/executions",
            json={"contact": {"name": "Ben"}, "variables": {"order_id": "A-77"}},
            headers=tenant.auth("manager"),
        )
        refused = await wait_for_status(api, tenant, second.json()["id"], "completed", "failed")
        assert refused["status"] == "failed"
        failed = refused["steps"][2]
        assert (failed["node_id"], failed["status"], failed["port"]) == (
            "refund",
            "failed",
            "error",
        )
        assert "Stripe refused create_refund (HTTP 401)" in failed["error"]
        assert "Invalid API Key provided: ••••" in failed["error"]

    # no secret in any answer (each role's), stored step row, or log line
    texts = [json.dumps(answers), json.dumps(done), json.dumps(refused), dry.text]
    for role in ("admin", "viewer"):
        listed = await api.get("/api/connections", headers=tenant.auth(role))
        assert listed.status_code == 200
        texts.append(listed.text)
        for connection in listed.json():
            one = await api.get(f"/api/connections/{connection['id']}", headers=tenant.auth(role))
            texts.append(one.text)
    for execution in (done, refused):
        texts.append(_stored_steps(engine, execution["id"]))
        exported = await api.get(f"/api/executions/{execution['id']}", headers=tenant.auth())
        texts.append(exported.text)
    logged = product_logs.getvalue()
    assert "vendor.call" in logged  # the logs do flow
    texts.append(logged)
    assert [_secrets_in(text) for text in texts] == [[] for _ in texts]
