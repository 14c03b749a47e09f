"""The `crm_update` step: set fields on a Bitrix24 entity through its REST webhook.

Bitrix24 answers `{"result": true, "time": {...}}`, or an error such as
`{"error": "NOT_FOUND", "error_description": "Not found"}` with a 4xx status; when a portal is
over its request rate it answers 503 with `QUERY_LIMIT_EXCEEDED`, which a later retry fixes.
The webhook URL holds the portal's secret token, so it never appears in logs or errors.
"""

from __future__ import annotations

from typing import Any

from activities.net import (
    FetchedResponse,
    guarded_request,
    is_retryable_status,
    with_idempotency_key,
)
from activities.step import StepContext, handles, parse_config, step_error
from schemas.execution import ActionOutput
from schemas.flow import CrmUpdateConfig

CRM_ERROR = "CrmError"
TIMEOUT_S = 15.0
RETRYABLE_ERRORS = frozenset(
    {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "INTERNAL_SERVER_ERROR"}
)


def _bitrix_error(response: FetchedResponse) -> tuple[str, str] | None:
    """Bitrix's error code and description, if the answer is a Bitrix error."""
    body = response.json_or_text()
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"]), str(body.get("error_description") or "")
    return None


def _raise_failure(response: FetchedResponse, entity: str) -> None:
    error = _bitrix_error(response)
    if error is not None:
        code, description = error
        message = f"Bitrix24 refused crm.{entity}.update (HTTP {response.status}): {code}"
        if description:
            message += f": {description}"
        retryable = code in RETRYABLE_ERRORS or is_retryable_status(response.status)
    else:
        message = (
            f"Bitrix24 answered HTTP {response.status} to crm.{entity}.update: {response.excerpt()}"
        )
        retryable = is_retryable_status(response.status)
        code = None
    raise step_error(
        message,
        type=CRM_ERROR,
        retryable=retryable,
        details={"status": response.status, "error": code},
    )


@handles("crm_update")
async def perform_crm_update(ctx: StepContext) -> ActionOutput:
    config = parse_config(CrmUpdateConfig, ctx)
    ctx.log.info("crm.update", entity=config.entity, field_names=sorted(config.fields))
    response = await guarded_request(
        ctx,
        method="POST",
        url=f"{config.webhook_url.rstrip('/')}/crm.{config.entity}.update.json",
        timeout_s=TIMEOUT_S,
        json_body={"id": config.id, "fields": config.fields},
        headers=with_idempotency_key({}, config.idempotency_header, ctx.data),
    )
    if response.status >= 400 or _bitrix_error(response) is not None:
        _raise_failure(response, config.entity)
    body: Any = response.json_or_text()
    if not isinstance(body, dict) or body.get("result") is not True:
        raise step_error(
            f"Bitrix24 did not confirm crm.{config.entity}.update: {response.excerpt()}",
            type=CRM_ERROR,
            retryable=False,
            details={"status": response.status, "error": None},
        )
    return ActionOutput(
        port="success", result={"entity": config.entity, "id": config.id, "updated": True}
    )
