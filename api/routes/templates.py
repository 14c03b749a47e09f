"""Stored email and message templates: CRUD and preview with a sample or stored contact."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.bodies.templates import (
    Channel,
    PreviewBody,
    PreviewOut,
    TemplateCreate,
    TemplateOut,
    TemplateUpdate,
)
from api.deps import ManagerKey, SessionDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.services import templates
from store import templates as store

router = APIRouter(prefix="/templates", tags=["templates"], responses=KEYED)


@router.get("")
def list_templates(
    session: SessionDep,
    key: ViewerKey,
    channel: Annotated[Channel | None, Query()] = None,
) -> list[TemplateOut]:
    rows = store.list_templates(session, tenant_id=key.tenant_id, channel=channel)
    return [TemplateOut.model_validate(t) for t in rows]


@router.post("", status_code=201, responses=CONFLICT)
def create_template(body: TemplateCreate, session: SessionDep, key: ManagerKey) -> TemplateOut:
    """A template; its texts must parse as Jinja2 (else 422 at the path); unique per channel."""
    template = templates.create(session, tenant_id=key.tenant_id, fields=body.model_dump())
    return TemplateOut.model_validate(template)


@router.get("/{template_id}", responses=NOT_FOUND)
def read_template(template_id: str, session: SessionDep, key: ViewerKey) -> TemplateOut:
    template = store.read_template(session, tenant_id=key.tenant_id, template_id=template_id)
    return TemplateOut.model_validate(template)


@router.patch("/{template_id}", responses=NOT_FOUND | CONFLICT)
def update_template(
    template_id: str, body: TemplateUpdate, session: SessionDep, key: ManagerKey
) -> TemplateOut:
    template = templates.update(
        session,
        tenant_id=key.tenant_id,
        template_id=template_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return TemplateOut.model_validate(template)


@router.delete("/{template_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_template(template_id: str, session: SessionDep, key: ManagerKey) -> Response:
    store.delete_template(session, tenant_id=key.tenant_id, template_id=template_id)
    return Response(status_code=204)


@router.post("/{template_id}/preview", responses=NOT_FOUND)
def preview_template(
    template_id: str, body: PreviewBody, session: SessionDep, key: ViewerKey
) -> PreviewOut:
    """The template rendered for a contact; a missing variable is 422 `missing_variable`.
    `texts` renders an editor's unsaved subject, body or html in place of the stored ones."""
    template = store.read_template(session, tenant_id=key.tenant_id, template_id=template_id)
    contact = body.contact or {}
    if body.contact_id is not None:
        contact = templates.load_contact(
            session, tenant_id=key.tenant_id, contact_id=body.contact_id, at="$.contact_id"
        )
    context = templates.preview_context(contact=contact, variables=body.vars, trigger=body.trigger)
    unsaved = body.texts.model_dump(exclude_unset=True) if body.texts else {}
    rendered = templates.render_texts(templates.preview_texts(template, unsaved), context)
    return PreviewOut(channel=template.channel, **rendered)
