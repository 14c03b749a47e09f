"""The HTTP API: FastAPI app, routers per resource, auth dependencies."""
