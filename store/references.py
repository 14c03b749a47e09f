"""What a flow names in its tenant, and which of it is missing.

A `transfer` names a department or an agent (by id or by name, as routing finds them), a
`subflow` another flow (and maybe its version), an `email` step a stored template, a
connector step a connection (of its integration). Run time finds a missing one only when a
contact reaches the step (a caller sent to voicemail), so the API checks them before a version
is published or deployed. A templated value (`{{ … }}`) is
known only at run time and is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, col, select

from schemas.connections import step_connection, step_integration
from schemas.flow import EmailConfig, FlowDocument, SubflowConfig, TransferConfig
from schemas.templating import has_template
from schemas.validation import Problem
from store.connections import existing
from store.flows import DRAFT
from store.models import Agent, Department, Flow, FlowVersion, Template


def literal(value: str | None) -> str | None:
    """The value when it names something as written; None when absent or templated."""
    if not value or has_template(value):
        return None
    return value


def _storable(names: Collection[str]) -> list[str]:
    """The names a column could hold: PostgreSQL refuses a NUL in text, so a name with one
    names nothing (and asking would fail the request)."""
    return [name for name in names if "\x00" not in name]


@dataclass(frozen=True)
class _Named:
    """A name the document gives at `$.nodes[index].config.key`."""

    index: int
    key: str
    name: str

    def problem(self, code: str, message: str, key: str | None = None) -> tuple[int, Problem]:
        path = f"$.nodes[{self.index}].config.{key or self.key}"
        return self.index, Problem(path=path, code=code, message=message)


def _named(document: FlowDocument, config_type: type, key: str) -> list[_Named]:
    """Every literal value of `key` in the configs of type `config_type`."""
    found = []
    for index, node in enumerate(document.nodes):
        if isinstance(node.config, config_type):
            name = literal(getattr(node.config, key))
            if name is not None:
                found.append(_Named(index=index, key=key, name=name))
    return found


def _ids_and_names(
    session: Session, model: type[Department | Agent], tenant_id: str, names: Collection[str]
) -> set[str]:
    """The ids and names of the tenant's rows of `model` that are among `names`."""
    names = _storable(names)
    if not names:
        return set()
    rows = session.exec(
        select(model.id, model.name).where(
            model.tenant_id == tenant_id,
            sa.or_(col(model.id).in_(names), col(model.name).in_(names)),
        )
    ).all()
    return {value for row in rows for value in row}


def _missing(
    wanted: list[_Named], known: Collection[str], code: str, message: Callable[[str], str]
) -> list[tuple[int, Problem]]:
    return [w.problem(code, message(w.name)) for w in wanted if w.name not in known]


def _routing(session: Session, tenant_id: str, document: FlowDocument) -> list[tuple[int, Problem]]:
    """Transfers to a department or an agent the tenant does not have."""
    departments = _named(document, TransferConfig, "department")
    agents = _named(document, TransferConfig, "agent")
    known_departments = _ids_and_names(
        session, Department, tenant_id, {d.name for d in departments}
    )
    known_agents = _ids_and_names(session, Agent, tenant_id, {a.name for a in agents})
    return _missing(
        departments,
        known_departments,
        "unknown_department",
        lambda name: f"no department {name!r} in this tenant (see /api/departments)",
    ) + _missing(
        agents,
        known_agents,
        "unknown_agent",
        lambda name: f"no agent {name!r} in this tenant (see /api/agents)",
    )


def _templates(
    session: Session, tenant_id: str, document: FlowDocument
) -> list[tuple[int, Problem]]:
    """Email steps naming a stored template the tenant does not have."""
    wanted = _named(document, EmailConfig, "template")
    names = _storable({w.name for w in wanted})
    if not names:
        return _missing(wanted, set(), "unknown_template", _no_template)
    known = session.exec(
        select(Template.name).where(
            Template.tenant_id == tenant_id,
            Template.channel == "email",
            col(Template.name).in_(names),
        )
    ).all()
    return _missing(wanted, set(known), "unknown_template", _no_template)


