"""The README's quickstart, pasted as it is, ends in a completed execution.

The lines of its second shell block (the ones a newcomer pastes while `./run` serves) run in
a folder laid out as the repository is (`.venv/`, `examples/`, `.data/admin_key`) against a
real `flowdeck api` on the tests' Temporal server; only the port in the first line changes,
as the README allows. A README edit that breaks a line fails this test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from store.keys import new_secret
from tests.processes import REPO, ApiProcess, environment, serving_api

DEFAULT_URL = "http://localhost:8000"


def quickstart_lines() -> list[str]:
    """The lines of the quickstart's shell block that follows `./run`."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert blocks[0].strip() == "./run", blocks[0]
    return [line for line in blocks[1].splitlines() if line.strip()]


@pytest.fixture
def api(tmp_path: Path, temporal_env: WorkflowEnvironment) -> Iterator[tuple[ApiProcess, str]]:
    admin_key = new_secret()
    target = temporal_env.client.service_client.config.target_host
    with serving_api(tmp_path, temporal_target=target, admin_key=admin_key) as process:
        yield process, admin_key


def _last_json(output: str) -> dict[str, Any]:
    """The last JSON document the lines printed (it runs to the end of the output)."""
    end = len(output.rstrip())
    decoder = json.JSONDecoder()
    for start in (i for i, c in enumerate(output) if c == "{"):
        try:
            document, stop = decoder.raw_decode(output, start)
        except json.JSONDecodeError:
            continue
        if stop == end and isinstance(document, dict):
            return document
    raise AssertionError(f"no JSON document ends the output:\n{output}")


def test_the_readme_quickstart_pasted_as_it_is_ends_in_a_completed_run(
    tmp_path: Path, api: tuple[ApiProcess, str]
) -> None:
    process, admin_key = api
    lines = quickstart_lines()
    assert lines[0] == f"export FLOWDECK_API_URL={DEFAULT_URL}", lines[0]
    lines[0] = f"export FLOWDECK_API_URL={process.base_url}"
    clone = tmp_path / "clone"  # the repository's layout, where the lines are pasted
    clone.mkdir()
    (clone / ".venv").symlink_to(Path(sys.executable).parents[1])
    (clone / "examples").symlink_to(REPO / "examples")
    (clone / ".data").mkdir()
    (clone / ".data" / "admin_key").write_text(admin_key)
    env = environment()
    env.pop("FLOWDECK_API_URL", None)
    env.pop("FLOWDECK_API_KEY", None)

    output = ""
    shell = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-e"],
        cwd=clone,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output, _ = shell.communicate("\n".join(lines) + "\n", timeout=120)
    assert shell.returncode == 0, output
    shown = _last_json(output)
    execution_id = shown["id"]
    with httpx.Client(base_url=process.base_url, timeout=10) as http:
        deadline = time.monotonic() + 30
        while shown["status"] != "completed" and time.monotonic() < deadline:
            time.sleep(0.2)
            read = http.get(
                f"/api/executions/{execution_id}",
                headers={"Authorization": f"Bearer {admin_key}"},
            )
            shown = read.json()
    assert shown["status"] == "completed", output
    steps = [(s["node_id"], s.get("port")) for s in shown["steps"]]
    assert steps[0] == ("call", "answered"), steps
    assert [node for node, _ in steps][-2:] == ["qualified", "done"], steps
    assert shown["temporal_url"], shown
