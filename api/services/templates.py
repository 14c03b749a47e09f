"""Stored templates: checking their Jinja2 before saving, previewing them with a contact."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from schemas import templating
from store.contacts import contact_dict
from store.errors import InvalidInputError, NotFoundError
from store.models import Contact, Template
from store.templates import create_template, read_template, update_template

TEXT_FIELDS = ("subject", "body", "html")


def load_contact(session: Session, *, tenant_id: str, contact_id: str, at: str) -> dict[str, Any]:
    """An existing contact of the tenant, or 404 (another tenant's looks the same)."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.tenant_id != tenant_id:
        raise NotFoundError(f"contact {contact_id} not found ({at})")
    return contact_dict(contact)


def check_syntax(fields: Mapping[str, Any], *, channel: str) -> None:
    """422 listing every template string that does not parse, and missing required texts."""
    details: list[dict[str, Any]] = []
    for name in TEXT_FIELDS:
        value = fields.get(name)
        if isinstance(value, str):
            problem = templating.template_syntax_error(value)
            if problem is not None:
                details.append({"path": f"$.{name}", "code": "template_syntax", "message": problem})
    required = ("subject",) if channel == "email" else ("body",)
    for name in required:
        if not fields.get(name):
            details.append(
                {
                    "path": f"$.{name}",
                    "code": "missing",
                    "message": f"a {channel} template needs `{name}`",
                }
            )
    if channel == "email" and not (fields.get("body") or fields.get("html")):
        details.append(
            {
                "path": "$.body",
                "code": "missing",
                "message": "an email template needs `body` or `html`",
            }
        )
    if details:
        raise InvalidInputError("the template is invalid", details=details)


def create(session: Session, *, tenant_id: str, fields: Mapping[str, Any]) -> Template:
    check_syntax(fields, channel=str(fields["channel"]))
    return create_template(session, tenant_id=tenant_id, fields=fields)


def update(
    session: Session, *, tenant_id: str, template_id: str, changes: Mapping[str, Any]
) -> Template:
    current = read_template(session, tenant_id=tenant_id, template_id=template_id)
    merged = {
        "channel": current.channel,
        "subject": current.subject,
        "body": current.body,
        "html": current.html,
        **changes,
    }
    check_syntax(merged, channel=str(merged["channel"]))
    return update_template(session, tenant_id=tenant_id, template_id=template_id, changes=changes)


def render_texts(
    texts: Mapping[str, str | None], context: Mapping[str, Any]
) -> dict[str, str | None]:
    """Subject, body and html rendered (html escaped); a missing variable is a 422 naming it."""
    rendered: dict[str, str | None] = {}
    for name in TEXT_FIELDS:
        source = texts.get(name)
        if source is None:
            rendered[name] = None
            continue
        try:
            rendered[name] = templating.render(source, context, autoescape=name == "html")
        except templating.TemplateRenderError as exc:
            raise render_error(exc, path=f"$.{name}") from exc
    return rendered


def preview_texts(template: Template, unsaved: Mapping[str, str | None]) -> dict[str, str | None]:
    """The template's stored texts, each one the editor sent (not saved yet) in its place."""
    stored: dict[str, str | None] = {name: getattr(template, name) for name in TEXT_FIELDS}
    return stored | dict(unsaved)


def render_error(exc: templating.TemplateRenderError, *, path: str) -> InvalidInputError:
    if exc.variable is not None:
        return InvalidInputError(
            f"missing variable {exc.variable}",
            code="missing_variable",
            details=[
                {
                    "path": path,
                    "code": "missing_variable",
                    "message": str(exc),
                    "variable": exc.variable,
                }
            ],
        )
    return InvalidInputError(
        str(exc),
        code="template_error",
        details=[{"path": path, "code": "template_error", "message": str(exc)}],
    )


def preview_context(
    *, contact: Mapping[str, Any], variables: Mapping[str, Any], trigger: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "contact": dict(contact),
        "vars": dict(variables),
        "trigger": dict(trigger),
        "steps": {},
        "call": {},
        "execution": {"test": True},
    }
