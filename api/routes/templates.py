"""Stored email and message templates: CRUD and preview with a sample or stored contact."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deps import ManagerKey, SessionDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.services import templates
from store import templates as store

router = APIRouter(prefix="/templates", tags=["templates"], responses=KEYED)
Channel = Literal["email", "sms", "whatsapp"]
Text = Annotated[str | None, Field(default=None, max_length=100_000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    channel: Channel
    subject: str | None = Field(default=None, max_length=1000)
    body: Text = None
    html: Text = None


class TemplateUpdate(_Body):
    """Only the fields given change; `null` clears subject, body or html."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    channel: Channel | None = None
    subject: str | None = Field(default=None, max_length=1000)
    body: Text = None
    html: Text = None

    @model_validator(mode="after")
    def _required_not_null(self) -> TemplateUpdate:
        for name in ("name", "channel"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"`{name}` cannot be null")
        return self


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    channel: str
    subject: str | None
    body: str | None
    html: str | None
    created_at: datetime
    updated_at: datetime


class PreviewBody(_Body):
    contact: dict[str, Any] | None = None
    contact_id: str | None = Field(default=None, max_length=64)
    vars: dict[str, Any] = Field(default_factory=dict)
    trigger: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_contact(self) -> PreviewBody:
        if self.contact is not None and self.contact_id is not None:
            raise ValueError("give `contact` or `contact_id`, not both")
        return self


class PreviewOut(BaseModel):
    channel: str
    subject: str | None
    body: str | None
    html: str | None


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
    """The template rendered for a contact; a missing variable is 422 `missing_variable`."""
    template = store.read_template(session, tenant_id=key.tenant_id, template_id=template_id)
    contact = body.contact or {}
    if body.contact_id is not None:
        contact = templates.load_contact(
            session, tenant_id=key.tenant_id, contact_id=body.contact_id, at="$.contact_id"
        )
    context = templates.preview_context(contact=contact, variables=body.vars, trigger=body.trigger)
    rendered = templates.render_template(template, context)
    return PreviewOut(channel=template.channel, **rendered)
