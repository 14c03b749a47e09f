"""The `slack` step against a local server that speaks Slack's Web API (chat.postMessage)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect
from tests.vendors import Answer, VendorServer

TOKEN = "xoxb-1234567890-abcdefghijklmnop"
POST = "/api/chat.postMessage"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Refund* issued"}}]


def _connect(seed: Seed, vendor: VendorServer, name: str = "team-slack") -> None:
    connect(
        seed,
        name=name,
        integration="slack",
        auth="bearer",
        secret={"token": TOKEN},
        settings={"base_url": f"{vendor.url}/api"},
    )


async def test_a_message_is_posted_with_the_bot_token(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer(
        "POST", POST, Answer(json={"ok": True, "channel": "C024BE91L", "ts": "1503435956.000247"})
    )
    config = {
        "connection": "team-slack",
        "channel": "C024BE91L",
        "text": "Refund issued",
        "blocks": BLOCKS,
    }

    output = await runner.perform(seed.action("slack", config), **ALLOW_LOOPBACK)

    [request] = vendor.requests("POST", POST)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {"channel": "C024BE91L", "text": "Refund issued", "blocks": BLOCKS}
    assert output.port == "sent"
    assert output.result == {"ok": True, "channel": "C024BE91L", "ts": "1503435956.000247"}
    step = seed.step(1)
    assert step is not None and (step.status, step.port) == ("success", "sent")


async def test_slack_refusing_with_ok_false_fails_the_step_with_its_error_code(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", POST, Answer(json={"ok": False, "error": "channel_not_found"}))
    config = {"connection": "team-slack", "channel": "C404", "text": "hello"}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("slack", config), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == "Slack refused chat.postMessage (HTTP 200): channel_not_found"
    step = seed.step(1)
    assert step is not None and step.error == raised.value.message
    assert TOKEN not in (step.error or "")


async def test_a_429_asks_temporal_to_retry_after_slacks_retry_after(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", POST, Answer(status=429, text="", headers={"Retry-After": "30"}))
    config = {"connection": "team-slack", "channel": "C1", "text": "hello"}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("slack", config), **ALLOW_LOOPBACK)

    assert not raised.value.non_retryable
    assert raised.value.type == "RateLimited"
    assert raised.value.next_retry_delay == timedelta(seconds=30)
    assert raised.value.message == (
        "Slack is rate limiting chat.postMessage (HTTP 429, Retry-After 30 s)"
    )


async def test_a_retryable_slack_error_is_retried_and_an_unknown_connection_is_not(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", POST, Answer(json={"ok": False, "error": "service_unavailable"}))
    config = {"connection": "team-slack", "channel": "C1", "text": "hello"}
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("slack", config), **ALLOW_LOOPBACK)
    assert not raised.value.non_retryable

    missing = {**config, "connection": "no-such-slack"}
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("slack", missing, seq=2), **ALLOW_LOOPBACK)
    assert raised.value.non_retryable
    assert raised.value.type == "ConnectionNotFound"
    assert "'no-such-slack'" in raised.value.message


async def test_the_base_url_passes_the_address_guard(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    config = {"connection": "team-slack", "channel": "C1", "text": "hello"}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("slack", config))  # loopback not allow-listed

    assert raised.value.type == "AddressNotAllowed"
    assert vendor.received == []


async def test_an_incoming_webhook_connection_posts_to_its_url(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    hook = "/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
    connect(
        seed,
        name="alerts-hook",
        integration="slack",
        auth="webhook_url",
        secret={"url": f"{vendor.url}{hook}"},
    )
    vendor.answer("POST", hook, Answer(text="ok"))
    config = {"connection": "alerts-hook", "channel": "#alerts", "text": "hello"}

    output = await runner.perform(seed.action("slack", config), **ALLOW_LOOPBACK)

    assert [r.json() for r in vendor.requests("POST", hook)] == [{"text": "hello"}]
    assert output.port == "sent"
