"""The `shopify` step against a local server that speaks Shopify's Admin REST API: the order
resource (`/admin/api/<version>/orders/<id>.json`), its `X-Shopify-Access-Token` header, its
`{"order": {...}}` bodies and its `{"errors": ...}` answers, as Shopify's reference shows them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect
from tests.vendors import Answer, VendorServer

TOKEN = "shpat_0123456789abcdef0123456789abcdef"
ORDER_ID = 450789469
ORDER_PATH = f"/admin/api/2024-10/orders/{ORDER_ID}.json"
ORDER: dict[str, Any] = {
    "id": ORDER_ID,
    "name": "#1001",
    "email": "bob.norman@mail.example.com",
    "financial_status": "paid",
    "fulfillment_status": None,
    "total_price": "598.94",
    "currency": "USD",
    "tags": "imported, vip",
    "note": "Leave at the door",
    "customer": {"id": 207119551, "email": "bob.norman@mail.example.com"},
}
# The order fields the REST reference lets an update write (a subset: what we may send).
WRITABLE = {"id", "tags", "note", "email", "phone", "buyer_accepts_marketing", "metafields"}


def _connect(seed: Seed, vendor: VendorServer) -> None:
    connect(
        seed,
        name="shop",
        integration="shopify",
        auth="api_key",
        secret={"api_key": TOKEN},
        settings={"base_url": vendor.url},
    )


async def test_get_order_reads_the_order(runner: Runner, seed: Seed, vendor: VendorServer) -> None:
    _connect(seed, vendor)
    vendor.answer("GET", ORDER_PATH, Answer(json={"order": ORDER}))
    config = {
        "connection": "shop",
        "action": "get_order",
        "order_id": f"gid://shopify/Order/{ORDER_ID}",
    }

    output = await runner.perform(seed.action("shopify", config), **ALLOW_LOOPBACK)

    [request] = vendor.requests("GET", ORDER_PATH)
    assert request.headers["x-shopify-access-token"] == TOKEN
    assert "authorization" not in request.headers
    assert output.port == "success"
    assert output.result == {
        "action": "get_order",
        "order_id": ORDER_ID,
        "name": "#1001",
        "email": "bob.norman@mail.example.com",
        "financial_status": "paid",
        "fulfillment_status": None,
        "total_price": "598.94",
        "currency": "USD",
        "tags": ["imported", "vip"],
        "note": "Leave at the door",
        "customer_id": 207119551,
    }


async def test_add_tags_writes_the_missing_ones_once(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    tagged = {**ORDER, "tags": "imported, vip, refund-requested"}
    vendor.answer("GET", ORDER_PATH, Answer(json={"order": ORDER}), Answer(json={"order": tagged}))
    vendor.answer("PUT", ORDER_PATH, Answer(json={"order": tagged}))
    config = {
        "connection": "shop",
        "action": "add_tags",
        "order_id": str(ORDER_ID),
        "tags": ["VIP", "refund-requested", "Refund-Requested"],
    }

    first = await runner.perform(seed.action("shopify", config), **ALLOW_LOOPBACK)
    again = await runner.perform(seed.action("shopify", config, seq=2), **ALLOW_LOOPBACK)

    [put] = vendor.requests("PUT", ORDER_PATH)  # the second run found nothing missing
    assert put.headers["x-shopify-access-token"] == TOKEN
    assert put.json() == {"order": {"id": ORDER_ID, "tags": "imported, vip, refund-requested"}}
    assert set(put.json()["order"]) <= WRITABLE
    assert first.result == {
        "action": "add_tags",
        "order_id": ORDER_ID,
        "tags": ["imported", "vip", "refund-requested"],
        "added": ["refund-requested"],
    }
    assert again.result["added"] == []


async def test_add_note_appends_a_line(runner: Runner, seed: Seed, vendor: VendorServer) -> None:
    _connect(seed, vendor)
    noted = {**ORDER, "note": "Leave at the door\nRefund approved"}
    vendor.answer("GET", ORDER_PATH, Answer(json={"order": ORDER}))
    vendor.answer("PUT", ORDER_PATH, Answer(json={"order": noted}))
    config = {
        "connection": "shop",
        "action": "add_note",
        "order_id": ORDER_ID,
        "note": "Refund approved",
    }

    output = await runner.perform(seed.action("shopify", config), **ALLOW_LOOPBACK)

    [put] = vendor.requests("PUT", ORDER_PATH)
    assert put.json() == {"order": {"id": ORDER_ID, "note": "Leave at the door\nRefund approved"}}
    assert output.result == {
        "action": "add_note",
        "order_id": ORDER_ID,
        "note": "Leave at the door\nRefund approved",
        "added": True,
    }


async def test_shopifys_error_is_the_steps_error(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("GET", ORDER_PATH, Answer(json={"order": ORDER}))
    invalid = {"errors": {"tags": ["is too long (maximum is 255 characters)"]}}
    vendor.answer("PUT", ORDER_PATH, Answer(status=422, json=invalid))
    missing_path = "/admin/api/2024-10/orders/1.json"
    vendor.answer("GET", missing_path, Answer(status=404, json={"errors": "Not Found"}))
    tag = {"connection": "shop", "action": "add_tags", "order_id": ORDER_ID, "tags": ["x"]}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("shopify", tag), **ALLOW_LOOPBACK)
    assert raised.value.non_retryable
    assert raised.value.message == (
        "Shopify refused add_tags (HTTP 422): tags is too long (maximum is 255 characters)"
    )

    get = {"connection": "shop", "action": "get_order", "order_id": 1}
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("shopify", get, seq=2), **ALLOW_LOOPBACK)
    assert raised.value.non_retryable
    assert raised.value.message == "Shopify refused get_order (HTTP 404): Not Found"
    assert raised.value.details[0]["status"] == 404


async def test_a_429_waits_for_shopifys_retry_after_and_a_5xx_is_retried(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    throttled = {"errors": "Exceeded 2 calls per second for api client. Reduce request rates."}
    vendor.answer(
        "GET", ORDER_PATH, Answer(status=429, json=throttled, headers={"Retry-After": "2.0"})
    )
    config = {"connection": "shop", "action": "get_order", "order_id": ORDER_ID}
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("shopify", config), **ALLOW_LOOPBACK)
    assert (raised.value.type, raised.value.non_retryable) == ("RateLimited", False)
    assert raised.value.next_retry_delay == timedelta(seconds=2)
    assert raised.value.message == "Shopify is rate limiting get_order (HTTP 429, Retry-After 2 s)"

    broken = "/admin/api/2024-10/orders/2.json"
    vendor.answer("GET", broken, Answer(status=502, text="Bad Gateway"))
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(
            seed.action("shopify", {**config, "order_id": 2}, seq=2), **ALLOW_LOOPBACK
        )
    assert not raised.value.non_retryable
    assert raised.value.type == "VendorError"


async def test_a_bad_order_id_is_refused_before_any_call_and_no_token_is_quoted(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    config = {"connection": "shop", "action": "get_order", "order_id": "../customers"}
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("shopify", config), **ALLOW_LOOPBACK)
    assert (raised.value.type, raised.value.non_retryable) == ("InvalidConfig", True)
    assert vendor.received == []

    quoting = {"errors": f"[API] Invalid API key or access token (unrecognized login: {TOKEN})"}
    vendor.answer("GET", ORDER_PATH, Answer(status=401, json=quoting))
    get = {"connection": "shop", "action": "get_order", "order_id": ORDER_ID}
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("shopify", get, seq=2), **ALLOW_LOOPBACK)
    assert TOKEN not in raised.value.message
    assert "(unrecognized login: ••••)" in raised.value.message
    step = seed.step(2)
    assert step is not None and TOKEN not in (step.error or "")
