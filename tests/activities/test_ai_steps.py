"""The `ai_generate` and `ai_classify` steps against a local server in the shape of OpenAI's
chat-completions API, through a real `openai` connection (encrypted in the database)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from schemas.flow import FlowDocument
from store.connections import create
from store.vault import Vault
from tests.activities.conftest import Runner, Seed, make_settings, seed_tenant
from tests.fake_openai import (
    API_KEY,
    FakeChatServer,
    Reply,
    error_reply,
    json_reply,
    serve_fake_openai,
)

ALLOW_LOOPBACK: dict[str, Any] = {"FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1"}
MODEL = "gpt-4o-mini"


@pytest.fixture
async def chat() -> AsyncIterator[FakeChatServer]:
    async with serve_fake_openai() as server:
        yield server


def connect(seed: Seed, server: FakeChatServer, *, name: str = "gpt", **settings: Any) -> None:
    """An `openai` connection in the seed's tenant, pointed at the fake server."""
    create(
        seed.engine,
        tenant_id=seed.tenant_id,
        name=name,
        integration="openai",
        auth="api_key",
        settings={"base_url": server.base_url, "model": MODEL, **settings},
        secret={"api_key": API_KEY},
        vault=Vault.from_settings(make_settings()),
    )


PRICED = {"price_per_1k_input": 0.15, "price_per_1k_output": 0.6}


async def test_generate_sends_the_prompt_and_records_the_answer_tokens_and_cost(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat, **PRICED)
    chat.then(Reply(content="Hello Asha, thanks for your order.", prompt_tokens=20))
    config = {
        "connection": "gpt",
        "system": "You write short, warm replies.",
        "prompt": "Thank Asha for her order.",
        "temperature": 0.3,
        "max_tokens": 200,
    }

    output = await runner.perform(seed.action("ai_generate", config), **ALLOW_LOOPBACK)

    [request] = chat.requests
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.body == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You write short, warm replies."},
            {"role": "user", "content": "Thank Asha for her order."},
        ],
        "temperature": 0.3,
        "max_tokens": 200,
    }
    assert output.port == "success"
    assert output.result == {
        "output": "Hello Asha, thanks for your order.",
        "connection": "gpt",
        "model": MODEL,
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
        "cost": pytest.approx((20 * 0.15 + 5 * 0.6) / 1000),
    }
    step = seed.step(1)
    assert step is not None and step.status == "success"
    assert step.result is not None and step.result["usage"]["total_tokens"] == 25


async def test_a_bearer_connection_sends_its_token_and_the_steps_model_when_it_has_none(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    create(
        seed.engine,
        tenant_id=seed.tenant_id,
        name="local-llm",
        integration="openai",
        auth="bearer",
        settings={"base_url": chat.base_url},  # no default model
        secret={"token": API_KEY},
        vault=Vault.from_settings(make_settings()),
    )
    config = {"connection": "local-llm", "prompt": "Hi"}

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("ai_generate", config), **ALLOW_LOOPBACK)
    assert caught.value.non_retryable and "has no model" in caught.value.message
    assert chat.requests == []

    output = await runner.perform(
        seed.action("ai_generate", {**config, "model": "qwen2.5"}, seq=2), **ALLOW_LOOPBACK
    )
    assert chat.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"
    assert (chat.requests[0].body["model"], output.result["output"]) == ("qwen2.5", "Hi")


async def test_a_step_may_ask_another_model_and_a_connection_without_prices_costs_null(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)
    config = {"connection": "gpt", "prompt": "Hi", "model": "llama-3.1-8b"}

    output = await runner.perform(seed.action("ai_generate", config), **ALLOW_LOOPBACK)

    assert chat.requests[0].body["model"] == "llama-3.1-8b"
    assert (output.result["model"], output.result["cost"]) == ("llama-3.1-8b", None)


SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {
        "intent": {"type": "string", "enum": ["buy", "browse"]},
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
    },
    "required": ["intent", "score"],
}


def json_config(**overrides: Any) -> dict[str, Any]:
    return {
        "connection": "gpt",
        "prompt": "Summarise: I want two of them delivered Friday.",
        "output": "json",
        "json_schema": SUMMARY_SCHEMA,
        **overrides,
    }


