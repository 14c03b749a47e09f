"""The AI steps in real executions: a JSON answer saved into `vars` after a rate limit was
waited out, and a classification that a `split` routes on. Their histories are committed
(`ai_generate_retry_after`, `ai_classify_split`) for the replay tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from schemas.execution import ExecutionResult
from schemas.settings import Settings
from store.connections import create
from store.vault import Vault
from tests.fake_openai import (
    API_KEY,
    FakeChatServer,
    Received,
    Reply,
    error_reply,
    json_reply,
    serve_fake_openai,
)
from tests.workflows.conftest import Runner

END = {"id": "done", "type": "end"}


@pytest.fixture
async def chat(runner: Runner) -> AsyncIterator[FakeChatServer]:
    async with serve_fake_openai() as server:
        create(
            runner.engine,
            tenant_id=runner.tenant_id,
            name="gpt",
            integration="openai",
            auth="api_key",
            settings={
                "base_url": server.base_url,
                "model": "gpt-4o-mini",
                "price_per_1k_input": 0.15,
                "price_per_1k_output": 0.6,
            },
            secret={"api_key": API_KEY},
            vault=Vault.from_settings(Settings.model_validate({})),
        )
        yield server


async def test_generate_waits_out_a_rate_limit_and_saves_its_json_answer(
    runner: Runner, chat: FakeChatServer
) -> None:
    limited = error_reply(429, "Rate limit reached", kind="requests")
    limited.headers["Retry-After"] = "1"
    chat.then(limited, json_reply({"greeting": "Hi Asha", "tone": "warm"}))
    flow: dict[str, Any] = {
        "start": "write",
        "nodes": [
            {
                "id": "write",
                "type": "ai_generate",
                "config": {
                    "connection": "gpt",
                    "prompt": "Greet {{ contact.name }}.",
                    "output": "json",
                    "json_schema": {"type": "object", "required": ["greeting"]},
                    "save_as": "draft",
                },
                "retry": {"max_attempts": 2, "delay_s": 60},
                "transitions": {"success": "keep"},
            },
            {
                "id": "keep",
                "type": "set",
                "config": {"assign": {"line": "{{ vars.draft.greeting }}!"}},
                "transitions": {"next": "done"},
            },
            END,
        ],
    }

    handle = await runner.start(flow, contact={"name": "Asha"})
    result: ExecutionResult = await handle.result()

    assert result.status == "completed"
    assert result.vars["draft"] == {"greeting": "Hi Asha", "tone": "warm"}
    assert result.vars["line"] == "Hi Asha!"
    assert [r.user for r in chat.requests] == ["Greet Asha.", "Greet Asha."]
    write = runner.steps(handle)[0]
    assert (write.status, write.port, write.attempt) == ("success", "success", 2)
    assert write.result is not None and write.result["usage"]["total_tokens"] == 17
    await runner.save_history(handle, "ai_generate_retry_after")


def _by_keyword(request: Received) -> Reply:
    """The fake model: billing when the text speaks of money, technical when of a fault."""
    text = request.user.lower()
    label = "billing" if "invoice" in text or "refund" in text else "technical"
    return json_reply({"label": label, "confidence": 0.9})


ROUTED: dict[str, Any] = {
    "start": "classify",
    "nodes": [
        {
            "id": "classify",
            "type": "ai_classify",
            "config": {
                "connection": "gpt",
                "text": "{{ trigger.message }}",
                "labels": ["billing", "technical"],
            },
            "transitions": {"success": "route"},
        },
        {
            "id": "route",
            "type": "split",
            "config": {
                "cases": [
                    {
                        "port": "billing",
                        "when": {"var": "steps.classify.label", "op": "eq", "value": "billing"},
                    }
                ]
            },
            "transitions": {"billing": "to_billing", "else": "to_support"},
        },
        {"id": "to_billing", "type": "tag", "config": {"add": ["billing"]}},
        {"id": "to_support", "type": "tag", "config": {"add": ["support"]}},
    ],
}


@pytest.mark.parametrize(
    ("message", "branch"),
    [("Please refund my last invoice", "to_billing"), ("The app crashes on login", "to_support")],
)
async def test_a_split_routes_on_the_classified_label(
    runner: Runner, chat: FakeChatServer, message: str, branch: str
) -> None:
    chat.answer = _by_keyword

    handle = await runner.start(ROUTED, trigger={"type": "manual", "message": message})
    result: ExecutionResult = await handle.result()

    assert result.status == "completed"
    assert [node for node, _, _ in runner.path(handle)] == ["classify", "route", branch]
    classify = runner.steps(handle)[0]
    assert classify.result is not None
    assert (classify.result["label"], classify.result["confidence"]) == (
        "billing" if branch == "to_billing" else "technical",
        0.9,
    )
    if branch == "to_billing":
        await runner.save_history(handle, "ai_classify_split")
