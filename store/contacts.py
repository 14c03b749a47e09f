"""Contacts: one per phone number in a tenant, created or merged by lead intake.

Two leads posted at once with the same phone end in one row: the insert yields to the
unique (tenant, phone) constraint (`ON CONFLICT DO NOTHING`) and the loser merges into the
row the winner wrote, under a row lock on PostgreSQL (and SQLite's single writer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, and_, col, or_, select

from store.db import session_scope
from store.errors import ConflictError, NotFoundError
from store.executions import MAX_PAGE, decode_cursor, encode_cursor
from store.models import Contact, FlowEntry, new_id, utcnow

CONTACT_FIELDS = ("name", "phone", "email", "lead_source", "entry_type", "tags", "custom")
_contacts = Contact.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True)
class SavedContact:
    contact: Contact
    created: bool
    changed: bool
    """Whether the contact as flows see it (`contact_dict`) differs from before."""
    source_set: bool
    """Whether this save gave a lead source to a contact that had none."""


def contact_dict(contact: Contact) -> dict[str, Any]:
    """The contact as flows see it (`contact.*` in templates)."""
    return {
        "id": contact.id,
        "name": contact.name,
        "phone": contact.phone,
        "email": contact.email,
        "lead_source": contact.lead_source,
        "entry_type": contact.entry_type,
        "tags": list(contact.tags or []),
        "custom": dict(contact.custom or {}),
    }


def merge_tags(*lists: list[str] | None) -> list[str]:
    """The union of tag lists, case-insensitively; the first spelling of a tag stays."""
    seen: dict[str, str] = {}
    for tags in lists:
        for tag in tags or []:
            seen.setdefault(tag.casefold(), tag)
    return list(seen.values())


def _insert_new(session: Session, *, tenant_id: str, fields: Mapping[str, Any]) -> str | None:
    """Insert unless the tenant has a contact with this phone; the new id, or None."""
    now = utcnow()
    values = {
        **{name: fields.get(name) for name in CONTACT_FIELDS},
        "id": new_id(),
        "tenant_id": tenant_id,
        "tags": merge_tags(fields.get("tags")),
        "custom": dict(fields.get("custom") or {}),
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(_contacts)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "phone"])
        .returning(_contacts.c.id)
    )
    inserted = session.execute(statement).first()
    return str(inserted[0]) if inserted else None


def _merge(contact: Contact, fields: Mapping[str, Any]) -> None:
    """A re-posted lead: tags and custom fields merge, the other given fields replace."""
    for name, value in fields.items():
        if name == "tags":
            contact.tags = merge_tags(contact.tags, value)
        elif name == "custom":
            contact.custom = {**(contact.custom or {}), **(value or {})}
        elif name != "phone":
            setattr(contact, name, value)


def save_contact(engine: Engine, *, tenant_id: str, fields: Mapping[str, Any]) -> SavedContact:
    """Create the contact, or merge `fields` into the tenant's contact with the same phone."""
    with session_scope(engine) as session:
        if fields.get("phone"):
            new = _insert_new(session, tenant_id=tenant_id, fields=fields)
            query = select(Contact).where(
                Contact.tenant_id == tenant_id, Contact.phone == fields["phone"]
            )
            contact = session.exec(query.with_for_update()).one()
        else:
            contact = Contact(tenant_id=tenant_id, **fields)
            contact.tags = merge_tags(contact.tags)
            session.add(contact)
            session.flush()
            new = contact.id
        if new is not None:
            return SavedContact(
                contact=contact, created=True, changed=True, source_set=bool(contact.lead_source)
            )
        before = contact_dict(contact)
        _merge(contact, fields)
        changed = contact_dict(contact) != before
        if changed:
            contact.updated_at = utcnow()
            session.add(contact)
        return SavedContact(
            contact=contact,
            created=False,
            changed=changed,
            source_set=not before["lead_source"] and bool(contact.lead_source),
        )


def get_contact(session: Session, *, tenant_id: str, contact_id: str) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.tenant_id != tenant_id:
        raise NotFoundError(f"contact {contact_id} not found")
    return contact


def given_contact(
    engine: Engine, *, tenant_id: str, contact_id: str | None, fields: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """The contact a post names, by its id or inline (saved as `POST /api/contacts` saves),
    as flows see it; and whether a stored contact changed (not when it was just created)."""
    if contact_id is not None:
        with Session(engine) as session:
            found = get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
            return contact_dict(found), False
    saved = save_contact(engine, tenant_id=tenant_id, fields=fields)
    return contact_dict(saved.contact), saved.changed and not saved.created


def update_contact(
    engine: Engine, *, tenant_id: str, contact_id: str, changes: Mapping[str, Any]
) -> SavedContact:
    """PATCH: given fields replace (tags too); `custom` is merged, a null value removes a key."""
    with session_scope(engine) as session:
        contact = get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
        before = contact_dict(contact)
        for name, value in changes.items():
            if name == "custom":
                merged = {**(contact.custom or {}), **(value or {})}
                contact.custom = {k: v for k, v in merged.items() if v is not None}
            elif name == "tags":
                contact.tags = merge_tags(value)
            else:
                setattr(contact, name, value)
        changed = contact_dict(contact) != before
        if changed:
            contact.updated_at = utcnow()
            session.add(contact)
            try:
                session.flush()
            except IntegrityError as exc:
                phone = changes.get("phone")
                raise ConflictError(f"another contact has the phone {phone}") from exc
        return SavedContact(
            contact=contact,
            created=False,
            changed=changed,
            source_set=not before["lead_source"] and bool(contact.lead_source),
        )


def delete_contact(engine: Engine, *, tenant_id: str, contact_id: str) -> None:
    """Remove the contact and its cooldown entries; its executions keep their copy of it."""
    with session_scope(engine) as session:
        contact = get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
        session.execute(sa.delete(FlowEntry).where(col(FlowEntry.contact_id) == contact.id))
        session.delete(contact)


def list_contacts(
    session: Session,
    *,
    tenant_id: str,
    q: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Contact], str | None]:
    """One page, newest first, searched by name, phone or email; and the next page's cursor."""
    limit = max(1, min(limit, MAX_PAGE))
    query = select(Contact).where(Contact.tenant_id == tenant_id)
    if q:
        query = query.where(
            or_(
                col(Contact.name).icontains(q, autoescape=True),
                col(Contact.phone).icontains(q, autoescape=True),
                col(Contact.email).icontains(q, autoescape=True),
            )
        )
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        query = query.where(
            or_(
                col(Contact.created_at) < created_at,
                and_(col(Contact.created_at) == created_at, col(Contact.id) < row_id),
            )
        )
    query = query.order_by(col(Contact.created_at).desc(), col(Contact.id).desc())
    rows = list(session.exec(query.limit(limit + 1)).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].created_at, rows[-1].id)
