"""The `slack` step: post a message with Slack's Web API (`chat.postMessage`).

With a bot token (auth `bearer`), `POST {base_url}/chat.postMessage` with
`Authorization: Bearer xoxb-…` and a JSON body. Slack answers HTTP 200 even when it refuses:
`{"ok": false, "error": "channel_not_found"}`; `ok: true` carries the message's `ts` and
`channel`. A connection of auth `webhook_url` (an incoming webhook, whose channel is fixed)
posts the same text and blocks to the webhook, which answers `ok` as plain text.
"""

from __future__ import annotations

from typing import Any

from activities.net import FetchedResponse
from activities.step import StepContext, handles, parse_config
from activities.vendor import Vendor, open_vendor
from schemas.execution import ActionOutput
from schemas.flow import SlackConfig

DEFAULT_BASE_URL = "https://slack.com/api"
OPERATION = "chat.postMessage"
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "service_unavailable", "fatal_error", "internal_error", "request_timeout"}
)
"""Slack's `error` codes that a later try may not meet."""


def _message(config: SlackConfig) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": config.channel}
    if config.text:
        body["text"] = config.text
    if config.blocks:
        body["blocks"] = config.blocks
    if config.thread_ts:
        body["thread_ts"] = config.thread_ts
    return body


def _refused(vendor: Vendor, response: FetchedResponse, body: Any) -> Exception:
    if isinstance(body, dict) and body.get("error"):
        code = str(body["error"])
        retryable = True if code in RETRYABLE_ERRORS else None
        return vendor.refused(OPERATION, response, code, None, retryable=retryable)
    return vendor.refused(OPERATION, response, None, None)


async def _post_with_token(vendor: Vendor, config: SlackConfig) -> dict[str, Any]:
    token = vendor.secret["token"]
    response = await vendor.request(
        OPERATION,
        method="POST",
        url=f"{vendor.base_url(DEFAULT_BASE_URL)}/{OPERATION}",
        headers={"Authorization": f"Bearer {token}"},
        json_body=_message(config),
    )
    body = response.json_or_text()
    if response.status >= 400 or not isinstance(body, dict) or body.get("ok") is not True:
        raise _refused(vendor, response, body)
    return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}


async def _post_to_webhook(vendor: Vendor, config: SlackConfig) -> dict[str, Any]:
    message = _message(config)
    message.pop("channel")  # an incoming webhook posts to its own channel
    response = await vendor.request(
        "incoming webhook", method="POST", url=vendor.secret["url"], json_body=message
    )
    if response.status >= 400:
        raise vendor.refused("incoming webhook", response, response.text().strip() or None, None)
    return {"ok": True, "channel": None, "ts": None}


@handles("slack")
async def perform_slack(ctx: StepContext) -> ActionOutput:
    config = parse_config(SlackConfig, ctx)
    vendor = await open_vendor(
        ctx, connection=config.connection, integration="slack", label="Slack"
    )
    if vendor.connection.auth == "webhook_url":
        result = await _post_to_webhook(vendor, config)
    else:
        result = await _post_with_token(vendor, config)
    return ActionOutput(port="sent", result=vendor.scrub(result))
