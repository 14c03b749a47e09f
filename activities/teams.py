"""The `teams` step: post a card to a Microsoft Teams channel through its incoming webhook.

The webhook's URL is the connection's secret (auth `webhook_url`): anyone who has it can
post. A Teams workflow's webhook ("When a Teams webhook request is received") takes an
Adaptive Card as a message attachment and answers 202; an Office 365 connector's incoming
webhook takes a MessageCard and answers 200 with `1`, or 200 with an error's text
("Webhook message delivery failed with error: …", "… HTTP error 429 …").
"""

from __future__ import annotations

from typing import Any

from activities.step import StepContext, handles, parse_config
from activities.vendor import RATE_LIMITED, Vendor, open_vendor
from schemas.execution import ActionOutput
from schemas.flow import TeamsConfig

OPERATION = "incoming webhook"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def adaptive_card(config: TeamsConfig) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": config.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    if config.text:
        body.append({"type": "TextBlock", "text": config.text, "wrap": True})
    if config.facts:
        facts = [{"title": f.name, "value": f.value} for f in config.facts]
        body.append({"type": "FactSet", "facts": facts})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


def message_card(config: TeamsConfig) -> dict[str, Any]:
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": config.title,
        "title": config.title,
    }
    if config.text:
        card["text"] = config.text
    if config.facts:
        card["sections"] = [{"facts": [{"name": f.name, "value": f.value} for f in config.facts]}]
    return card


def _delivery_error(text: str) -> str | None:
    """The error an Office 365 connector reports in a 200's body, if it does."""
    lowered = text.lower()
    return text if "error" in lowered or "failed" in lowered else None


async def _post(vendor: Vendor, config: TeamsConfig) -> int:
    card = adaptive_card(config) if config.card == "adaptive" else message_card(config)
    response = await vendor.request(
        OPERATION, method="POST", url=vendor.secret["url"], json_body=card
    )
    text = response.text().strip()
    if response.status >= 400:
        raise vendor.refused(OPERATION, response, None, text[:300] or None)
    error = _delivery_error(text)
    if error is not None:
        if "429" in error:
            raise vendor.failure(
                OPERATION,
                f"Teams is rate limiting the webhook: {error[:300]}",
                retryable=True,
                status=response.status,
                code="rate_limited",
                type=RATE_LIMITED,
            )
        raise vendor.failure(
            OPERATION,
            f"Teams refused the card: {error[:300]}",
            retryable=False,
            status=response.status,
        )
    return response.status


@handles("teams")
async def perform_teams(ctx: StepContext) -> ActionOutput:
    config = parse_config(TeamsConfig, ctx)
    vendor = await open_vendor(
        ctx, connection=config.connection, integration="teams", label="Microsoft Teams"
    )
    status = await _post(vendor, config)
    return ActionOutput(port="sent", result={"status": status, "card": config.card})
