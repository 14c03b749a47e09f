"""The dashboard at `/` (`api/dashboard.py`): its page for every client-side route, its
assets, the page saying how to build it when it is not built; and the API's own routes
answering exactly as before, first in line."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from api.dashboard import DashboardRoute
from api.main import create_app
from schemas.settings import Settings

INDEX = '<!doctype html><div id="root"></div><script type="module" src="/assets/app-1.js">'
SCRIPT = "console.log('flowdeck');" * 40


def _app_serving(dist: Path) -> httpx.AsyncClient:
    settings = Settings(FLOWDECK_ENV="test", DATABASE_URL="sqlite://", FLOWDECK_DASHBOARD_DIR=dist)
    app = create_app(settings=settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fd.test")


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A dashboard as `flowdeck dashboard build` leaves it: index.html, hashed assets, .gz."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "app-1.js").write_text(SCRIPT)
    (tmp_path / "assets" / "app-1.js.gz").write_bytes(gzip.compress(SCRIPT.encode()))
    (tmp_path / "secret.txt").write_text("not an asset")
    return tmp_path


@pytest.fixture
async def built(dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with _app_serving(dist) as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/flows", "/flows/abc", "/executions/e1/steps", "/x.png"])
async def test_every_client_side_route_answers_the_app_page(
    built: httpx.AsyncClient, path: str
) -> None:
    response = await built.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_assets_are_served_for_good_and_gzipped_to_who_takes_it(
    built: httpx.AsyncClient,
) -> None:
    plain = await built.get("/assets/app-1.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/javascript")
    assert "content-encoding" not in plain.headers
    assert plain.text == SCRIPT
    assert "immutable" in plain.headers["cache-control"]

    zipped = await built.get("/assets/app-1.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(SCRIPT)
    assert zipped.text == SCRIPT  # httpx decodes it


async def test_a_missing_asset_is_a_json_404(built: httpx.AsyncClient) -> None:
    response = await built.get("/assets/nope.js")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "no such dashboard asset"


@pytest.mark.parametrize(
    "path", ["/assets/../secret.txt", "/assets/%2e%2e/secret.txt", "/secret.txt"]
)
async def test_nothing_but_the_page_and_its_assets_is_served(
    built: httpx.AsyncClient, path: str
) -> None:
    response = await built.get(path)
    assert "not an asset" not in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nope"),
        ("POST", "/api/nope"),
        ("GET", "/api"),
        ("GET", "/webhooks/nope"),
        ("POST", "/flows"),
        ("DELETE", "/"),
    ],
)
async def test_the_api_answers_as_it_did_without_the_dashboard(
    built: httpx.AsyncClient, method: str, path: str
) -> None:
    """An unknown API path stays a JSON 404 (not the app's page, not a 405)."""
    response = await built.request(method, path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_docs_and_the_openapi_description_are_the_apis(built: httpx.AsyncClient) -> None:
    docs = await built.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = (await built.get("/openapi.json")).json()
    assert all(p.startswith(("/api", "/webhooks")) for p in spec["paths"])


def test_the_dashboard_routes_come_after_every_api_route(dist: Path) -> None:
    settings = Settings(FLOWDECK_ENV="test", DATABASE_URL="sqlite://", FLOWDECK_DASHBOARD_DIR=dist)
    routes = create_app(settings=settings).router.routes
    assert isinstance(routes[-2], Route) and routes[-2].path == "/assets/{name:path}"
    assert isinstance(routes[-1], DashboardRoute) and routes[-1].path == "/{path:path}"


@pytest.mark.parametrize("path", ["/", "/flows/abc"])
async def test_before_it_is_built_the_page_says_how_to_build_it(tmp_path: Path, path: str) -> None:
    async with _app_serving(tmp_path / "missing") as client:
        response = await client.get(path)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "flowdeck dashboard build" in response.text
