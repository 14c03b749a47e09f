"""Publishing a version and rolling back to one: the store's checks, and then what the flow
names checked against the tenant and the providers (`references`)."""

from __future__ import annotations

from sqlmodel import Session

from api.services.references import check_references
from schemas.flow import FlowDocument
from schemas.settings import Settings
from store import flows
from store.models import FlowVersion


def publish_version(
    session: Session, *, tenant_id: str, flow_id: str, number: int, settings: Settings
) -> FlowVersion:
    """Publish a draft; 422 at each node naming what does not exist."""

    def check(document: FlowDocument) -> None:
        check_references(
            session,
            tenant_id=tenant_id,
            document=document,
            settings=settings,
            own=(flow_id, number),
        )

    return flows.publish_version(
        session,
        tenant_id=tenant_id,
        flow_id=flow_id,
        number=number,
        limits=settings.flow_limits(),
        check=check,
    )


def rollback_to(
    session: Session,
    *,
    tenant_id: str,
    flow_id: str,
    number: int,
    created_by: str | None,
    settings: Settings,
) -> FlowVersion:
    """Publish a copy of an earlier version; 422 at each node naming what no longer exists."""

    def check(document: FlowDocument) -> None:
        check_references(
            session, tenant_id=tenant_id, document=document, settings=settings, own=(flow_id, None)
        )

    return flows.rollback_to(
        session,
        tenant_id=tenant_id,
        flow_id=flow_id,
        number=number,
        created_by=created_by,
        limits=settings.flow_limits(),
        check=check,
    )
