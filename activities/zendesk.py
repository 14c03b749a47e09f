"""The `zendesk` step: create a ticket, or update one (Zendesk Support's REST API).

`POST {base_url}/api/v2/tickets.json` creates (201 `{"ticket": {...}}`), `PUT
{base_url}/api/v2/tickets/{id}.json` updates (200), each with the body `{"ticket": {...}}`.
A `basic` connection is an agent's email and an API token, sent as Zendesk asks,
`{email}/token:{api_token}` (`schemas.connections.auth_headers` adds the `/token` when the
username lacks it, for the connection's test call as well); a `bearer` or `oauth2` one sends
its token. A create carries the step's `Idempotency-Key` (Zendesk
supports it on ticket creation), so a retried create makes one ticket. Zendesk's errors are
`{"error": "RecordInvalid", "description", "details": {field: [{"description"}]}}` (or
`{"error": "Couldn't authenticate you"}`); its 429 carries `Retry-After`.
"""

from __future__ import annotations

from typing import Any

from activities.net import FetchedResponse
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from activities.vendor import Vendor, open_vendor
from schemas.connections import auth_headers
from schemas.execution import ActionOutput
from schemas.flow import IDEMPOTENCY_HEADER, ZendeskConfig


def _details(body: dict[str, Any]) -> str | None:
    details = body.get("details")
    if not isinstance(details, dict):
        return None
    return "; ".join(
        f"{field}: {item.get('description')}"
        for field, items in details.items()
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
    )


def _ticket(vendor: Vendor, operation: str, response: FetchedResponse) -> dict[str, Any]:
    body = response.json_or_text()
    found = body.get("ticket") if isinstance(body, dict) else None
    if response.status < 400 and isinstance(found, dict):
        return found
    code = message = None
    if isinstance(body, dict):
        code = str(body.get("error") or "") or None
        message = _details(body) or str(body.get("description") or "") or None
    raise vendor.refused(operation, response, code, message)


def ticket_body(config: ZendeskConfig) -> dict[str, Any]:
    """The `ticket` object of a create or an update, from what the step sets."""
    ticket: dict[str, Any] = {}
    if config.subject:
        ticket["subject"] = config.subject
    if config.comment:
        ticket["comment"] = {"body": config.comment, "public": config.public}
    if config.requester_email:
        requester = {"email": config.requester_email}
        if config.requester_name:
            requester["name"] = config.requester_name
        ticket["requester"] = requester
    for name in ("status", "priority"):
        if value := getattr(config, name):
            ticket[name] = value
    if config.tags:
        # A create sets the tags; an update adds them to the ticket's own.
        ticket["tags" if config.action == "create_ticket" else "additional_tags"] = config.tags
    return ticket


def _ticket_id(config: ZendeskConfig) -> str:
    value = str(config.ticket_id).strip()
    if not value.isdigit():
        raise step_error(
            f"invalid zendesk config: ticket_id: {config.ticket_id!r} is not a ticket number",
            type=INVALID_CONFIG,
            retryable=False,
        )
    return value


async def save_ticket(vendor: Vendor, config: ZendeskConfig, key: str) -> dict[str, Any]:
    headers = auth_headers(vendor.connection)
    if config.action == "create_ticket":
        method, path = "POST", "/api/v2/tickets.json"
        headers[IDEMPOTENCY_HEADER] = key
    else:
        method, path = "PUT", f"/api/v2/tickets/{_ticket_id(config)}.json"
    response = await vendor.request(
        config.action,
        method=method,
        url=f"{vendor.base_url('')}{path}",
        headers=headers,
        json_body={"ticket": ticket_body(config)},
    )
    ticket = _ticket(vendor, config.action, response)
    return {
        "ticket_id": ticket.get("id"),
        "status": ticket.get("status"),
        "priority": ticket.get("priority"),
        "subject": ticket.get("subject"),
        "tags": ticket.get("tags"),
    }


@handles("zendesk")
async def perform_zendesk(ctx: StepContext) -> ActionOutput:
    config = parse_config(ZendeskConfig, ctx)
    vendor = await open_vendor(
        ctx, connection=config.connection, integration="zendesk", label="Zendesk"
    )
    result = await save_ticket(vendor, config, ctx.data.request_key)
    return ActionOutput(port="success", result={"action": config.action, **vendor.scrub(result)})
