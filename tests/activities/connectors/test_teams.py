"""The `teams` step against a local server standing in for a Teams incoming webhook."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect
from tests.vendors import Answer, VendorServer

HOOK = "/workflows/a1b2c3d4e5f6/triggers/manual/paths/invoke"
SIG = "sig=Zx9SecretSignature000000"
CONFIG = {
    "connection": "ops-teams",
    "title": "Refund issued",
    "text": "A refund went out to Asha.",
    "facts": [{"name": "Amount", "value": "12.00 EUR"}, {"name": "Order", "value": "A-77"}],
}


def _connect(seed: Seed, vendor: VendorServer) -> str:
    url = f"{vendor.url}{HOOK}?api-version=2016-06-01&{SIG}"
    connect(seed, name="ops-teams", integration="teams", auth="webhook_url", secret={"url": url})
    return url


async def test_an_adaptive_card_is_posted_to_the_webhook(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", HOOK, Answer(status=202, text=""))

    output = await runner.perform(seed.action("teams", CONFIG), **ALLOW_LOOPBACK)

    [request] = vendor.requests("POST", HOOK)
    assert request.query["sig"] == "Zx9SecretSignature000000"
    message = request.json()
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert [block["type"] for block in card["body"]] == ["TextBlock", "TextBlock", "FactSet"]
    assert card["body"][0]["text"] == "Refund issued"
    assert card["body"][2]["facts"] == [
        {"title": "Amount", "value": "12.00 EUR"},
        {"title": "Order", "value": "A-77"},
    ]
    assert (output.port, output.result) == ("sent", {"status": 202, "card": "adaptive"})


async def test_a_message_card_for_an_office_365_connector(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", HOOK, Answer(text="1"))

    output = await runner.perform(
        seed.action("teams", {**CONFIG, "card": "message_card"}), **ALLOW_LOOPBACK
    )

    card = vendor.requests("POST", HOOK)[0].json()
    assert (card["@type"], card["title"], card["summary"]) == (
        "MessageCard",
        "Refund issued",
        "Refund issued",
    )
    assert card["sections"] == [
        {"facts": [{"name": "Amount", "value": "12.00 EUR"}, {"name": "Order", "value": "A-77"}]}
    ]
    assert output.port == "sent"


async def test_a_refused_card_fails_without_showing_the_webhook_url(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    url = _connect(seed, vendor)
    vendor.answer(
        "POST",
        HOOK,
        Answer(status=400, text=f"Bad payload for {url}: Summary or Text is required."),
    )

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("teams", CONFIG), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert "Microsoft Teams refused incoming webhook (HTTP 400)" in raised.value.message
    assert "Summary or Text is required." in raised.value.message
    assert "Zx9SecretSignature000000" not in raised.value.message
    assert "a1b2c3d4e5f6" not in raised.value.message
    step = seed.step(1)
    assert step is not None and "Zx9SecretSignature000000" not in (step.error or "")


async def test_throttling_is_retried_after_retry_after(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", HOOK, Answer(status=429, headers={"Retry-After": "2"}))

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("teams", CONFIG), **ALLOW_LOOPBACK)

    assert (raised.value.type, raised.value.non_retryable) == ("RateLimited", False)
    assert raised.value.next_retry_delay == timedelta(seconds=2)


async def test_a_legacy_connectors_error_in_a_200_is_a_failure(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer(
        "POST",
        HOOK,
        Answer(text="Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0"),
    )

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("teams", CONFIG), **ALLOW_LOOPBACK)

    assert (raised.value.type, raised.value.non_retryable) == ("RateLimited", False)
