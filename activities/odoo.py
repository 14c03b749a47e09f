"""The `odoo` step: read, find, create or update a record through Odoo's external API (JSON-RPC).

Every call is `POST {base_url}/jsonrpc` with `{"jsonrpc": "2.0", "method": "call", "params":
{"service", "method", "args"}}`: first `common.authenticate(db, login, password, {})` for
the user's id (`false` when the login or password is wrong), then
`object.execute_kw(db, uid, password, model, method, args, kwargs)`. The connection is
`basic` (the login and its password or API key); its settings give `base_url` and
`database`. Odoo answers HTTP 200 even when it refuses: `{"error": {"code", "message",
"data": {"name": "odoo.exceptions.AccessError", "message": …}}}`; that fails the step with
the exception's name and message.
"""

from __future__ import annotations

import json
from typing import Any

from activities.net import FetchedResponse
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from activities.vendor import Vendor, open_vendor
from schemas.execution import ActionOutput
from schemas.flow import MAX_ODOO_RECORDS, OdooConfig

SERVER = ""
"""No default: an Odoo connection's settings always give its server's `base_url`."""
RETRYABLE_ERRORS = ("SerializationFailure", "DeadlockDetected", "LockNotAvailable")
"""Odoo's database conflicts (the exception's name ends so), which a later try may not meet;
its other errors (access, validation, a missing record) a retry cannot fix."""


def _invalid(message: str) -> Exception:
    return step_error(f"invalid odoo config: {message}", type=INVALID_CONFIG, retryable=False)


def _ids(config: OdooConfig) -> list[int]:
    """The record ids: a number, a list, or text of comma-separated numbers (a template's)."""
    value: Any = config.ids
    if isinstance(value, str):
        value = [part.strip() for part in value.strip("[] ").split(",") if part.strip()]
    values = value if isinstance(value, list) else [value]
    ids = []
    for item in values:
        if isinstance(item, bool) or not str(item).isdigit():
            raise _invalid(f"ids: {item!r} is not a record id (a whole number)")
        ids.append(int(item))
    if not ids:
        raise _invalid("ids: no record id given")
    if len(ids) > MAX_ODOO_RECORDS:
        raise _invalid(f"ids: at most {MAX_ODOO_RECORDS} records at once, not {len(ids)}")
    return ids


def _json_value(config: OdooConfig, name: str, kind: type) -> Any:
    """A domain or values, which a template may have given as JSON text."""
    value = getattr(config, name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _invalid(f"{name}: not JSON") from None
    if not isinstance(value, kind):
        raise _invalid(f"{name}: must be a {'list' if kind is list else 'object'}")
    return value


def _refused(vendor: Vendor, operation: str, response: FetchedResponse, error: Any) -> Exception:
    data = error.get("data") if isinstance(error, dict) else None
    data = data if isinstance(data, dict) else {}
    name = str(data.get("name") or "") or None
    message = str(data.get("message") or (error or {}).get("message") or "") or None
    retryable = bool(name and name.endswith(RETRYABLE_ERRORS))
    return vendor.refused(operation, response, name, message, retryable=retryable)


async def _call(vendor: Vendor, operation: str, service: str, method: str, args: list[Any]) -> Any:
    """One JSON-RPC call: its `result`, or the step error its `error` (or status) describes."""
    response = await vendor.request(
        operation,
        method="POST",
        url=f"{vendor.base_url(SERVER)}/jsonrpc",
        json_body={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": 1,
        },
    )
    body = response.json_or_text()
    if response.status >= 400 or not isinstance(body, dict):
        raise vendor.refused(operation, response, None, None)
    if "error" in body:
        raise _refused(vendor, operation, response, body["error"])
    return body.get("result")


async def _uid(vendor: Vendor) -> int:
    database = vendor.settings["database"]
    login, password = vendor.secret["username"], vendor.secret["password"]
    uid = await _call(
        vendor, "authenticate", "common", "authenticate", [database, login, password, {}]
    )
    if isinstance(uid, bool) or not isinstance(uid, int):
        raise vendor.failure(
            "authenticate",
            f"Odoo refused authenticate: wrong login or password for database {database!r}",
            retryable=False,
            status=200,
            code="authentication_failed",
        )
    return uid


def _arguments(config: OdooConfig) -> tuple[list[Any], dict[str, Any]]:
    """execute_kw's positional and keyword arguments of the step's action."""
    fields = {"fields": config.fields} if config.fields else {}
    match config.action:
        case "read":
            return [_ids(config)], fields
        case "search_read":
            return [_json_value(config, "domain", list)], {**fields, "limit": config.limit}
        case "create":
            return [_json_value(config, "values", dict)], {}
        case "write":
            return [_ids(config), _json_value(config, "values", dict)], {}


def _result(config: OdooConfig, args: list[Any], answer: Any) -> dict[str, Any]:
    match config.action:
        case "read" | "search_read":
            records = answer if isinstance(answer, list) else []
            return {"model": config.model, "records": records, "count": len(records)}
        case "create":
            return {"model": config.model, "id": answer}
        case "write":
            return {"model": config.model, "ids": args[0], "written": answer is True}


@handles("odoo")
async def perform_odoo(ctx: StepContext) -> ActionOutput:
    config = parse_config(OdooConfig, ctx)
    args, kwargs = _arguments(config)  # a bad id or domain fails before any call
    vendor = await open_vendor(ctx, connection=config.connection, integration="odoo", label="Odoo")
    uid = await _uid(vendor)
    answer = await _call(
        vendor,
        config.action,
        "object",
        "execute_kw",
        [
            vendor.settings["database"],
            uid,
            vendor.secret["password"],
            config.model,
            config.action,
            args,
            kwargs,
        ],
    )
    result = _result(config, args, answer)
    return ActionOutput(port="success", result={"action": config.action, **vendor.scrub(result)})
