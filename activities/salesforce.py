"""The `salesforce` step: create or update a Lead or Contact (Salesforce's REST API).

`{instance_url}/services/data/{api_version}/sobjects/{Lead|Contact}/…` with
`Authorization: Bearer <access token>`: `create` is `POST …/Lead/` (201 `{id, success}`),
`update` is `PATCH …/Lead/{id}` (204), `upsert` is `PATCH …/Lead/{External_Id__c}/{value}`
(201 created, or 200/204 updated). Salesforce's errors are a list
`[{"errorCode", "message", "fields"}]`.

An `oauth2` connection's access token expires; Salesforce then answers 401
`INVALID_SESSION_ID`, and the step refreshes the token once (`activities.oauth`: at the
connection's `token_url`, stored for the steps that follow) and tries the call again. Without
a refresh token, or when the refresh is refused (`invalid_grant`: the refresh token was
revoked), the step fails, not retried.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from activities.net import FetchedResponse
from activities.oauth import TokenKeeper
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from activities.vendor import Vendor, open_vendor
from schemas.connections import auth_headers
from schemas.execution import ActionOutput
from schemas.flow import SalesforceConfig

RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
EXPIRED = "INVALID_SESSION_ID"


def _error(body: Any) -> tuple[str | None, str | None]:
    """The code and message of Salesforce's answer, a list of errors."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0].get("errorCode"), body[0].get("message")
    return None, None


def _expired(response: FetchedResponse) -> bool:
    return response.status == 401 and _error(response.json_or_text())[0] == EXPIRED


async def _call(
    vendor: Vendor, operation: str, *, method: str, path: str, body: Any
) -> tuple[Vendor, FetchedResponse]:
    """The call (again once with a refreshed token when the session expired): the vendor to
    use from then on, and Salesforce's answer, a success."""
    version = vendor.settings.get("api_version", "v61.0")
    base = str(vendor.settings["instance_url"]).rstrip("/")
    keeper = TokenKeeper(vendor, expired=_expired)
    response = await keeper.request(
        operation,
        method=method,
        url=f"{base}/services/data/{version}/sobjects/{path}",
        headers=lambda current: auth_headers(current.connection),
        json_body=body,
    )
    if response.status >= 400:
        code, message = _error(response.json_or_text())
        raise keeper.vendor.refused(operation, response, code, message)
    return keeper.vendor, response


def _external_id(config: SalesforceConfig) -> str:
    """The external id as one path segment (quoted; `.` and `..` would climb the path)."""
    value = str(config.external_id).strip()
    if value in ("", ".", ".."):
        raise step_error(
            f"invalid salesforce config: external_id: {config.external_id!r} is not an id",
            type=INVALID_CONFIG,
            retryable=False,
        )
    return urllib.parse.quote(value, safe="")


def _record_id(config: SalesforceConfig) -> str:
    value = str(config.record_id or "").strip()
    if not RECORD_ID.match(value):
        raise step_error(
            f"invalid salesforce config: record_id: {config.record_id!r} is not a Salesforce id",
            type=INVALID_CONFIG,
            retryable=False,
        )
    return value


async def save_record(vendor: Vendor, config: SalesforceConfig) -> dict[str, Any]:
    obj = config.object
    match config.action:
        case "create":
            method, path = "POST", f"{obj}/"
        case "update":
            method, path = "PATCH", f"{obj}/{_record_id(config)}"
        case "upsert":
            method, path = "PATCH", f"{obj}/{config.external_id_field}/{_external_id(config)}"
    vendor, response = await _call(
        vendor, config.action, method=method, path=path, body=config.fields
    )
    answer = response.json_or_text() if response.content else {}
    saved = answer if isinstance(answer, dict) else {}
    record = saved.get("id") or (config.record_id if config.action == "update" else None)
    # An upsert answers 201 when it created the record; 200 `{created: false}` (or 204, before
    # API v46.0) when it updated one.
    created = bool(saved.get("created", response.status == 201))
    result: dict[str, Any] = vendor.scrub({"object": obj, "id": record, "created": created})
    return result


@handles("salesforce")
async def perform_salesforce(ctx: StepContext) -> ActionOutput:
    config = parse_config(SalesforceConfig, ctx)
    vendor = await open_vendor(
        ctx, connection=config.connection, integration="salesforce", label="Salesforce"
    )
    result = await save_record(vendor, config)
    return ActionOutput(port="success", result={"action": config.action, **result})
