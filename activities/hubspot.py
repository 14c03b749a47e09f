"""The `hubspot` step: create or update a contact by email, add a note to a contact (HubSpot's
CRM v3 objects API).

`{base_url}/crm/v3/objects/…` with `Authorization: Bearer` (a private app's token, `bearer`, or
an OAuth access token, `oauth2`, which HubSpot expires after 30 minutes: its 401
`EXPIRED_AUTHENTICATION` has the step refresh it once, `activities.oauth`). A contact is
found by email with `POST /crm/v3/objects/contacts/search`, then updated
(`PATCH …/contacts/{id}`) or created (`POST …/contacts`). Search is eventually consistent: a
contact created a moment ago (by a first attempt whose answer was lost) may not be found yet,
and its create answers 409 "Contact already exists. Existing ID: …", which the step takes as
"update that one". A note is `POST /crm/v3/objects/notes` with its association to the contact
(type 202, note to contact). HubSpot's errors are `{"status": "error", "category", "message"}`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from activities.net import FetchedResponse
from activities.oauth import TokenKeeper
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from activities.vendor import Vendor, open_vendor
from schemas.connections import auth_headers
from schemas.execution import ActionOutput
from schemas.flow import HubspotConfig

DEFAULT_BASE_URL = "https://api.hubapi.com"
CONTACTS = "/crm/v3/objects/contacts"
NOTES = "/crm/v3/objects/notes"
NOTE_TO_CONTACT = 202
"""HubSpot's association type id of a note to a contact (`HUBSPOT_DEFINED`)."""
EXISTING_ID = re.compile(r"Existing ID: (\d+)")
EXPIRED = "EXPIRED_AUTHENTICATION"
"""The `category` of HubSpot's 401 to an expired OAuth token."""


def _refused(vendor: Vendor, operation: str, response: FetchedResponse) -> Exception:
    body = response.json_or_text()
    code = message = None
    if isinstance(body, dict):
        code = str(body.get("category") or body.get("errorType") or "") or None
        message = str(body.get("message") or "") or None
    return vendor.refused(operation, response, code, message)


async def _call(
    hubspot: TokenKeeper, operation: str, *, method: str, path: str, body: Any = None
) -> dict[str, Any]:
    response = await _send(hubspot, operation, method=method, path=path, body=body)
    answer = response.json_or_text()
    if response.status >= 400 or not isinstance(answer, dict):
        raise _refused(hubspot.vendor, operation, response)
    return answer


async def _send(
    hubspot: TokenKeeper, operation: str, *, method: str, path: str, body: Any = None
) -> FetchedResponse:
    return await hubspot.request(
        operation,
        method=method,
        url=f"{hubspot.vendor.base_url(DEFAULT_BASE_URL)}{path}",
        headers=lambda vendor: auth_headers(vendor.connection),
        json_body=body,
    )


def _expired(response: FetchedResponse) -> bool:
    body = response.json_or_text()
    category = body.get("category") if isinstance(body, dict) else None
    return response.status == 401 and category == EXPIRED


async def find_contact(hubspot: TokenKeeper, email: str) -> str | None:
    """The id of the contact with this email, if HubSpot's search finds one."""
    search = {
        "filterGroups": [
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}
        ],
        "properties": ["email"],
        "limit": 1,
    }
    found = await _call(
        hubspot, "search_contacts", method="POST", path=f"{CONTACTS}/search", body=search
    )
    results = found.get("results") or []
    found_id = results[0].get("id") if results and isinstance(results[0], dict) else None
    return str(found_id) if found_id is not None else None


def _property_value(value: Any) -> str:
    """HubSpot's properties are text: `true`/`false`, numbers as written, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def upsert_contact(hubspot: TokenKeeper, config: HubspotConfig) -> dict[str, Any]:
    assert config.email is not None
    properties = {k: _property_value(v) for k, v in config.properties.items()}
    properties["email"] = config.email
    contact_id = await find_contact(hubspot, config.email)
    if contact_id is None:
        body = {"properties": properties}
        response = await _send(hubspot, "create_contact", method="POST", path=CONTACTS, body=body)
        answer = response.json_or_text()
        if response.status < 400 and isinstance(answer, dict):
            return {"contact_id": str(answer.get("id")), "created": True, "email": config.email}
        message = str(answer.get("message")) if isinstance(answer, dict) else ""
        existing = EXISTING_ID.search(message) if response.status == 409 else None
        if existing is None:
            raise _refused(hubspot.vendor, "create_contact", response)
        contact_id = existing.group(1)  # made by an earlier attempt that search does not see yet
    await _call(
        hubspot,
        "update_contact",
        method="PATCH",
        path=f"{CONTACTS}/{contact_id}",
        body={"properties": properties},
    )
    return {"contact_id": contact_id, "created": False, "email": config.email}


async def add_note(hubspot: TokenKeeper, config: HubspotConfig) -> dict[str, Any]:
    assert config.note is not None
    contact_id = str(config.contact_id).strip() if config.contact_id not in (None, "") else None
    if contact_id is not None and not contact_id.isdigit():
        raise step_error(
            f"invalid hubspot config: contact_id: {config.contact_id!r} is not a HubSpot id",
            type=INVALID_CONFIG,
            retryable=False,
        )
    if contact_id is None:
        assert config.email is not None
        contact_id = await find_contact(hubspot, config.email)
        if contact_id is None:
            raise hubspot.vendor.failure(
                "add_note",
                f"HubSpot has no contact with email {config.email!r}",
                retryable=False,
                code="contact_not_found",
            )
    note = {
        "properties": {
            "hs_note_body": config.note,
            "hs_timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        },
        "associations": [
            {
                "to": {"id": contact_id},
                "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}
                ],
            }
        ],
    }
    made = await _call(hubspot, "add_note", method="POST", path=NOTES, body=note)
    return {"note_id": str(made.get("id")), "contact_id": contact_id}


@handles("hubspot")
async def perform_hubspot(ctx: StepContext) -> ActionOutput:
    config = parse_config(HubspotConfig, ctx)
    vendor = await open_vendor(
        ctx, connection=config.connection, integration="hubspot", label="HubSpot"
    )
    hubspot = TokenKeeper(vendor, expired=_expired)
    match config.action:
        case "upsert_contact":
            result = await upsert_contact(hubspot, config)
        case "add_note":
            result = await add_note(hubspot, config)
    scrubbed = hubspot.vendor.scrub(result)
    return ActionOutput(port="success", result={"action": config.action, **scrubbed})
