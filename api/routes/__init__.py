"""One router per resource, gathered under /api."""

from fastapi import APIRouter

from api.routes import (
    admin,
    agents,
    analytics,
    campaigns,
    contacts,
    departments,
    deploy,
    dryrun,
    events,
    executions,
    flows,
    health,
    outbox,
    phone_numbers,
    recordings,
    schemas,
    simulate,
    templates,
    versions,
    webhooks_twilio,
)

api_router = APIRouter(prefix="/api")
api_router.include_router(health.router)
for module in (admin, schemas, flows, versions, executions, outbox, events):
    api_router.include_router(module.router)
for module in (templates, dryrun, analytics):
    api_router.include_router(module.router)
api_router.include_router(contacts.router)
api_router.include_router(simulate.router)
for module in (phone_numbers, departments, agents, deploy):
    api_router.include_router(module.router)
for module in (campaigns, recordings):
    api_router.include_router(module.router)
webhooks_router = webhooks_twilio.router
"""Twilio's webhooks live outside /api (SPEC §5). The app routes them first: a call's turn
is the hottest path, and each route tried before the right one costs tens of microseconds."""
