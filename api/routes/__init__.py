"""One router per resource, gathered under /api."""

from fastapi import APIRouter

from api.routes import admin, events, executions, flows, outbox, schemas, versions

api_router = APIRouter(prefix="/api")
for module in (admin, schemas, flows, versions, executions, outbox, events):
    api_router.include_router(module.router)
