"""`flowdeck dashboard build` rebuilds when the dashboard's sources or the API's OpenAPI
description changed, and only then; `flowdeck dashboard openapi` is the app's description."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import dashboard_build
from api.main import create_app
from schemas.settings import Settings
from tests.processes import environment, flowdeck_command


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dashboard folder of sources, with what a build and npm leave beside them."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "App.tsx").write_text("export const App = 1;\n")
    (tmp_path / "package.json").write_text("{}\n")
    for made in ("node_modules/react/index.js", "dist/assets/index.js", "src/api/schema.d.ts"):
        (tmp_path / made).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / made).write_text("made, not written\n")
    monkeypatch.setattr(dashboard_build, "DASHBOARD", tmp_path)
    return tmp_path


def test_the_digest_follows_the_sources_and_the_openapi_description(sources: Path) -> None:
    before = dashboard_build.source_digest(b'{"paths": {}}')
    assert dashboard_build.source_digest(b'{"paths": {}}') == before
    assert dashboard_build.source_digest(b'{"paths": {"/api/x": {}}}') != before
    (sources / "src" / "App.tsx").write_text("export const App = 2;\n")
    assert dashboard_build.source_digest(b'{"paths": {}}') != before


def test_what_the_build_makes_does_not_count_as_a_source(sources: Path) -> None:
    before = dashboard_build.source_digest(b"{}")
    for made in ("node_modules/react/index.js", "dist/assets/index.js", "src/api/schema.d.ts"):
        (sources / made).write_text("made again, differently\n")
    assert dashboard_build.source_digest(b"{}") == before


def test_the_openapi_command_writes_the_apps_description(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    done = subprocess.run(
        [*flowdeck_command(), "dashboard", "openapi", "--output", str(out)],
        env=environment(FLOWDECK_ENV="test"),
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    app = create_app(settings=Settings(FLOWDECK_ENV="test", DATABASE_URL="sqlite://"))
    assert json.loads(out.read_text())["paths"] == json.loads(json.dumps(app.openapi()))["paths"]


def test_a_rebuild_keeps_the_assets_pages_already_open_still_ask_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser that loaded the page before a rebuild still finds the earlier build's
    chunks; what is older than the build before and a day is removed, with its gzip copy."""
    assets = tmp_path / "assets"
    assets.mkdir()
    monkeypatch.setattr(dashboard_build, "DIST", tmp_path)
    now = 10_000_000.0
    day = dashboard_build.KEEP_OLD_ASSETS_S
    ages = {"current.js": 0, "previous.js": 3 * day, "yesterday.js": day / 2, "ancient.js": 9 * day}
    for name, age in ages.items():
        for file in (assets / name, assets / (name + ".gz")):
            file.write_text(name)
            os.utime(file, (now - age, now - age))
    previous_build_ended = now - 3 * day + 60

    dashboard_build._prune_old_assets(started=now - 30, previous_build=previous_build_ended)

    left = sorted(path.name for path in assets.iterdir())
    kept = ("current.js", "previous.js", "yesterday.js")
    assert left == sorted(f"{name}{gz}" for name in kept for gz in ("", ".gz"))
