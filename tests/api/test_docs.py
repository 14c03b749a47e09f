"""/docs and /redoc work offline: every asset they load is served by the API itself."""

from __future__ import annotations

import re

import httpx
import pytest

# Whatever a page loads: stylesheets, icons, scripts, and the OpenAPI description it reads.
LOADED = re.compile(r"""(?:href|src|spec-url)="([^"]+)"|url: '([^']+)'""")


def _loaded_urls(page: str) -> list[str]:
    return [a or b for a, b in LOADED.findall(page)]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("/docs", {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"}),
        ("/redoc", {"/docs/assets/redoc.standalone.js"}),
    ],
)
async def test_the_docs_pages_load_only_local_assets_that_answer(
    api: httpx.AsyncClient, page: str, expected: set[str]
) -> None:
    response = await api.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = _loaded_urls(response.text)
    assert expected <= set(urls)
    assert "/openapi.json" in urls
    assert re.search(r"https?://", response.text) is None  # no CDN, no other host
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url}"
        asset = await api.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
