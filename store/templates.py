"""Stored templates: email and message texts (Jinja2), one name per tenant and channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.errors import ConflictError, NotFoundError
from store.models import Template, utcnow

CHANNELS = ("email", "sms", "whatsapp")
TEMPLATE_FIELDS = frozenset({"name", "channel", "subject", "body", "html"})


def list_templates(
    session: Session, *, tenant_id: str, channel: str | None = None
) -> list[Template]:
    query = select(Template).where(Template.tenant_id == tenant_id)
    if channel is not None:
        query = query.where(Template.channel == channel)
    return list(session.exec(query.order_by(col(Template.channel), col(Template.name))).all())


def read_template(session: Session, *, tenant_id: str, template_id: str) -> Template:
    """A template of the tenant by id; another tenant's answers as missing."""
    template = session.get(Template, template_id)
    if template is None or template.tenant_id != tenant_id:
        raise NotFoundError(f"template {template_id} not found")
    return template


def get_template(
    source: Session | Engine, *, tenant_id: str, channel: str, name: str
) -> Template | None:
    """The tenant's template of `channel` called `name` (what a step's `template` names)."""
    query = select(Template).where(
        Template.tenant_id == tenant_id, Template.channel == channel, Template.name == name
    )
    if isinstance(source, Session):
        return source.exec(query).first()
    with Session(source, expire_on_commit=False) as session:
        return session.exec(query).first()


def _clash(fields: Mapping[str, Any]) -> ConflictError:
    return ConflictError(
        f"a {fields.get('channel')} template named {fields.get('name')!r} already exists"
    )


def _save(session: Session, template: Template, fields: Mapping[str, Any]) -> Template:
    session.add(template)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise _clash(fields) from exc
    return template


def _check_free(
    session: Session, *, tenant_id: str, fields: Mapping[str, Any], own: str | None
) -> None:
    holder = get_template(
        session, tenant_id=tenant_id, channel=str(fields["channel"]), name=str(fields["name"])
    )
    if holder is not None and holder.id != own:
        raise _clash(fields)


def create_template(session: Session, *, tenant_id: str, fields: Mapping[str, Any]) -> Template:
    """A new template; the same name twice on one channel is a conflict."""
    _check_fields(fields)
    _check_free(session, tenant_id=tenant_id, fields=fields, own=None)
    return _save(session, Template(tenant_id=tenant_id, **fields), fields)


def update_template(
    session: Session, *, tenant_id: str, template_id: str, changes: Mapping[str, Any]
) -> Template:
    _check_fields(changes)
    template = read_template(session, tenant_id=tenant_id, template_id=template_id)
    merged = {"channel": template.channel, "name": template.name, **changes}
    _check_free(session, tenant_id=tenant_id, fields=merged, own=template.id)
    for name, value in changes.items():
        setattr(template, name, value)
    template.updated_at = utcnow()
    return _save(session, template, merged)


def delete_template(session: Session, *, tenant_id: str, template_id: str) -> None:
    template = read_template(session, tenant_id=tenant_id, template_id=template_id)
    session.delete(template)
    session.commit()


def _check_fields(fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - TEMPLATE_FIELDS
    if unknown:
        raise ValueError(f"not template fields: {sorted(unknown)}")
