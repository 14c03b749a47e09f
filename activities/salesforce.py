"""The `salesforce` step: create or update a Lead or Contact (Salesforce's REST API).

`{instance_url}/services/data/{api_version}/sobjects/{Lead|Contact}/…` with
`Authorization: Bearer <access token>`: `create` is `POST …/Lead/` (201 `{id, success}`),
`update` is `PATCH …/Lead/{id}` (204), `upsert` is `PATCH …/Lead/{External_Id__c}/{value}`
(201 created, or 200/204 updated). Salesforce's errors are a list
`[{"errorCode", "message", "fields"}]`.

An `oauth2` connection's access token expires; Salesforce then answers 401
`INVALID_SESSION_ID`. With a `refresh_token` (and `client_id`, `token_url`, and the connected
app's `client_secret`) the step asks `token_url` for a new token
(`grant_type=refresh_token`), stores it (`store.connections.update_secret`, so the next
step uses it), and tries the call once more. Without one, or when the refresh is refused
(`invalid_grant`: the refresh token was revoked), the step fails, not retried.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import urllib.parse
from typing import Any

from activities.net import FetchedResponse
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from activities.vendor import Vendor, open_vendor, secret_fragments
from schemas.connections import ResolvedConnection
from schemas.execution import ActionOutput
from schemas.flow import SalesforceConfig
from store.connections import resolve, update_secret
from store.vault import Vault

RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
EXPIRED = "INVALID_SESSION_ID"


def _error(body: Any) -> tuple[str | None, str | None]:
    """The code and message of Salesforce's answer: a list of errors, or OAuth's one."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0].get("errorCode"), body[0].get("message")
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"]), body.get("error_description")
    return None, None


def _token(vendor: Vendor) -> str:
    secret = vendor.secret
    return secret["access_token"] if vendor.connection.auth == "oauth2" else secret["token"]


def can_refresh(vendor: Vendor) -> bool:
    secret = vendor.secret
    return vendor.connection.auth == "oauth2" and all(
        secret.get(name) for name in ("refresh_token", "client_id", "token_url")
    )


async def refreshed(vendor: Vendor) -> Vendor:
    """The vendor with a new access token: the one another step stored since this one read
    the connection, else a new one from the connection's `token_url`, stored."""
    stored = await _stored(vendor)
    if stored.secret.get("access_token") != vendor.secret.get("access_token"):
        return _using(vendor, stored)
    secret = vendor.secret
    form = {
        "grant_type": "refresh_token",
        "refresh_token": secret["refresh_token"],
        "client_id": secret["client_id"],
    }
    if secret.get("client_secret"):
        form["client_secret"] = secret["client_secret"]
    response = await vendor.request(
        "refresh_token", method="POST", url=secret["token_url"], form=form
    )
    body = response.json_or_text()
    token = body.get("access_token") if isinstance(body, dict) else None
    if response.status >= 400 or not isinstance(token, str) or not token:
        stored = await _stored(vendor)  # a step that refreshed meanwhile may have rotated it
        if stored.secret.get("access_token") != vendor.secret.get("access_token"):
            return _using(vendor, stored)
        code, message = _error(body)
        # `invalid_grant` (revoked) is a 400, not retried; the endpoint's 5xx is.
        raise vendor.refused("the token refresh", response, code, message)
    changes = {"access_token": token}
    if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
        changes["refresh_token"] = body["refresh_token"]  # when the app rotates them
    vendor.ctx.log.info(
        "vendor.token_refreshed", integration="salesforce", connection=vendor.connection.name
    )
    connection = await asyncio.to_thread(
        update_secret,
        vendor.ctx.engine,
        tenant_id=vendor.connection.tenant_id,
        connection_id=vendor.connection.id,
        changes=changes,
        vault=Vault.from_settings(vendor.ctx.settings),
    )
    return _using(vendor, connection)


async def _stored(vendor: Vendor) -> ResolvedConnection:
    """The connection as it is stored now."""
    return await asyncio.to_thread(
        resolve,
        vendor.ctx.engine,
        tenant_id=vendor.connection.tenant_id,
        name=vendor.connection.name,
        integration="salesforce",
        vault=Vault.from_settings(vendor.ctx.settings),
    )


def _using(vendor: Vendor, connection: ResolvedConnection) -> Vendor:
    """The vendor with the connection's new secret, masking the old one's values as well."""
    fragments = {*vendor.fragments, *secret_fragments(connection.secret)}
    return dataclasses.replace(
        vendor, connection=connection, fragments=tuple(sorted(fragments, key=len, reverse=True))
    )


async def _call(
    vendor: Vendor, operation: str, *, method: str, path: str, body: Any
) -> tuple[Vendor, FetchedResponse]:
    """The call, again once with a refreshed token when Salesforce says the session expired;
    the vendor to use from then on, and Salesforce's answer (a success)."""
    version = vendor.settings.get("api_version", "v61.0")
    base = str(vendor.settings["instance_url"]).rstrip("/")
    for attempt in (1, 2):
        response = await vendor.request(
            operation,
            method=method,
            url=f"{base}/services/data/{version}/sobjects/{path}",
            headers={"Authorization": f"Bearer {_token(vendor)}"},
            json_body=body,
        )
        if response.status < 400:
            return vendor, response
        code, message = _error(response.json_or_text())
        if response.status == 401 and code == EXPIRED and attempt == 1 and can_refresh(vendor):
            vendor = await refreshed(vendor)
            continue
        raise vendor.refused(operation, response, code, message)
    raise AssertionError("unreachable: the second try returns or raises")


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