async def test_generate_json_asks_for_json_to_the_schema_and_gives_the_parsed_value(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)
    chat.then(json_reply({"intent": "buy", "score": 87}))

    output = await runner.perform(seed.action("ai_generate", json_config()), **ALLOW_LOOPBACK)

    [request] = chat.requests
    assert request.body["response_format"] == {"type": "json_object"}
    assert "JSON" in request.system
    assert json.dumps(SUMMARY_SCHEMA, separators=(",", ":")) in request.system
    assert output.result["output"] == {"intent": "buy", "score": 87}


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ('{"intent": "buy", "score": 140}', "$.score: 140 is greater than the maximum of 100"),
        ('{"intent": "sell", "score": 1}', "$.intent: 'sell' is not one of ['buy', 'browse']"),
        ('{"score": 1}', "$: 'intent' is a required property"),
        ("Sure! Here it is: intent=buy", "the model's answer is not JSON"),
    ],
)
async def test_an_answer_that_is_not_json_or_off_the_schema_fails_the_attempt_retryably(
    runner: Runner, seed: Seed, chat: FakeChatServer, answer: str, problem: str
) -> None:
    connect(seed, chat)
    chat.then(Reply(content=answer))

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("ai_generate", json_config()), **ALLOW_LOOPBACK)

    assert caught.value.type == "AiAnswerInvalid"
    assert not caught.value.non_retryable  # a new sample may do; the step's retry bounds it
    assert problem in caught.value.message
    step = seed.step(1)  # running still: its retries are to come
    assert step is not None and problem in (step.error or "")


async def test_a_json_answer_cut_off_at_max_tokens_is_not_retried(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)
    chat.then(Reply(content='{"intent": "buy", "sco', finish_reason="length"))

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("ai_generate", json_config(max_tokens=8)), **ALLOW_LOOPBACK
        )

    assert caught.value.type == "AiAnswerInvalid" and caught.value.non_retryable
    assert "cut off at max_tokens" in caught.value.message


async def test_a_fenced_json_answer_is_accepted(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)
    chat.then(Reply(content='```json\n{"intent": "browse", "score": 3}\n```'))

    output = await runner.perform(seed.action("ai_generate", json_config()), **ALLOW_LOOPBACK)

    assert output.result["output"] == {"intent": "browse", "score": 3}


async def test_a_wrong_key_is_refused_without_retrying_and_the_key_is_never_repeated(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)
    chat.api_key = "sk-the-key-the-server-expects"  # ours is now wrong: OpenAI's 401

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("ai_generate", {"connection": "gpt", "prompt": "Hi"}), **ALLOW_LOOPBACK
        )

    error = caught.value
    assert error.non_retryable
    assert "HTTP 401" in error.message and "Incorrect API key provided" in error.message
    assert API_KEY not in error.message and API_KEY not in json.dumps(error.details, default=str)
    step = seed.step(1)
    assert step is not None and step.error is not None
    assert "invalid_api_key" in step.error and API_KEY not in step.error


async def test_a_bad_request_carries_the_vendors_message_and_is_not_retried(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)
    chat.then(
        error_reply(
            400,
            "max_tokens is too large: 900000. This model supports at most 16384.",
            kind="invalid_request_error",
        )
    )

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("ai_generate", {"connection": "gpt", "prompt": "Hi", "max_tokens": 900000}),
            **ALLOW_LOOPBACK,
        )

    assert caught.value.non_retryable
    assert caught.value.message == (
        "The AI endpoint refused the chat completion (HTTP 400): invalid_request_error: "
        "max_tokens is too large: 900000. This model supports at most 16384."
    )


async def test_a_rate_limit_is_retried_after_the_delay_its_retry_after_asks(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)
    limited = error_reply(429, "Rate limit reached for requests", kind="requests")
    limited.headers["Retry-After"] = "7"
    chat.then(limited)

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("ai_generate", {"connection": "gpt", "prompt": "Hi"}), **ALLOW_LOOPBACK
        )

    assert not caught.value.non_retryable
    assert caught.value.next_retry_delay == timedelta(seconds=7)


async def test_a_server_error_is_retryable(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)
    chat.then(error_reply(500, "The server had an error", kind="server_error"))

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("ai_generate", {"connection": "gpt", "prompt": "Hi"}), **ALLOW_LOOPBACK
        )

    assert not caught.value.non_retryable and "HTTP 500" in caught.value.message


