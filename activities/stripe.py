"""The `stripe` step: find a customer, read a PaymentIntent, refund one (Stripe's REST API).

`{base_url}/v1/…` with `Authorization: Bearer sk_…`; a POST's body is form-encoded, as
Stripe's API takes it, and carries the step's `Idempotency-Key` (the same for every attempt of
one visit of the step, `ActionInput.request_key`), so a retried refund is made once. Stripe's
errors are `{"error": {"type", "code", "message", "param"}}`; its `Stripe-Should-Retry`
header, when present, says whether trying again can help.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from activities.net import FetchedResponse
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from activities.vendor import Vendor, open_vendor
from schemas.execution import ActionOutput
from schemas.flow import IDEMPOTENCY_HEADER, StripeConfig

DEFAULT_BASE_URL = "https://api.stripe.com"


def _check(vendor: Vendor, operation: str, response: FetchedResponse) -> dict[str, Any]:
    """The answer's object, or the step error Stripe's answer describes."""
    body = response.json_or_text()
    if response.status < 400 and isinstance(body, dict):
        return body
    error = body.get("error") if isinstance(body, dict) else None
    code = message = None
    if isinstance(error, dict):
        code = str(error.get("code") or error.get("type") or "") or None
        message = str(error.get("message") or "") or None
    should_retry = response.headers.get("stripe-should-retry")
    retryable = should_retry == "true" if should_retry in ("true", "false") else None
    raise vendor.refused(operation, response, code, message, retryable=retryable)


async def _call(
    vendor: Vendor,
    operation: str,
    *,
    method: str,
    path: str,
    params: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {vendor.secret['api_key']}"}
    if idempotency_key:
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    response = await vendor.request(
        operation,
        method=method,
        url=f"{vendor.base_url(DEFAULT_BASE_URL)}{path}",
        headers=headers,
        params=params,
        form=form,
    )
    return _check(vendor, operation, response)


async def find_customer(vendor: Vendor, config: StripeConfig) -> dict[str, Any]:
    assert config.email is not None
    listed = await _call(
        vendor,
        "find_customer",
        method="GET",
        path="/v1/customers",
        params={"email": config.email, "limit": "1"},
    )
    customers = listed.get("data") or []
    if not customers:
        return {"found": False, "customer_id": None, "email": config.email, "name": None}
    customer = customers[0]
    return {
        "found": True,
        "customer_id": customer.get("id"),
        "email": customer.get("email"),
        "name": customer.get("name"),
    }


def _intent_path(config: StripeConfig) -> str:
    assert config.payment_intent is not None
    return f"/v1/payment_intents/{urllib.parse.quote(config.payment_intent, safe='')}"


async def get_payment_intent(vendor: Vendor, config: StripeConfig) -> dict[str, Any]:
    intent = await _call(vendor, "get_payment_intent", method="GET", path=_intent_path(config))
    return {
        "id": intent.get("id"),
        "status": intent.get("status"),
        "amount": intent.get("amount"),
        "amount_received": intent.get("amount_received"),
        "currency": intent.get("currency"),
        "customer": intent.get("customer"),
        "latest_charge": intent.get("latest_charge"),
    }


async def create_refund(vendor: Vendor, config: StripeConfig, key: str) -> dict[str, Any]:
    assert config.payment_intent is not None
    form = {"payment_intent": config.payment_intent}
    if config.amount not in (None, ""):
        amount = str(config.amount).strip()
        if not amount.isdigit() or int(amount) <= 0:
            raise step_error(
                f"invalid stripe config: amount: {amount!r} is not a whole number of the "
                "currency's smallest unit (cents)",
                type=INVALID_CONFIG,
                retryable=False,
            )
        form["amount"] = amount
    if config.reason:
        form["reason"] = config.reason
    refund = await _call(
        vendor, "create_refund", method="POST", path="/v1/refunds", form=form, idempotency_key=key
    )
    return {
        "refund_id": refund.get("id"),
        "status": refund.get("status"),
        "amount": refund.get("amount"),
        "currency": refund.get("currency"),
        "payment_intent": refund.get("payment_intent"),
    }


@handles("stripe")
async def perform_stripe(ctx: StepContext) -> ActionOutput:
    config = parse_config(StripeConfig, ctx)
    vendor = await open_vendor(
        ctx, connection=config.connection, integration="stripe", label="Stripe"
    )
    match config.action:
        case "find_customer":
            result = await find_customer(vendor, config)
        case "get_payment_intent":
            result = await get_payment_intent(vendor, config)
        case "create_refund":
            result = await create_refund(vendor, config, ctx.data.request_key)
    return ActionOutput(port="success", result={"action": config.action, **vendor.scrub(result)})
