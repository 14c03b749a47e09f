"""One call to an OpenAI-compatible chat-completions endpoint, for the AI steps.

The endpoint, model, prices and key come from a connection of integration `openai` (the
step's `connection`, resolved in the execution's tenant): `POST {base_url}/chat/completions`
with `Authorization: Bearer <key>`. The call goes through the connectors' `Vendor`
(`activities.vendor`): the address guard of HTTP steps (the base URL is the user's; the
vendor SDK would bypass the guard, hence plain httpx), the connection's rate limit, a 429's
or a 503's `Retry-After`, and the key scrubbed from every error (OpenAI's own 401 quotes
part of it). Another 5xx is retryable as the step's `retry` says; another 4xx is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.net import FetchedResponse, is_retryable_status
from activities.step import INVALID_CONFIG, StepContext, step_error
from activities.vendor import Vendor, open_vendor

INTEGRATION = "openai"
LABEL = "The AI endpoint"
OPERATION = "chat completion"
AI_ANSWER_INVALID = "AiAnswerInvalid"
"""The model answered, but not as the step asked (not JSON, off the schema, not a label)."""

DEFAULT_TIMEOUT_S = 30.0


class ChatSettings(BaseModel):
    """What the AI steps read of an `openai` connection's settings."""

    model_config = ConfigDict(extra="ignore")

    base_url: str = Field(default="https://api.openai.com/v1", min_length=1)
    """Up to the version, e.g. `https://api.openai.com/v1`; `/chat/completions` is appended."""
    model: str | None = None
    """The model a step asks when it names none."""
    price_per_1k_input: float | None = Field(default=None, ge=0)
    price_per_1k_output: float | None = Field(default=None, ge=0)


@dataclass(frozen=True, kw_only=True)
class ChatEndpoint:
    """A resolved `openai` connection asking one model: where, with what key, at what price."""

    vendor: Vendor
    settings: ChatSettings
    model: str

    @property
    def connection(self) -> str:
        return self.vendor.connection.name

    def scrub(self, text: str) -> str:
        scrubbed: str = self.vendor.scrub(text)
        return scrubbed

    def cost(self, usage: dict[str, int]) -> float | None:
        """The call's cost at the connection's prices; None when it has none."""
        prices = (self.settings.price_per_1k_input, self.settings.price_per_1k_output)
        if prices == (None, None):
            return None
        spent = usage["prompt_tokens"] * (prices[0] or 0.0)
        spent += usage["completion_tokens"] * (prices[1] or 0.0)
        return round(spent / 1000, 8)

    def api_key(self) -> str:
        # `api_key` auth, or `bearer` (its `token`): both go as a bearer token.
        secret = self.vendor.secret
        return secret.get("api_key") or secret.get("token") or ""


@dataclass(frozen=True, kw_only=True)
class ChatAnswer:
    content: str
    finish_reason: str | None
    usage: dict[str, int]
    cost: float | None

    def record(self, endpoint: ChatEndpoint) -> dict[str, Any]:
        """What the step's result says of the call: model, connection, tokens and cost."""
        return {
            "connection": endpoint.connection,
            "model": endpoint.model,
            "finish_reason": self.finish_reason,
            "usage": self.usage,
            "cost": self.cost,
        }


