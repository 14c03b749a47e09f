"""Connector steps run by the interpreter on a real Temporal server: a flow that posts to
Slack, looks an order up in PostgreSQL, refunds it on Stripe and tells Teams; and each
connector's retries, a 429's `Retry-After` included, through the activity's real retry policy.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from schemas.execution import ExecutionResult
from schemas.flow import FlowDocument
from tests.vendors import Answer, VendorServer, vendor_server
from tests.workflows.conftest import Runner
from tests.workflows.connectors import assert_a_429_is_waited_out, connect
from workflows.routing import timeout_of

SLACK_TOKEN = "xoxb-2222222222-workflowtesttoken"
STRIPE_KEY = "sk_test_51Hworkflowtestkey0000000"
HOOK = "/teams/hook/0f9e8d7c6b5a4f3e2d1c"
INTENT = "pi_3MtwBwLkdIwHu7ix28a3tqPa"


@pytest.fixture
def orders(postgres_url: str) -> Iterator[str]:
    table = f"orders_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as db:
        db.execute(sa.text(f"CREATE TABLE {table} (id text, payment_intent text, refund int)"))
        db.execute(sa.text(f"INSERT INTO {table} VALUES ('A-77', '{INTENT}', 500)"))
    yield table
    with engine.begin() as db:
        db.execute(sa.text(f"DROP TABLE {table}"))
    engine.dispose()


def _connect_all(runner: Runner, vendor: VendorServer, postgres_url: str) -> None:
    connect(
        runner,
        "slack",
        "slack",
        "bearer",
        {"token": SLACK_TOKEN},
        {"base_url": f"{vendor.url}/api"},
    )
    connect(
        runner, "stripe", "stripe", "api_key", {"api_key": STRIPE_KEY}, {"base_url": vendor.url}
    )
    connect(runner, "teams", "teams", "webhook_url", {"url": f"{vendor.url}{HOOK}"})
    db_url = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    connect(runner, "shop", "postgresql", "database_url", {"url": db_url})


def _answer_all(vendor: VendorServer) -> None:
    vendor.answer(
        "POST",
        "/api/chat.postMessage",
        Answer(json={"ok": True, "channel": "C1", "ts": "1700000000.000100"}),
    )
    vendor.answer(
        "POST",
        "/v1/refunds",
        Answer(
            json={
                "id": "re_1",
                "object": "refund",
                "amount": 500,
                "currency": "eur",
                "payment_intent": INTENT,
                "status": "succeeded",
            }
        ),
    )
    vendor.answer("POST", HOOK, Answer(status=202))


def _flow(table: str) -> dict[str, Any]:
    return {
        "start": "notify",
        "nodes": [
            {
                "id": "notify",
                "type": "slack",
                "config": {
                    "connection": "slack",
                    "channel": "C1",
                    "text": "Refund for order {{ vars.order_id }}",
                },
                "transitions": {"sent": "lookup"},
            },
            {
                "id": "lookup",
                "type": "postgresql",
                "config": {
                    "connection": "shop",
                    "sql": f"SELECT payment_intent, refund FROM {table} WHERE id = :order",
                    "params": {"order": "{{ vars.order_id }}"},
                    "save_as": "orders",
                },
                "transitions": {"success": "refund"},
            },
            {
                "id": "refund",
                "type": "stripe",
                "config": {
                    "connection": "stripe",
                    "action": "create_refund",
                    "payment_intent": "{{ vars.orders[0].payment_intent }}",
                    "amount": "{{ vars.orders[0].refund }}",
                },
                "transitions": {"success": "tell"},
            },
            {
                "id": "tell",
                "type": "teams",
                "config": {
                    "connection": "teams",
                    "title": "Refunded",
                    "facts": [{"name": "Refund", "value": "{{ steps.refund.refund_id }}"}],
                },
                "transitions": {"sent": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


async def test_slack_postgresql_stripe_and_teams_in_one_flow(
    runner: Runner, postgres_url: str, orders: str
) -> None:
    async with vendor_server() as vendor:
        _connect_all(runner, vendor, postgres_url)
        _answer_all(vendor)
        handle = await runner.start(_flow(orders), variables={"order_id": "A-77"})
        result: ExecutionResult = await handle.result()

        assert result.status == "completed", result.reason
        assert runner.path(handle) == [
            ("notify", "success", "sent"),
            ("lookup", "success", "success"),
            ("refund", "success", "success"),
            ("tell", "success", "sent"),
            ("done", "success", None),
        ]
        assert result.vars["orders"] == [{"payment_intent": INTENT, "refund": 500}]
        [refund] = vendor.requests("POST", "/v1/refunds")
        assert refund.form() == {"payment_intent": INTENT, "amount": "500"}
        [card] = vendor.requests("POST", HOOK)
        assert card.json()["attachments"][0]["content"]["body"][-1]["facts"] == [
            {"title": "Refund", "value": "re_1"}
        ]
        await runner.save_history(handle, "connectors_slack_postgresql_stripe_teams")


RATE_LIMITED_STEPS: dict[str, tuple[dict[str, Any], str, str, Answer]] = {
    "slack": (
        {"connection": "slack", "channel": "C1", "text": "hi"},
        "sent",
        "/api/chat.postMessage",
        Answer(json={"ok": True, "channel": "C1", "ts": "1.2"}),
    ),
    "teams": ({"connection": "teams", "title": "hi"}, "sent", HOOK, Answer(status=202)),
    "stripe": (
        {"connection": "stripe", "action": "create_refund", "payment_intent": INTENT},
        "success",
        "/v1/refunds",
        Answer(json={"id": "re_2", "status": "succeeded"}),
    ),
}


@pytest.mark.parametrize("step_type", sorted(RATE_LIMITED_STEPS))
async def test_a_429_is_retried_after_the_vendors_retry_after(
    runner: Runner, postgres_url: str, step_type: str
) -> None:
    config, port, path, success = RATE_LIMITED_STEPS[step_type]
    async with vendor_server() as vendor:
        _connect_all(runner, vendor, postgres_url)
        await assert_a_429_is_waited_out(
            runner,
            vendor,
            step_type=step_type,
            config=config,
            port=port,
            method="POST",
            path=path,
            then=[success],
        )


async def test_a_vendor_error_after_its_retries_leaves_by_the_error_port(
    runner: Runner, postgres_url: str
) -> None:
    async with vendor_server() as vendor:
        _connect_all(runner, vendor, postgres_url)
        unavailable = {"error": {"type": "api_error", "message": "Stripe is having trouble"}}
        vendor.answer(
            "POST",
            "/v1/refunds",
            Answer(status=500, json=unavailable),
            Answer(json={"id": "re_3", "status": "succeeded"}),
        )
        vendor.answer(
            "GET",
            "/v1/payment_intents/pi_gone",
            Answer(
                status=404,
                json={"error": {"code": "resource_missing", "message": "No such payment_intent"}},
            ),
        )
        flow = {
            "start": "refund",
            "nodes": [
                {
                    "id": "refund",
                    "type": "stripe",
                    "config": {
                        "connection": "stripe",
                        "action": "create_refund",
                        "payment_intent": INTENT,
                    },
                    "retry": {"max_attempts": 3, "delay_s": 0.1},
                    "transitions": {"success": "check"},
                },
                {
                    "id": "check",
                    "type": "stripe",
                    "config": {
                        "connection": "stripe",
                        "action": "get_payment_intent",
                        "payment_intent": "pi_gone",
                    },
                    "retry": {"max_attempts": 3, "delay_s": 0.1},
                    "transitions": {"success": "done", "error": "done"},
                },
                {"id": "done", "type": "end"},
            ],
        }
        handle = await runner.start(flow)
        result: ExecutionResult = await handle.result()

        assert result.status == "completed", result.reason
        first, second = vendor.requests("POST", "/v1/refunds")
        assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
        assert runner.path(handle)[:2] == [
            ("refund", "success", "success"),
            ("check", "failed", "error"),
        ]
        assert len(vendor.requests("GET", "/v1/payment_intents/pi_gone")) == 1  # not retried
        check = runner.steps(handle)[1]
        assert check.error == (
            "VendorError: Stripe refused get_payment_intent (HTTP 404): resource_missing: "
            "No such payment_intent"
        )


async def test_a_postgresql_serialization_failure_is_retried(
    runner: Runner, postgres_url: str
) -> None:
    sequence = f"tries_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as db:
        db.execute(sa.text(f"CREATE SEQUENCE {sequence}"))
    engine.dispose()
    async with vendor_server() as vendor:
        _connect_all(runner, vendor, postgres_url)
        # The first try conflicts (a sequence is not rolled back), the second succeeds.
        sql = (
            "DO $$ BEGIN IF nextval('" + sequence + "') = 1 THEN RAISE EXCEPTION 'conflict' "
            "USING ERRCODE = '40001'; END IF; END $$"
        )
        flow = {
            "start": "q",
            "nodes": [
                {
                    "id": "q",
                    "type": "postgresql",
                    "config": {"connection": "shop", "sql": sql},
                    "retry": {"max_attempts": 2, "delay_s": 0.1},
                    "transitions": {"success": "done"},
                },
                {"id": "done", "type": "end"},
            ],
        }
        handle = await runner.start(flow)
        result: ExecutionResult = await handle.result()

    assert result.status == "completed", result.reason
    step = runner.steps(handle)[0]
    assert (step.status, step.attempt) == ("success", 2)


def test_a_long_query_gets_an_attempt_long_enough_for_it() -> None:
    """The activity's attempt outlasts connecting plus the statement's own timeout."""
    node = FlowDocument.model_validate(
        {
            "start": "q",
            "nodes": [
                {
                    "id": "q",
                    "type": "postgresql",
                    "config": {"connection": "db", "sql": "SELECT 1", "timeout_s": 120},
                },
            ],
        }
    ).node("q")
    short = node.model_copy(update={"config": node.config.model_copy(update={"timeout_s": 2})})
    assert timeout_of(node) == timedelta(seconds=135)
    assert timeout_of(short) == timedelta(seconds=30)  # never under the default
