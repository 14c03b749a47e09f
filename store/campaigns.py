"""Campaigns: named bodies of work that executions, deployments and recordings belong to.

A campaign that has been used (an execution, a deployment or a recording refers to it) cannot
be deleted: its recordings are stored and permitted by it, and its history must keep making
sense. Rename it instead. Deleting an unused one also removes it from keys limited to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.errors import ConflictError, InvalidInputError, NotFoundError, check_known
from store.models import (
    ApiKey,
    Campaign,
    CampaignFlow,
    Deployment,
    Execution,
    Recording,
    utcnow,
)


def _name_taken(name: object) -> ConflictError:
    return ConflictError(f"a campaign named {name!r} already exists")


def _commit(session: Session, name: object) -> None:
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent request took the name first
        session.rollback()
        raise _name_taken(name) from exc


def list_campaigns(session: Session, *, tenant_id: str) -> list[Campaign]:
    query = select(Campaign).where(Campaign.tenant_id == tenant_id)
    return list(session.exec(query.order_by(col(Campaign.name))).all())


def get_campaign(session: Session, *, tenant_id: str, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.tenant_id != tenant_id:
        raise NotFoundError(f"campaign {campaign_id} not found")
    return campaign


def _check_name_free(session: Session, *, tenant_id: str, name: str, own_id: str | None) -> None:
    holder = session.exec(
        select(Campaign).where(Campaign.tenant_id == tenant_id, Campaign.name == name)
    ).first()
    if holder is not None and holder.id != own_id:
        raise _name_taken(name)


def create_campaign(
    session: Session, *, tenant_id: str, name: str, description: str | None
) -> Campaign:
    """A new campaign; 409 when the tenant already has one of that name."""
    _check_name_free(session, tenant_id=tenant_id, name=name, own_id=None)
    campaign = Campaign(tenant_id=tenant_id, name=name, description=description)
    session.add(campaign)
    _commit(session, name)
    return campaign


def update_campaign(
    session: Session, *, tenant_id: str, campaign_id: str, changes: Mapping[str, Any]
) -> Campaign:
    campaign = get_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
    if "name" in changes:
        _check_name_free(session, tenant_id=tenant_id, name=changes["name"], own_id=campaign.id)
    for name, value in changes.items():
        setattr(campaign, name, value)
    campaign.updated_at = utcnow()
    session.add(campaign)
    _commit(session, campaign.name)
    return campaign


def _users(session: Session, campaign_id: str) -> list[str]:
    """What refers to the campaign: executions, deployments, recordings."""
    found = []
    for noun, column in (
        ("executions", col(Execution.campaign_id)),
        ("deployments", col(Deployment.campaign_id)),
        ("recordings", col(Recording.campaign_id)),
    ):
        if session.execute(sa.select(column).where(column == campaign_id).limit(1)).first():
            found.append(noun)
    return found


def delete_campaign(session: Session, *, tenant_id: str, campaign_id: str) -> None:
    """Remove an unused campaign (409 once anything refers to it); keys limited to it lose it."""
    campaign = get_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
    users = _users(session, campaign.id)
    if users:
        raise ConflictError(
            f"campaign {campaign.name!r} has {' and '.join(users)}: it cannot be deleted "
            "(rename it instead)"
        )
    keys = session.exec(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id, col(ApiKey.campaign_ids).is_not(None))
    ).all()
    for key in keys:
        if campaign.id in (key.campaign_ids or []):
            # A new list, so SQLAlchemy sees the JSON column change. An emptied list stays
            # empty (no campaign), never null (every campaign).
            key.campaign_ids = [c for c in key.campaign_ids or [] if c != campaign.id]
            session.add(key)
    # Its flow assignments are settings, not history: they go with it.
    assigned = session.exec(select(CampaignFlow).where(CampaignFlow.campaign_id == campaign.id))
    for assignment in assigned.all():
        session.delete(assignment)
    session.flush()
    session.delete(campaign)
    session.commit()


def check_campaign_ids(
    session: Session, *, tenant_id: str, campaign_ids: Sequence[str], path: str
) -> None:
    """422 naming each id (at `path[i]`) that is not a campaign of the tenant."""
    wanted = list(campaign_ids)
    known = set(
        session.exec(
            select(Campaign.id).where(Campaign.tenant_id == tenant_id, col(Campaign.id).in_(wanted))
        ).all()
    )
    check_known(
        wanted,
        known,
        path=path,
        code="not_found",
        problem=lambda campaign_id: f"no campaign {campaign_id} in this tenant",
        message="unknown campaigns",
    )


def check_campaign_id(
    session: Session, *, tenant_id: str, campaign_id: str, path: str = "$.campaign_id"
) -> None:
    """422 at `path` unless `campaign_id` is a campaign of the tenant."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.tenant_id != tenant_id:
        message = f"no campaign {campaign_id} in this tenant"
        raise InvalidInputError(
            message, details=[{"path": path, "code": "not_found", "message": message}]
        )
