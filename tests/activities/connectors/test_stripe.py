"""The `stripe` step against a local server that speaks Stripe's REST API: the paths, the
form-encoded bodies and the answers of Stripe's API reference (its OpenAPI description,
github.com/stripe/openapi, was read for the parameter names; it is not vendored here)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect
from tests.vendors import Answer, VendorServer

KEY = "sk_test_51Habcdefghijklmnopqrstuv"
INTENT: dict[str, Any] = {
    "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
    "object": "payment_intent",
    "amount": 2000,
    "amount_received": 2000,
    "currency": "eur",
    "customer": "cus_NffrFeUfNV2Hib",
    "latest_charge": "ch_3MtwBwLkdIwHu7ix2Bq8cKxF",
    "status": "succeeded",
}
REFUND: dict[str, Any] = {
    "id": "re_1Nispe2eZvKYlo2Cd31jOCgZ",
    "object": "refund",
    "amount": 500,
    "currency": "eur",
    "payment_intent": INTENT["id"],
    "status": "succeeded",
}
# The parameters Stripe's reference lists for each call (a subset: what we may send).
REFUND_PARAMS = {"amount", "charge", "metadata", "payment_intent", "reason", "instructions_email"}
LIST_CUSTOMER_PARAMS = {"email", "limit", "starting_after", "ending_before", "created"}


def _connect(seed: Seed, vendor: VendorServer) -> None:
    connect(
        seed,
        name="stripe-live",
        integration="stripe",
        auth="api_key",
        secret={"api_key": KEY},
        settings={"base_url": vendor.url},
    )


async def test_find_customer_lists_customers_by_email(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    customer = {
        "id": "cus_NffrFeUfNV2Hib",
        "object": "customer",
        "email": "asha@example.com",
        "name": "Asha Rao",
    }
    vendor.answer(
        "GET",
        "/v1/customers",
        Answer(
            json={"object": "list", "data": [customer], "has_more": False, "url": "/v1/customers"}
        ),
    )
    config = {"connection": "stripe-live", "action": "find_customer", "email": "asha@example.com"}

    output = await runner.perform(seed.action("stripe", config), **ALLOW_LOOPBACK)

    [request] = vendor.requests("GET", "/v1/customers")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.query == {"email": "asha@example.com", "limit": "1"}
    assert set(request.query) <= LIST_CUSTOMER_PARAMS
    assert output.result == {
        "action": "find_customer",
        "found": True,
        "customer_id": "cus_NffrFeUfNV2Hib",
        "email": "asha@example.com",
        "name": "Asha Rao",
    }


async def test_get_payment_intent_and_refund_it_with_an_idempotency_key(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("GET", f"/v1/payment_intents/{INTENT['id']}", Answer(json=INTENT))
    vendor.answer("POST", "/v1/refunds", Answer(json=REFUND))

    got = await runner.perform(
        seed.action(
            "stripe",
            {
                "connection": "stripe-live",
                "action": "get_payment_intent",
                "payment_intent": INTENT["id"],
            },
        ),
        **ALLOW_LOOPBACK,
    )
    refund = {
        "connection": "stripe-live",
        "action": "create_refund",
        "payment_intent": INTENT["id"],
        "amount": "500",
        "reason": "requested_by_customer",
    }
    action = seed.action("stripe", refund, seq=2, node_id="refund")
    refunded = await runner.perform(action, **ALLOW_LOOPBACK)
    again = await runner.perform(action, attempt=2, **ALLOW_LOOPBACK)

    assert got.result["status"] == "succeeded" and got.result["amount"] == 2000
    first, second = vendor.requests("POST", "/v1/refunds")
    assert first.headers["content-type"] == "application/x-www-form-urlencoded"
    assert first.form() == {
        "payment_intent": INTENT["id"],
        "amount": "500",
        "reason": "requested_by_customer",
    }
    assert set(first.form()) <= REFUND_PARAMS
    key = f"{seed.execution_id}:refund:1"
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"] == key
    assert (
        refunded.result
        == again.result
        == {
            "action": "create_refund",
            "refund_id": REFUND["id"],
            "status": "succeeded",
            "amount": 500,
            "currency": "eur",
            "payment_intent": INTENT["id"],
        }
    )


async def test_stripes_error_is_the_steps_error(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    error = {
        "error": {
            "code": "resource_missing",
            "message": "No such payment_intent: 'pi_missing'",
            "param": "id",
            "type": "invalid_request_error",
        }
    }
    vendor.answer("GET", "/v1/payment_intents/pi_missing", Answer(status=404, json=error))
    config = {
        "connection": "stripe-live",
        "action": "get_payment_intent",
        "payment_intent": "pi_missing",
    }

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("stripe", config), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == (
        "Stripe refused get_payment_intent (HTTP 404): resource_missing: "
        "No such payment_intent: 'pi_missing'"
    )
    assert raised.value.details[0]["code"] == "resource_missing"


async def test_a_rate_limit_and_stripe_should_retry_are_honoured(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    limited = {
        "error": {
            "code": "rate_limit",
            "message": "Too many requests",
            "type": "invalid_request_error",
        }
    }
    vendor.answer(
        "POST", "/v1/refunds", Answer(status=429, json=limited, headers={"Retry-After": "4"})
    )
    refund = {
        "connection": "stripe-live",
        "action": "create_refund",
        "payment_intent": INTENT["id"],
    }
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("stripe", refund), **ALLOW_LOOPBACK)
    assert (raised.value.type, raised.value.non_retryable) == ("RateLimited", False)
    assert raised.value.next_retry_delay == timedelta(seconds=4)

    conflict = {
        "error": {"code": "lock_timeout", "message": "Try again", "type": "invalid_request_error"}
    }
    vendor.answer(
        "GET",
        f"/v1/payment_intents/{INTENT['id']}",
        Answer(status=409, json=conflict, headers={"Stripe-Should-Retry": "true"}),
    )
    get = {
        "connection": "stripe-live",
        "action": "get_payment_intent",
        "payment_intent": INTENT["id"],
    }
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("stripe", get, seq=2), **ALLOW_LOOPBACK)
    assert not raised.value.non_retryable  # a 409 is not retried, unless Stripe says so


async def test_a_refund_amount_that_is_not_a_whole_number_is_refused_before_any_call(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    refund = {
        "connection": "stripe-live",
        "action": "create_refund",
        "payment_intent": INTENT["id"],
        "amount": "12.50",
    }

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("stripe", refund), **ALLOW_LOOPBACK)

    assert (raised.value.type, raised.value.non_retryable) == ("InvalidConfig", True)
    assert vendor.received == []
