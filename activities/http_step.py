"""The `http` step: one request to a public (or allow-listed) address, presenting the
credentials of an `http` connection when it names one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio.exceptions import ApplicationError

from activities.net import (
    HTTP_STATUS_ERROR,
    guarded_request,
    is_retryable_status,
    with_idempotency_key,
)
from activities.step import StepContext, handles, parse_config, step_error
from activities.vendor import open_vendor, scrub
from schemas.connections import auth_headers
from schemas.execution import ActionOutput
from schemas.flow import HttpConfig

DEFAULT_TIMEOUT_S = 10.0


def _body_arguments(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if isinstance(body, str):
        return {"content": body}
    return {"json_body": body}


@dataclass(frozen=True)
class _Credentials:
    """What the step's connection adds to the request, and what is masked because of it."""

    headers: dict[str, str] = field(default_factory=dict)
    fragments: tuple[str, ...] = field(default=(), repr=False)

    def scrub(self, value: Any) -> Any:
        return scrub(value, self.fragments) if self.fragments else value


async def _credentials(ctx: StepContext, config: HttpConfig) -> _Credentials:
    """The headers the step's connection adds (they replace the step's own of the same
    names); its secret, and those headers' values (a basic pair in base64), are masked in
    the step's result and errors."""
    if config.connection is None:
        return _Credentials()
    vendor = await open_vendor(ctx, connection=config.connection, integration="http", label="HTTP")
    headers = auth_headers(vendor.connection)
    encoded = [value.split(" ", 1)[-1] for value in headers.values()]
    return _Credentials(headers=headers, fragments=(*encoded, *vendor.fragments))


def _merged(headers: dict[str, str], credentials: dict[str, str]) -> dict[str, str]:
    replaced = {name.lower() for name in credentials}
    return {**{k: v for k, v in headers.items() if k.lower() not in replaced}, **credentials}


@handles("http")
async def perform_http(ctx: StepContext) -> ActionOutput:
    config = parse_config(HttpConfig, ctx)
    credentials = await _credentials(ctx, config)
    headers = _merged(config.headers, credentials.headers)
    # Header values and the URL's query may hold secrets: log the method and header names
    # only. At debug: the step's timeline record has its outcome, and one line per request
    # cost 1.7 % of a serving process at 50 runs a second (bench/README).
    ctx.log.debug("http.request", method=config.method, header_names=sorted(headers))
    try:
        response = await guarded_request(
            ctx,
            method=config.method,
            url=config.url,
            timeout_s=config.timeout_s or DEFAULT_TIMEOUT_S,
            headers=with_idempotency_key(headers, config.idempotency_header, ctx.data),
            params=config.query,
            **_body_arguments(config.body),
        )
    except ApplicationError as error:
        if not credentials.fragments:
            raise
        raise step_error(
            credentials.scrub(str(error)),
            type=error.type or HTTP_STATUS_ERROR,
            retryable=not error.non_retryable,
        ) from None
    if response.status >= 400:
        message = f"HTTP {response.status} from {response.host}: {response.excerpt()}"
        raise step_error(
            credentials.scrub(message),
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
    # An API that echoes the request (its headers, a debug field) would put the secret in
    # the step's result, and so in the timeline and `steps.<id>`.
    return ActionOutput(port="success", result=credentials.scrub(result))