def endpoint_of(vendor: Vendor, *, model: str | None) -> ChatEndpoint:
    """The connection as an endpoint asking `model` (default the connection's own)."""
    name = vendor.connection.name
    try:
        settings = ChatSettings.model_validate(vendor.settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise step_error(
            f"connection {name!r} has invalid settings: {problems}",
            type=INVALID_CONFIG,
            retryable=False,
        ) from None
    chosen = model or settings.model
    if not chosen:
        raise step_error(
            f"connection {name!r} has no model, and the step names none",
            type=INVALID_CONFIG,
            retryable=False,
        )
    return ChatEndpoint(vendor=vendor, settings=settings, model=chosen)


async def load_endpoint(ctx: StepContext, name: str, *, model: str | None) -> ChatEndpoint:
    """The tenant's `openai` connection named `name`, decrypted, asking `model` (default
    the connection's)."""
    vendor = await open_vendor(ctx, connection=name, integration=INTEGRATION, label=LABEL)
    return endpoint_of(vendor, model=model)


def _request_timeout_s() -> float:
    """Within the attempt's own timeout, so the step says the request timed out."""
    limit = activity.info().start_to_close_timeout if activity.in_activity() else None
    if limit is None:
        return DEFAULT_TIMEOUT_S
    return max(1.0, limit.total_seconds() - 1.0)


def _refused(response: FetchedResponse, endpoint: ChatEndpoint) -> ApplicationError:
    """An OpenAI-style error answer: `{"error": {"message", "type", "code"}}`."""
    body = response.json_or_text()
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or error.get("type") or "") or None
        text = str(error.get("message") or "") or None
    else:
        code, text = None, response.excerpt() or None
    message = f"{LABEL} refused the {OPERATION} (HTTP {response.status})"
    message += "".join(f": {part}" for part in (code, text) if part)
    return endpoint.vendor.failure(
        OPERATION,
        message,
        retryable=is_retryable_status(response.status),
        status=response.status,
        code=code,
    )


def _answer_of(response: FetchedResponse, endpoint: ChatEndpoint) -> ChatAnswer:
    body = response.json_or_text()
    try:
        choice = body["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        content = None
    if not isinstance(content, str):
        raise endpoint.vendor.failure(
            OPERATION,
            f"{LABEL}'s answer holds no message: {response.excerpt()}",
            retryable=True,
            status=response.status,
        )
    raw = body.get("usage")
    raw_usage: dict[str, Any] = raw if isinstance(raw, dict) else {}
    usage = {
        key: int(raw_usage.get(key) or 0)
        for key in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    usage["total_tokens"] = usage["total_tokens"] or (
        usage["prompt_tokens"] + usage["completion_tokens"]
    )
    return ChatAnswer(
        content=content,
        finish_reason=choice.get("finish_reason"),
        usage=usage,
        cost=endpoint.cost(usage),
    )


async def complete(endpoint: ChatEndpoint, body: dict[str, Any]) -> ChatAnswer:
    """Send one chat-completions request; the model's first choice, with its usage and cost."""
    response = await endpoint.vendor.request(
        OPERATION,
        method="POST",
        url=f"{endpoint.settings.base_url.rstrip('/')}/chat/completions",
        headers={"Authorization": f"Bearer {endpoint.api_key()}"},
        json_body=body,
        timeout_s=_request_timeout_s(),
    )
    if response.status >= 400:
        raise _refused(response, endpoint)
    answer = _answer_of(response, endpoint)
    endpoint.vendor.ctx.log.info(
        "ai.answered", model=endpoint.model, finish_reason=answer.finish_reason, **answer.usage
    )
    return answer


def parse_json_answer(answer: ChatAnswer, endpoint: ChatEndpoint) -> Any:
    """The answer's JSON value (a fenced ```json block unwrapped); not JSON is retryable,
    unless the answer was cut off at `max_tokens`."""
    text = answer.content.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        return json.loads(text)
    except ValueError as exc:
        if answer.finish_reason == "length":
            # The same limit would cut the next answer too: no retry can help.
            raise step_error(
                "the model's answer was cut off at max_tokens before its JSON ended",
                type=AI_ANSWER_INVALID,
                retryable=False,
            ) from None
        message = f"the model's answer is not JSON ({exc}): {excerpt(text)}"
        raise invalid_answer(endpoint, message) from None


def invalid_answer(endpoint: ChatEndpoint, message: str) -> ApplicationError:
    """The model did not answer as the step asked: a new sample may (the step's `retry`)."""
    return step_error(endpoint.scrub(message), type=AI_ANSWER_INVALID, retryable=True)


def excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"
