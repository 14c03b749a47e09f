"""Outgoing webhooks: subscriptions to events, their delivery log, and redelivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.bodies.webhooks import (
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)
from api.deps import ManagerKey, SessionDep, SettingsDep, TemporalDep, ViewerKey
from api.errors import KEYED, NOT_FOUND, UNAVAILABLE
from api.services import webhooks as service
from store import webhooks as store

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=KEYED)


@router.get("")
def list_webhooks(session: SessionDep, key: ViewerKey) -> list[WebhookOut]:
    rows = store.list_webhooks(session, tenant_id=key.tenant_id)
    return [WebhookOut.model_validate(w) for w in rows]


@router.post("", status_code=201)
async def create_webhook(
    body: WebhookCreate, session: SessionDep, settings: SettingsDep, key: ManagerKey
) -> WebhookCreated:
    """The answer carries the secret, this once."""
    webhook = await service.create_webhook(
        session=session, settings=settings, tenant_id=key.tenant_id, fields=body.given()
    )
    return WebhookCreated.model_validate(webhook)


@router.get("/{webhook_id}", responses=NOT_FOUND)
def read_webhook(webhook_id: str, session: SessionDep, key: ViewerKey) -> WebhookOut:
    webhook = store.get_webhook(session, tenant_id=key.tenant_id, webhook_id=webhook_id)
    return WebhookOut.model_validate(webhook)


@router.patch("/{webhook_id}", responses=NOT_FOUND | UNAVAILABLE)
async def update_webhook(
    webhook_id: str,
    body: WebhookUpdate,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    key: ManagerKey,
) -> WebhookOut:
    """Switched on again (`active: true`), its waiting deliveries go out."""
    webhook = await service.update_webhook(
        session=session,
        settings=settings,
        client=client,
        tenant_id=key.tenant_id,
        webhook_id=webhook_id,
        changes=body.given(),
    )
    return WebhookOut.model_validate(webhook)


@router.delete("/{webhook_id}", status_code=204, responses=NOT_FOUND)
def delete_webhook(webhook_id: str, session: SessionDep, key: ManagerKey) -> Response:
    """Remove it and its delivery log; nothing more is sent to it."""
    store.delete_webhook(session, tenant_id=key.tenant_id, webhook_id=webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", responses=NOT_FOUND)
def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    key: ViewerKey,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    """The delivery log, newest event first."""
    rows = store.list_deliveries(
        session, tenant_id=key.tenant_id, webhook_id=webhook_id, limit=limit
    )
    return [DeliveryOut.model_validate(d) for d in rows]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    responses=NOT_FOUND | UNAVAILABLE,
)
async def redeliver(
    webhook_id: str,
    delivery_id: str,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    key: ManagerKey,
) -> DeliveryOut:
    """Send the delivery's event again (same `webhook-id`, a new signature), as a new delivery."""
    delivery = await service.redeliver(
        session=session,
        settings=settings,
        client=client,
        tenant_id=key.tenant_id,
        webhook_id=webhook_id,
        delivery_id=delivery_id,
    )
    return DeliveryOut.model_validate(delivery)
