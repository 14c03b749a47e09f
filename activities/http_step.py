"""The `http` step: one request to a public (or allow-listed) address."""

from __future__ import annotations

from typing import Any

from activities.net import (
    HTTP_STATUS_ERROR,
    guarded_request,
    is_retryable_status,
    with_idempotency_key,
)
from activities.step import StepContext, handles, parse_config, step_error
from schemas.execution import ActionOutput
from schemas.flow import HttpConfig

DEFAULT_TIMEOUT_S = 10.0


def _body_arguments(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if isinstance(body, str):
        return {"content": body}
    return {"json_body": body}


@handles("http")
async def perform_http(ctx: StepContext) -> ActionOutput:
    config = parse_config(HttpConfig, ctx)
    # Header values and the URL's query may hold secrets: log the method and host only.
    ctx.log.info("http.request", method=config.method, header_names=sorted(config.headers))
    response = await guarded_request(
        ctx,
        method=config.method,
        url=config.url,
        timeout_s=config.timeout_s or DEFAULT_TIMEOUT_S,
        headers=with_idempotency_key(config.headers, config.idempotency_header, ctx.data),
        params=config.query,
        **_body_arguments(config.body),
    )
    if response.status >= 400:
        raise step_error(
            f"HTTP {response.status} from {response.host}: {response.excerpt()}",
            type=HTTP_STATUS_ERROR,
            retryable=is_retryable_status(response.status),
            details={"status": response.status},
        )
    result = {
        "status": response.status,
        "headers": response.headers,
        "body": response.json_or_text(),
        "truncated": response.truncated,
    }
    return ActionOutput(port="success", result=result)