async def test_a_connection_of_another_tenant_or_of_no_such_name_is_not_found(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    other = seed_tenant(seed.engine)
    connect(other, chat, name="theirs")

    for name in ("theirs", "missing"):
        with pytest.raises(ApplicationError) as caught:
            await runner.perform(
                seed.action("ai_generate", {"connection": name, "prompt": "Hi"}), **ALLOW_LOOPBACK
            )
        assert caught.value.type == "ConnectionNotFound" and caught.value.non_retryable
    assert chat.requests == []


async def test_the_endpoint_is_behind_the_address_guard(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("ai_generate", {"connection": "gpt", "prompt": "Hi"}))

    assert caught.value.type == "AddressNotAllowed" and caught.value.non_retryable
    assert chat.requests == []


# --- ai_classify -------------------------------------------------------------------------

LABELS = ["billing", "technical", "sales"]


def classify_config(**overrides: Any) -> dict[str, Any]:
    return {
        "connection": "gpt",
        "text": "I was charged twice for my invoice",
        "labels": LABELS,
        "instructions": "billing: payments and invoices.",
        **overrides,
    }


async def test_classify_asks_for_one_label_with_a_confidence_and_gives_both(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat, **PRICED)
    chat.then(json_reply({"label": "Billing", "confidence": 0.92}, prompt_tokens=60))

    output = await runner.perform(seed.action("ai_classify", classify_config()), **ALLOW_LOOPBACK)

    [request] = chat.requests
    assert request.user == "I was charged twice for my invoice"
    assert '["billing", "technical", "sales"]' in request.system
    assert "billing: payments and invoices." in request.system
    assert request.body["response_format"] == {"type": "json_object"}
    assert request.body["temperature"] == 0.0
    assert output.port == "success"
    assert output.result["label"] == "billing"  # the list's spelling
    assert output.result["confidence"] == 0.92
    assert output.result["usage"] == {
        "prompt_tokens": 60,
        "completion_tokens": 5,
        "total_tokens": 65,
    }
    assert output.result["cost"] == pytest.approx((60 * 0.15 + 5 * 0.6) / 1000)


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"label": "refund", "confidence": 0.9}, "label 'refund', which is not one of"),
        ({"label": "billing", "confidence": 7}, "confidence is not a number from 0 to 1"),
        ({"label": "billing"}, "confidence is not a number from 0 to 1"),
        (["billing"], "has no label"),
    ],
)
async def test_an_answer_outside_the_labels_fails_the_attempt(
    runner: Runner, seed: Seed, chat: FakeChatServer, answer: Any, problem: str
) -> None:
    connect(seed, chat)
    chat.then(json_reply(answer))

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("ai_classify", classify_config()), **ALLOW_LOOPBACK)

    assert caught.value.type == "AiAnswerInvalid" and not caught.value.non_retryable
    assert problem in caught.value.message


# --- validation --------------------------------------------------------------------------


def _problems(config: dict[str, Any], step_type: str) -> list[tuple[str, str]]:
    document = {"start": "a", "nodes": [{"id": "a", "type": step_type, "config": config}]}
    with pytest.raises(ValidationError) as caught:
        FlowDocument.model_validate(document)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in caught.value.errors()]


def test_a_json_schema_that_is_not_one_is_refused_when_the_flow_is_saved() -> None:
    config = json_config(json_schema={"type": "objekt"})
    [(path, message)] = _problems(config, "ai_generate")
    assert path.endswith("config.json_schema")
    assert "not a valid JSON Schema" in message and "objekt" in message


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"$ref": "https://example.com/schema.json"}, "only references within the schema"),
        ({"$ref": "#/$defs/missing"}, "points to nothing in the schema"),
        ({"patternProperties": {"^x": {}}}, "patternProperties: not supported"),
        ({"type": "string", "pattern": "(?=a)b"}, "not a regular expression RE2 accepts"),
        ({"$schema": "https://example.com/my-draft"}, "not a draft this checker knows"),
        ({"$schema": ["a list"]}, "not a draft this checker knows"),
    ],
)
def test_a_json_schema_the_worker_could_not_check_safely_is_refused(
    schema: dict[str, Any], problem: str
) -> None:
    [(path, message)] = _problems(json_config(json_schema=schema), "ai_generate")
    assert path.endswith("config.json_schema") and problem in message


async def test_a_pattern_runs_on_re2_so_a_crafted_answer_cannot_stall_the_worker(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}}
    chat.then(json_reply({"code": "a" * 64 + "!"}))  # exponential on a backtracking engine

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("ai_generate", json_config(json_schema=schema)), **ALLOW_LOOPBACK
        )

    assert caught.value.type == "AiAnswerInvalid"
    assert "$.code: " in caught.value.message and "does not match '^(a+)+$'" in caught.value.message


async def test_a_reference_to_an_anchor_that_is_not_there_fails_without_retrying(
    runner: Runner, seed: Seed, chat: FakeChatServer
) -> None:
    connect(seed, chat)
    chat.then(json_reply({"intent": "buy"}))
    config = json_config(json_schema={"$ref": "#no-such-anchor"})

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("ai_generate", config), **ALLOW_LOOPBACK)

    assert caught.value.type == "InvalidConfig" and caught.value.non_retryable
    assert "does not resolve" in caught.value.message


def test_a_json_schema_needs_json_output_and_classify_needs_two_distinct_labels() -> None:
    [(_, message)] = _problems(json_config(output="text"), "ai_generate")
    assert "json_schema needs `output: json`" in message
    [(path, _)] = _problems(classify_config(labels=["only"]), "ai_classify")
    assert path.endswith("config.labels")
    [(_, message)] = _problems(classify_config(labels=["Yes", "yes "]), "ai_classify")
    assert "labels must differ" in message
