"""What a flow names, checked before it can fail a caller: departments, agents, subflows,
email templates and connections against the tenant (`store.references`), WhatsApp templates
against Twilio's Content SIDs (`providers.twilio_rest`); and what it must not hold, values
that look like raw secrets (`schemas.raw_secrets`).

Publishing, rolling back and deploying refuse a flow that names what does not exist (422 at
each node's path); validating a draft only warns, for a draft is work in progress.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from providers.twilio_rest import templates_without_sid
from schemas.flow import FlowDocument
from schemas.raw_secrets import CODE as RAW_SECRET
from schemas.raw_secrets import raw_secret_problems
from schemas.settings import Settings
from schemas.validation import Problem
from store.errors import InvalidInputError
from store.flows import problem_detail, reroot_path
from store.references import missing_references

CODE = "unresolved_references"


def reference_problems(
    session: Session,
    *,
    tenant_id: str,
    document: FlowDocument,
    settings: Settings,
    own: tuple[str, int | None] | None = None,
) -> list[Problem]:
    """Everything `document` names that a run could not find, each at its path in the
    document; `own` is its flow and version, once it has them (see `missing_references`)."""
    return [
        *missing_references(session, tenant_id=tenant_id, document=document, own=own),
        *templates_without_sid(document, settings),
        *raw_secret_problems(document),
    ]


def problem_details(problems: list[Problem], *, at: str) -> list[dict[str, Any]]:
    """Problems at their paths inside the request: the document sits at `at`."""
    return [
        {"path": reroot_path(p.path, at), "code": p.code, "message": p.message} for p in problems
    ]


def references_error(details: list[dict[str, Any]]) -> InvalidInputError:
    """The 422 for references a run could not resolve, one detail each; raw secrets (which
    belong in a connection) are said first."""
    secrets = [d for d in details if d["code"] == RAW_SECRET]
    if secrets:
        return InvalidInputError(
            f"the flow holds what looks like a secret ({len(secrets)}): {secrets[0]['message']}",
            code=RAW_SECRET,
            details=details,
        )
    count = len(details)
    noun = "reference" if count == 1 else "references"
    return InvalidInputError(
        f"the flow names what does not exist ({count} {noun}): {details[0]['message']}",
        code=CODE,
        details=details,
    )


def check_references(
    session: Session,
    *,
    tenant_id: str,
    document: FlowDocument,
    settings: Settings,
    own: tuple[str, int | None] | None = None,
    at: str = "$.definition",
) -> None:
    """InvalidInputError listing every reference `document` makes that a run could not
    resolve, at its path inside the request (`at`)."""
    problems = reference_problems(
        session, tenant_id=tenant_id, document=document, settings=settings, own=own
    )
    if problems:
        raise references_error(problem_details(problems, at=at))


def reference_warnings(
    session: Session, *, tenant_id: str, document: FlowDocument, settings: Settings, at: str
) -> list[dict[str, Any]]:
    """The same problems, as warnings beside a draft that validates."""
    problems = reference_problems(
        session, tenant_id=tenant_id, document=document, settings=settings
    )
    return [problem_detail(p.model_copy(update={"severity": "warning"}), at=at) for p in problems]


def stored_document(definition: Any) -> FlowDocument | None:
    """A stored version's document; None if today's models no longer read it (it was valid
    when published; a run of it reports its own error)."""
    try:
        return FlowDocument.model_validate(definition)
    except ValidationError:
        return None
