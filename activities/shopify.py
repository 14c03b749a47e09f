"""The `shopify` step: read an order, add tags or a note to it (Shopify's Admin REST API).

`{base_url}/admin/api/{api_version}/orders/{id}.json` with `X-Shopify-Access-Token` (an
`api_key` connection holds a custom app's Admin API token, an `oauth2` one an app's access
token). REST has no "add a tag": the step reads the order, and writes the whole `tags` (or
`note`) with `PUT {"order": {"id", "tags"}}` only when something is missing, so a retried
step adds nothing twice. Shopify's errors are `{"errors": "Not Found"}` or
`{"errors": {"field": ["message"]}}`; its 429 carries `Retry-After`.
"""

from __future__ import annotations

import re
from typing import Any

from activities.net import FetchedResponse
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from activities.vendor import Vendor, open_vendor
from schemas.execution import ActionOutput
from schemas.flow import ShopifyConfig

ORDER_ID = re.compile(r"^(?:gid://shopify/Order/)?(\d{1,20})$")


def _errors(body: Any) -> str | None:
    """Shopify's `errors`, a text or a field's messages, in one line."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, dict):
        return "; ".join(
            f"{field} {' '.join(map(str, messages if isinstance(messages, list) else [messages]))}"
            for field, messages in errors.items()
        )
    return str(errors) if errors else None


def _order(vendor: Vendor, operation: str, response: FetchedResponse) -> dict[str, Any]:
    body = response.json_or_text()
    found = body.get("order") if isinstance(body, dict) else None
    if response.status < 400 and isinstance(found, dict):
        return found
    if response.status < 400:
        raise vendor.refused(operation, response, None, "the answer holds no order")
    raise vendor.refused(operation, response, None, _errors(body))


def order_id(config: ShopifyConfig) -> str:
    """The order's numeric id, from a number or a `gid://shopify/Order/…`."""
    match = ORDER_ID.match(str(config.order_id).strip())
    if match is None:
        raise step_error(
            f"invalid shopify config: order_id: {config.order_id!r} is not an order's numeric id",
            type=INVALID_CONFIG,
            retryable=False,
        )
    return match.group(1)


async def _call(
    vendor: Vendor, operation: str, *, method: str, order: str, body: Any = None
) -> dict[str, Any]:
    version = vendor.settings.get("api_version", "2024-10")
    response = await vendor.request(
        operation,
        method=method,
        url=f"{vendor.base_url('')}/admin/api/{version}/orders/{order}.json",
        headers={"X-Shopify-Access-Token": _token(vendor)},
        json_body=body,
    )
    return _order(vendor, operation, response)


def _token(vendor: Vendor) -> str:
    secret = vendor.secret
    return secret["api_key"] if vendor.connection.auth == "api_key" else secret["access_token"]


def split_tags(tags: Any) -> list[str]:
    """Shopify's `tags`: one comma-separated text."""
    return [t.strip() for t in str(tags or "").split(",") if t.strip()]


def _summary(order: dict[str, Any]) -> dict[str, Any]:
    customer = order.get("customer")
    customer = customer if isinstance(customer, dict) else {}
    return {
        "order_id": order.get("id"),
        "name": order.get("name"),
        "email": order.get("email"),
        "financial_status": order.get("financial_status"),
        "fulfillment_status": order.get("fulfillment_status"),
        "total_price": order.get("total_price"),
        "currency": order.get("currency"),
        "tags": split_tags(order.get("tags")),
        "note": order.get("note"),
        "customer_id": customer.get("id"),
    }


async def add_tags(vendor: Vendor, config: ShopifyConfig, order: str) -> dict[str, Any]:
    current = split_tags((await _call(vendor, "get_order", method="GET", order=order)).get("tags"))
    known = {t.lower() for t in current}  # Shopify's tags are case-insensitive
    missing: list[str] = []
    for tag in (t.strip() for t in config.tags):
        if tag and tag.lower() not in known:
            known.add(tag.lower())
            missing.append(tag)
    if not missing:
        return {"order_id": int(order), "tags": current, "added": []}
    tags = ", ".join([*current, *missing])
    updated = await _call(
        vendor,
        "add_tags",
        method="PUT",
        order=order,
        body={"order": {"id": int(order), "tags": tags}},
    )
    return {
        "order_id": updated.get("id"),
        "tags": split_tags(updated.get("tags")),
        "added": missing,
    }


async def add_note(vendor: Vendor, config: ShopifyConfig, order: str) -> dict[str, Any]:
    assert config.note is not None
    line = config.note.strip()
    current = str((await _call(vendor, "get_order", method="GET", order=order)).get("note") or "")
    if line in current.splitlines():
        return {"order_id": int(order), "note": current, "added": False}
    note = f"{current}\n{line}" if current else line
    updated = await _call(
        vendor,
        "add_note",
        method="PUT",
        order=order,
        body={"order": {"id": int(order), "note": note}},
    )
    return {"order_id": updated.get("id"), "note": updated.get("note"), "added": True}


@handles("shopify")
async def perform_shopify(ctx: StepContext) -> ActionOutput:
    config = parse_config(ShopifyConfig, ctx)
    order = order_id(config)
    vendor = await open_vendor(
        ctx, connection=config.connection, integration="shopify", label="Shopify"
    )
    match config.action:
        case "get_order":
            result = _summary(await _call(vendor, "get_order", method="GET", order=order))
        case "add_tags":
            result = await add_tags(vendor, config, order)
        case "add_note":
            result = await add_note(vendor, config, order)
    return ActionOutput(port="success", result={"action": config.action, **vendor.scrub(result)})