def _no_template(name: str) -> str:
    return f"no email template named {name!r} in this tenant (see /api/templates)"


def _subflows(
    session: Session, tenant_id: str, document: FlowDocument, own: tuple[str, int | None] | None
) -> list[tuple[int, Problem]]:
    """Subflows a run would fail to start: a flow the tenant does not have, one with no
    published version, a version that does not exist or is a draft."""
    problems = []
    for named in _named(document, SubflowConfig, "flow_id"):
        config = document.nodes[named.index].config
        assert isinstance(config, SubflowConfig)
        if own is not None and named.name == own[0] and config.version in (None, own[1]):
            continue  # the flow itself, at the version being published
        found = _subflow_problem(session, tenant_id, named.name, config.version)
        if found is not None:
            key, code, message = found
            problems.append(named.problem(code, message, key))
    return problems


def _subflow_problem(
    session: Session, tenant_id: str, flow_id: str, version: int | None
) -> tuple[str, str, str] | None:
    """(config key, code, message) of what starting this subflow would fail on, or None."""
    flow = session.get(Flow, flow_id) if _storable([flow_id]) else None
    if flow is None or flow.tenant_id != tenant_id or flow.deleted_at is not None:
        return "flow_id", "unknown_flow", f"no flow {flow_id!r} in this tenant"
    number = version if version is not None else flow.published_version
    if number is None:
        return (
            "flow_id",
            "not_published",
            f"flow {flow.name!r} ({flow.id}) has no published version: publish it first, "
            "or name a `version`",
        )
    status = session.exec(
        select(FlowVersion.status).where(
            FlowVersion.flow_id == flow.id, FlowVersion.number == number
        )
    ).first()
    if status is None:
        return "version", "unknown_version", f"flow {flow.name!r} has no version {number}"
    if status == DRAFT:
        return (
            "version",
            "draft_version",
            f"version {number} of flow {flow.name!r} is a draft: only published versions run",
        )
    return None


def _connections(
    session: Session, tenant_id: str, document: FlowDocument
) -> list[tuple[int, Problem]]:
    """Steps naming a connection the tenant does not have, or one of another integration."""
    wanted = []
    for index, node in enumerate(document.nodes):
        config = getattr(node, "config", None)
        name = literal(step_connection(config)) if isinstance(config, BaseModel) else None
        if name is not None and isinstance(config, BaseModel):
            named = _Named(index=index, key="connection", name=name)
            wanted.append((named, step_integration(node.type, config)))
    known = existing(session, tenant_id=tenant_id, names={w.name for w, _ in wanted})
    problems = []
    for named, integration in wanted:
        found = known.get(named.name)
        if found is None:
            kind = f"{integration} " if integration else ""
            message = (
                f"no {kind}connection named {named.name!r} in this tenant (see /api/connections)"
            )
            problems.append(named.problem("unknown_connection", message))
        elif integration is not None and found != integration:
            message = (
                f"connection {named.name!r} is a {found} connection: "
                f"a {document.nodes[named.index].type} step needs a {integration} one"
            )
            problems.append(named.problem("wrong_integration", message))
    return problems


def missing_references(
    session: Session,
    *,
    tenant_id: str,
    document: FlowDocument,
    own: tuple[str, int | None] | None = None,
) -> list[Problem]:
    """Everything the document names that the tenant does not have, in node order, each at
    its path inside the document (`$.nodes[3].config.department`).

    `own`: the document's flow id and version number, once it has them: a subflow naming its
    own flow (at that version, or at none) runs the version being published.
    """
    found = [
        *_routing(session, tenant_id, document),
        *_subflows(session, tenant_id, document, own),
        *_templates(session, tenant_id, document),
        *_connections(session, tenant_id, document),
    ]
    return [problem for _, problem in sorted(found, key=lambda item: item[0])]
