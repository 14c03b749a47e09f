"""The web dashboard at `/`: the files `flowdeck dashboard build` put in `dashboard/dist`.

Its scripts and styles are served under `/assets/` (hashed names, cached for good; gzipped
copies when the browser takes them); every other GET outside the API's own prefixes answers
`index.html`, so a client-side route (`/flows/abc`) loads the app. These routes come after
every API route and never match a path of the API's, so the API answers as it would without
them (a JSON 404 for an unknown `/api/…` path). Until the dashboard is built, `/` answers a
short page saying how to build it.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

ASSETS = "/assets"
API_PREFIXES = ("/api", "/webhooks", "/docs", "/redoc", "/openapi.json", ASSETS)
"""Paths the dashboard never answers: the API's (and its docs'), and its own assets (an
asset that does not exist is a 404, not the app's page)."""
IMMUTABLE = "public, max-age=31536000, immutable"
PAGE_HEADERS = {
    # The page is small and names the current assets: always ask whether it changed.
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flowdeck: dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>The dashboard is not built yet</h1>
<p>Build it with <code>.venv/bin/flowdeck dashboard build</code> (<code>./run</code> does it
when it starts), then reload this page.</p>
<p>The API answers meanwhile: <a href="/docs">/docs</a> describes it.</p>
</body></html>
"""


def _outside_api(path: str) -> bool:
    return not any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


class DashboardRoute(Route):
    """A route that matches GET and HEAD outside the API's prefixes only, so it never turns
    an API 404 into a 405 or a page."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        wanted = scope["type"] == "http" and scope["method"] in {"GET", "HEAD"}
        if wanted and _outside_api(scope["path"]):
            return super().matches(scope)
        return Match.NONE, {}


def _asset_file(dist: Path, name: str) -> Path | None:
    root = (dist / "assets").resolve()
    candidate = (root / name).resolve()
    if candidate.is_relative_to(root) and candidate.is_file():
        return candidate
    return None


def install_dashboard(app: FastAPI, dist: Path) -> None:
    """Serve the dashboard built in `dist`, after every route the app has so far."""

    async def asset(request: Request) -> Response:
        found = _asset_file(dist, request.path_params["name"])
        if found is None:
            raise HTTPException(404, "no such dashboard asset")
        media_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        gzipped = found.with_name(found.name + ".gz")
        headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", "") and gzipped.is_file():
            headers["Content-Encoding"] = "gzip"
            return FileResponse(gzipped, media_type=media_type, headers=headers)
        return FileResponse(found, media_type=media_type, headers=headers)

    async def page(_request: Request) -> Response:
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-cache"})
        return FileResponse(index, media_type="text/html", headers=PAGE_HEADERS)

    app.router.routes.append(Route(ASSETS + "/{name:path}", asset, methods=["GET", "HEAD"]))
    app.router.routes.append(DashboardRoute("/{path:path}", page, methods=["GET", "HEAD"]))
