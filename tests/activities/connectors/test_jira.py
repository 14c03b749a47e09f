"""The `jira` step against a local server that speaks Jira Cloud's REST API v3: the paths,
the bodies (Atlassian Document Format for rich text) and the answers of its reference
(developer.atlassian.com, "The Jira Cloud platform REST API": Issues, Issue comments)."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from activities.jira import adf
from tests.activities.conftest import Runner, Seed
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect
from tests.vendors import Answer, VendorServer

EMAIL = "ops@example.com"
API_TOKEN = "ATATT3xFfGF0abcdefghijklmnopqrstuvwxyz"
CREATED = {
    "id": "10002",
    "key": "SUP-42",
    "self": "https://acme.atlassian.net/rest/api/3/issue/10002",
}
ISSUE_FIELDS = {"project", "issuetype", "summary", "description", "labels", "priority"}
"""Issue fields of the create-issue example in Jira's reference that the step may send."""


def _connect(seed: Seed, vendor: VendorServer) -> None:
    connect(
        seed,
        name="support-jira",
        integration="jira",
        auth="basic",
        secret={"username": EMAIL, "password": API_TOKEN},
        settings={"base_url": vendor.url},
    )


def _doc(*paragraphs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": p} for p in paragraphs],
    }


def test_plain_text_becomes_an_adf_document() -> None:
    assert adf("Order A-77 refunded.\nAmount: 5 EUR\n\nThanks") == _doc(
        [
            {"type": "text", "text": "Order A-77 refunded."},
            {"type": "hardBreak"},
            {"type": "text", "text": "Amount: 5 EUR"},
        ],
        [{"type": "text", "text": "Thanks"}],
    )
    assert adf("\n\n") == {"type": "doc", "version": 1, "content": []}  # no empty text node
    assert adf("One\n\n\nTwo") == _doc(
        [{"type": "text", "text": "One"}], [{"type": "text", "text": "Two"}]
    )


async def test_an_issue_is_created_with_basic_auth_and_an_adf_description(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", "/rest/api/3/issue", Answer(status=201, json=CREATED))
    config = {
        "connection": "support-jira",
        "action": "create_issue",
        "project": "SUP",
        "issue_type": "Bug",
        "summary": "Refund failed for A-77",
        "description": "The customer was charged twice.",
        "labels": ["refund", "flowdeck"],
        "fields": {"priority": {"name": "High"}},
    }

    output = await runner.perform(seed.action("jira", config), **ALLOW_LOOPBACK)

    [request] = vendor.requests("POST", "/rest/api/3/issue")
    pair = base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {pair}"
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {
        "fields": {
            "project": {"key": "SUP"},
            "issuetype": {"name": "Bug"},
            "summary": "Refund failed for A-77",
            "description": _doc([{"type": "text", "text": "The customer was charged twice."}]),
            "labels": ["refund", "flowdeck"],
            "priority": {"name": "High"},
        }
    }
    assert set(request.json()["fields"]) <= ISSUE_FIELDS
    assert output.port == "success"
    assert output.result == {
        "action": "create_issue",
        "issue_id": "10002",
        "key": "SUP-42",
        "url": f"{vendor.url}/browse/SUP-42",
    }


async def test_a_comment_is_added_to_an_issue(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    comment = {
        "id": "10000",
        "self": "https://acme.atlassian.net/rest/api/3/issue/10002/comment/10000",
        "created": "2026-12-05T09:00:00.000+0000",
        "body": _doc([{"type": "text", "text": "Refunded."}]),
    }
    vendor.answer("POST", "/rest/api/3/issue/SUP-42/comment", Answer(status=201, json=comment))
    config = {
        "connection": "support-jira",
        "action": "add_comment",
        "issue": "SUP-42",
        "comment": "Refunded.",
    }

    output = await runner.perform(seed.action("jira", config), **ALLOW_LOOPBACK)

    [request] = vendor.requests("POST", "/rest/api/3/issue/SUP-42/comment")
    assert request.json() == {"body": _doc([{"type": "text", "text": "Refunded."}])}
    assert output.result == {
        "action": "add_comment",
        "issue": "SUP-42",
        "comment_id": "10000",
        "created": "2026-12-05T09:00:00.000+0000",
    }


async def test_jiras_error_messages_are_the_steps_error_without_the_token(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    refusal = {
        "errorMessages": [],
        "errors": {"issuetype": "Specify a valid issue type", "summary": f"bad {API_TOKEN}"},
    }
    vendor.answer("POST", "/rest/api/3/issue", Answer(status=400, json=refusal))
    config = {
        "connection": "support-jira",
        "action": "create_issue",
        "project": "SUP",
        "issue_type": "Nope",
        "summary": "x",
    }

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("jira", config), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == (
        "Jira refused create_issue (HTTP 400): issuetype: Specify a valid issue type; "
        "summary: bad ••••"
    )
    step = seed.step(1)
    assert step is not None and API_TOKEN not in (step.error or "")


async def test_a_429_asks_for_jiras_retry_after_and_a_5xx_is_retried(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    path = "/rest/api/3/issue/SUP-1/comment"
    vendor.answer(
        "POST",
        path,
        Answer(
            status=429,
            json={"errorMessages": ["Rate limit exceeded."]},
            headers={"Retry-After": "7"},
        ),
        Answer(status=502, json={"errorMessages": ["Internal server error"]}),
    )
    config = {
        "connection": "support-jira",
        "action": "add_comment",
        "issue": "SUP-1",
        "comment": "hi",
    }

    with pytest.raises(ApplicationError) as limited:
        await runner.perform(seed.action("jira", config), **ALLOW_LOOPBACK)
    with pytest.raises(ApplicationError) as failing:
        await runner.perform(seed.action("jira", config), attempt=2, **ALLOW_LOOPBACK)

    assert (limited.value.type, limited.value.non_retryable) == ("RateLimited", False)
    assert limited.value.next_retry_delay == timedelta(seconds=7)
    assert (failing.value.type, failing.value.non_retryable) == ("VendorError", False)
    assert failing.value.message == ("Jira refused add_comment (HTTP 502): Internal server error")
