"""Every router of the app, with the prefix it is served under: one list, in the order the
app tries them."""

from fastapi import APIRouter

from api.routes import (
    admin,
    agents,
    analytics,
    campaigns,
    connections,
    contacts,
    departments,
    deploy,
    dryrun,
    event_hooks,
    events,
    executions,
    flows,
    health,
    outbox,
    phone_numbers,
    recordings,
    schemas,
    session,
    simulate,
    steps,
    templates,
    tenant,
    versions,
    webhooks,
    webhooks_twilio,
)

API = "/api"

ROUTERS: tuple[tuple[str, APIRouter], ...] = (
    # Twilio's webhooks live outside /api (SPEC §5) and come first: a call's turn is the
    # hottest path, and each route tried before the right one costs tens of microseconds.
    ("", webhooks_twilio.router),
    ("", event_hooks.inbound),
    (API, health.router),
    (API, session.router),
    (API, admin.router),
    (API, tenant.router),
    (API, schemas.router),
    (API, steps.router),
    (API, flows.router),
    (API, versions.router),
    (API, executions.router),
    (API, outbox.router),
    (API, events.router),
    (API, templates.router),
    (API, dryrun.router),
    (API, analytics.router),
    (API, contacts.router),
    (API, simulate.router),
    (API, phone_numbers.router),
    (API, departments.router),
    (API, agents.router),
    (API, deploy.router),
    (API, campaigns.router),
    (API, recordings.router),
    (API, webhooks.router),
    (API, event_hooks.router),
    (API, connections.router),
)
"""A new resource is a module in this package and one line here."""
