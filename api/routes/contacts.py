"""Contacts and lead intake: a posted lead is stored, then engaged by the flow it matches."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import (
    TypeAdapter,
    ValidationError,
)
from temporalio.client import Client

from api.bodies.contacts import (
    BulkBody,
    BulkItem,
    BulkOut,
    ContactEngaged,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
)
from api.deps import EngineDep, ManagerKey, SessionDep, SettingsDep, ViewerKey, get_temporal
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.services import engagement
from api.services.engagement import ClientSource, Engaged
from schemas.api_errors import request_error_details
from store import contacts
from store.executions import MAX_PAGE
from store.models import Contact

router = APIRouter(prefix="/contacts", tags=["contacts"], responses=KEYED)
BULK_CONCURRENCY = 10


_contact_in = TypeAdapter(ContactIn)


def _client_source(request: Request) -> ClientSource:
    async def source() -> Client:
        return await get_temporal(request)

    return source


def _engaged(result: Engaged) -> ContactEngaged:
    out = ContactOut.model_validate(result.contact).model_dump()
    return ContactEngaged(**out, engagement=result.engagement)


def _item_errors(item: Any, index: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The fields of a bulk item, or its problems with their JSON paths."""
    at = f"$.contacts[{index}]"
    try:
        fields = _contact_in.validate_python(item).given()
    except ValidationError as exc:
        details = request_error_details(exc.errors())
        return None, [{**d.model_dump(), "path": at + (d.path or "$")[1:]} for d in details]
    return fields, []


@router.post("", status_code=201, responses=CONFLICT)
async def create_contact(
    body: ContactIn,
    request: Request,
    response: Response,
    engine: EngineDep,
    settings: SettingsDep,
    key: ManagerKey,
) -> ContactEngaged:
    """Store a lead and start the flow it matches: 201 if new, 200 if it merged into a contact."""
    result = await engagement.intake(
        engine=engine,
        settings=settings,
        client_source=_client_source(request),
        tenant_id=key.tenant_id,
        fields=body.given(),
    )
    response.status_code = 201 if result.created else 200
    return _engaged(result)


@router.post("/bulk", responses=CONFLICT)
async def create_contacts(
    body: BulkBody, request: Request, engine: EngineDep, settings: SettingsDep, key: ManagerKey
) -> BulkOut:
    """Up to 500 leads; invalid items are reported by index with their paths, the rest stored."""
    gate = asyncio.Semaphore(BULK_CONCURRENCY)
    source = _client_source(request)

    async def one(index: int, item: Any) -> BulkItem:
        fields, errors = _item_errors(item, index)
        if fields is None:
            return BulkItem(index=index, status="invalid", errors=errors)
        async with gate:
            result = await engagement.intake(
                engine=engine,
                settings=settings,
                client_source=source,
                tenant_id=key.tenant_id,
                fields=fields,
            )
        status = "created" if result.created else "updated"
        return BulkItem(index=index, status=status, contact=_engaged(result))

    results = await asyncio.gather(*(one(i, item) for i, item in enumerate(body.contacts)))
    count = {s: sum(1 for r in results if r.status == s) for s in ("created", "updated", "invalid")}
    return BulkOut(**count, results=list(results))


@router.get("")
def list_contacts(
    session: SessionDep,
    key: ViewerKey,
    q: Annotated[str | None, Query(max_length=200, description="name, phone or email")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ContactPage:
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    rows, next_cursor = contacts.list_contacts(
        session, tenant_id=key.tenant_id, q=q or None, limit=limit, cursor=cursor
    )
    return ContactPage(items=[ContactOut.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.get("/{contact_id}", responses=NOT_FOUND)
def read_contact(contact_id: str, session: SessionDep, key: ViewerKey) -> ContactOut:
    contact: Contact = contacts.get_contact(session, tenant_id=key.tenant_id, contact_id=contact_id)
    return ContactOut.model_validate(contact)


@router.patch("/{contact_id}", responses=NOT_FOUND | CONFLICT)
async def update_contact(
    contact_id: str,
    body: ContactPatch,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    key: ManagerKey,
) -> ContactEngaged:
    """Change a contact; its running executions are told (a DNC tag stops them before their
    next contact), and a first lead source engages it like a new lead."""
    result = await engagement.change_contact(
        engine=engine,
        settings=settings,
        client_source=_client_source(request),
        tenant_id=key.tenant_id,
        contact_id=contact_id,
        changes=body.given(),
    )
    return _engaged(result)


@router.delete("/{contact_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_contact(contact_id: str, engine: EngineDep, key: ManagerKey) -> Response:
    """Remove the contact; its executions keep their copy of it."""
    contacts.delete_contact(engine, tenant_id=key.tenant_id, contact_id=contact_id)
    return Response(status_code=204)
