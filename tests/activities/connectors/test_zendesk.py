"""The `zendesk` step against a local server that speaks Zendesk Support's Tickets API
(`/api/v2/tickets.json`, `/api/v2/tickets/{id}.json`, `{"ticket": {...}}` bodies, API-token
basic auth, its `{"error", "description", "details"}` answers), as Zendesk's reference shows."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect
from tests.vendors import Answer, VendorServer

API_TOKEN = "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv"
CREATE = "/api/v2/tickets.json"
BASIC = "Basic " + base64.b64encode(f"agent@example.com/token:{API_TOKEN}".encode()).decode()
TICKET: dict[str, Any] = {
    "id": 35436,
    "url": "https://example.zendesk.com/api/v2/tickets/35436.json",
    "subject": "Refund for order A-77",
    "status": "new",
    "priority": "high",
    "tags": ["refund", "vip"],
    "requester_id": 20978392,
}
# The ticket properties Zendesk's reference lets a request write (a subset: what we may send).
TICKET_WRITABLE = {
    "subject",
    "comment",
    "requester",
    "status",
    "priority",
    "tags",
    "additional_tags",
    "remove_tags",
    "type",
    "assignee_id",
    "group_id",
    "custom_fields",
}


def _connect(seed: Seed, vendor: VendorServer) -> None:
    connect(
        seed,
        name="support",
        integration="zendesk",
        auth="basic",
        secret={"username": "agent@example.com", "password": API_TOKEN},
        settings={"base_url": vendor.url},
    )


CREATE_CONFIG = {
    "connection": "support",
    "action": "create_ticket",
    "subject": "Refund for order A-77",
    "comment": "The customer asked for a refund.",
    "requester_email": "asha@example.com",
    "requester_name": "Asha Rao",
    "priority": "high",
    "tags": ["refund", "vip"],
}


async def test_a_ticket_is_created_once_however_often_it_is_sent(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", CREATE, Answer(status=201, json={"ticket": TICKET}))
    action = seed.action("zendesk", CREATE_CONFIG, node_id="ticket")

    output = await runner.perform(action, **ALLOW_LOOPBACK)
    await runner.perform(action, attempt=2, **ALLOW_LOOPBACK)

    first, second = vendor.requests("POST", CREATE)
    assert first.headers["authorization"] == BASIC
    assert first.json() == {
        "ticket": {
            "subject": "Refund for order A-77",
            "comment": {"body": "The customer asked for a refund.", "public": True},
            "requester": {"email": "asha@example.com", "name": "Asha Rao"},
            "priority": "high",
            "tags": ["refund", "vip"],
        }
    }
    assert set(first.json()["ticket"]) <= TICKET_WRITABLE
    key = f"{seed.execution_id}:ticket:1"
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"] == key
    assert output.result == {
        "action": "create_ticket",
        "ticket_id": 35436,
        "status": "new",
        "priority": "high",
        "subject": "Refund for order A-77",
        "tags": ["refund", "vip"],
    }


async def test_an_update_adds_a_private_comment_tags_and_a_status(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    solved = {**TICKET, "status": "solved", "tags": ["refund", "vip", "refunded"]}
    path = "/api/v2/tickets/35436.json"
    vendor.answer("PUT", path, Answer(json={"ticket": solved, "audit": {"id": 1}}))
    config = {
        "connection": "support",
        "action": "update_ticket",
        "ticket_id": "35436",
        "comment": "Refunded on Stripe.",
        "public": False,
        "status": "solved",
        "tags": ["refunded"],
    }

    output = await runner.perform(seed.action("zendesk", config), **ALLOW_LOOPBACK)

    [request] = vendor.requests("PUT", path)
    assert request.headers["authorization"] == BASIC
    assert "idempotency-key" not in request.headers  # an update is idempotent by itself
    assert request.json() == {
        "ticket": {
            "comment": {"body": "Refunded on Stripe.", "public": False},
            "status": "solved",
            "additional_tags": ["refunded"],
        }
    }
    assert set(request.json()["ticket"]) <= TICKET_WRITABLE
    assert output.result["status"] == "solved" and output.result["ticket_id"] == 35436


async def test_zendesks_error_is_the_steps_error(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    invalid = {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"requester": [{"description": "Requester: Email is not properly formatted"}]},
    }
    vendor.answer("POST", CREATE, Answer(status=422, json=invalid))
    missing_path = "/api/v2/tickets/404.json"
    not_found = {"error": "RecordNotFound", "description": "Not found"}
    vendor.answer("PUT", missing_path, Answer(status=404, json=not_found))

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("zendesk", CREATE_CONFIG), **ALLOW_LOOPBACK)
    assert raised.value.non_retryable
    assert raised.value.message == (
        "Zendesk refused create_ticket (HTTP 422): RecordInvalid: "
        "requester: Requester: Email is not properly formatted"
    )

    update = {
        "connection": "support",
        "action": "update_ticket",
        "ticket_id": 404,
        "status": "open",
    }
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("zendesk", update, seq=2), **ALLOW_LOOPBACK)
    assert raised.value.non_retryable
    assert (
        raised.value.message
        == "Zendesk refused update_ticket (HTTP 404): RecordNotFound: Not found"
    )


async def test_a_429_waits_for_zendesks_retry_after_and_a_5xx_is_retried(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer(
        "POST", CREATE, Answer(status=429, text="Too Many Requests", headers={"Retry-After": "93"})
    )
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("zendesk", CREATE_CONFIG), **ALLOW_LOOPBACK)
    assert (raised.value.type, raised.value.non_retryable) == ("RateLimited", False)
    assert raised.value.next_retry_delay == timedelta(seconds=93)

    path = "/api/v2/tickets/35436.json"
    vendor.answer("PUT", path, Answer(status=500, json={"error": "InternalError"}))
    update = {
        "connection": "support",
        "action": "update_ticket",
        "ticket_id": 35436,
        "status": "open",
    }
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("zendesk", update, seq=2), **ALLOW_LOOPBACK)
    assert not raised.value.non_retryable


async def test_a_refused_token_is_not_quoted(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer(
        "POST",
        CREATE,
        Answer(status=401, json={"error": f"Couldn't authenticate you with {API_TOKEN}"}),
    )

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("zendesk", CREATE_CONFIG), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == (
        "Zendesk refused create_ticket (HTTP 401): Couldn't authenticate you with ••••"
    )
    step = seed.step(1)
    assert step is not None and API_TOKEN not in (step.error or "")
