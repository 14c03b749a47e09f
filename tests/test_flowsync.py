"""`flowdeck flows …` as a team runs it: real `flowdeck` processes against a real `flowdeck api`.

The API runs as its own process (with its embedded worker) on the suite's Temporal dev server
and a SQLite file of its own; the commands are run in a folder holding copies of examples/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from store.keys import new_secret
from tests.examples import EXAMPLE_FILES
from tests.processes import REPO, ApiProcess, environment, flowdeck_command, free_port, serving_api

HELLO = {
    "name": "Hello",
    "trigger": {"type": "manual"},
    "definition": {
        "start": "greet",
        "nodes": [
            {
                "id": "greet",
                "type": "set",
                "config": {"assign": {"greeting": "Hello {{ contact.name }}"}},
                "transitions": {"next": "text"},
            },
            {
                "id": "text",
                "type": "sms",
                "config": {"body": "{{ vars.greeting }}, your order has shipped."},
                "transitions": {"sent": "done", "failed": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    },
}


@dataclass
class Team:
    """A checkout of flow files, and the API its commands reach."""

    api: ApiProcess
    key: str
    folder: Path

    def flows(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """`flowdeck flows ARGS` as typed in the folder, URL and key from the environment."""
        settings = {"FLOWDECK_API_URL": self.api.base_url, "FLOWDECK_API_KEY": self.key, **env}
        return subprocess.run(
            [*flowdeck_command(), "flows", *args],
            cwd=self.folder,
            env=environment(**settings),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def get(self, path: str) -> Any:
        response = httpx.get(
            f"{self.api.base_url}{path}",
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def flow(self, name: str) -> dict[str, Any]:
        [flow] = [f for f in self.get("/api/flows") if f["name"] == name]
        detail: dict[str, Any] = self.get(f"/api/flows/{flow['id']}")
        return detail

    def write(self, name: str, document: dict[str, Any]) -> str:
        (self.folder / name).write_text(json.dumps(document, indent=2))
        return name


@pytest.fixture
def team(tmp_path: Path, temporal_env: WorkflowEnvironment) -> Iterator[Team]:
    server = tmp_path / "server"
    server.mkdir()
    key = new_secret()
    target = temporal_env.client.service_client.config.target_host
    with serving_api(server, temporal_target=target, admin_key=key) as api:
        folder = tmp_path / "flows"
        shutil.copytree(REPO / "examples", folder / "examples")
        yield Team(api=api, key=key, folder=folder)


def test_every_example_pushes_as_it_is_and_pushing_again_changes_nothing(team: Team) -> None:
    files = [f"examples/{path.name}" for path in EXAMPLE_FILES]
    pushed = team.flows("push", *files)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.count("draft version 1") == len(files), pushed.stdout

    for path in EXAMPLE_FILES:
        document = json.loads(path.read_text())
        flow = team.flow(document["name"])
        assert flow["trigger"] == document["trigger"]
        assert flow["priority"] == document.get("priority")
        assert [(v["number"], v["status"]) for v in flow["versions"]] == [(1, "draft")]
        draft = team.get(f"/api/flows/{flow['id']}/versions/1")
        assert draft["definition"] == document["definition"]

    again = team.flows("push", *files)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("settings unchanged, definition unchanged") == len(files)
    lead = team.flow("IndiaMART lead follow-up")
    assert [v["number"] for v in lead["versions"]] == [1]


def test_validate_prints_each_problem_at_its_json_path_and_fails(team: Team) -> None:
    broken = team.write(
        "broken.json",
        {
            "name": "Broken",
            "definition": {
                "start": "a",
                "nodes": [
                    {"id": "a", "type": "sms", "config": {}, "transitions": {"sent": "b"}},
                    {"id": "b", "type": "teleport"},
                ],
            },
        },
    )
    (team.folder / "truncated.json").write_text('{"name": "Truncated",')

    checked = team.flows("validate", "examples/ivr_menu.json", broken, "truncated.json")

    assert checked.returncode == 1
    assert "examples/ivr_menu.json: valid" in checked.stdout
    assert "$.definition.nodes[0].config.body" in checked.stderr
    assert "$.definition.nodes[1].type: unknown node type 'teleport'" in checked.stderr
    assert "truncated.json: not JSON" in checked.stderr
    assert team.get("/api/flows") == []  # validating saves nothing
    assert team.flows("validate", "examples/lead_engagement.json").returncode == 0


def test_a_changed_file_is_a_new_draft_then_published_and_diff_and_export_agree(
    team: Team,
) -> None:
    path = "examples/lead_engagement.json"
    assert team.flows("push", path).returncode == 0
    assert team.flows("publish", path).returncode == 0
    unchanged = team.flows("diff", path)
    assert (unchanged.returncode, unchanged.stdout) == (0, ""), unchanged.stderr

    document = json.loads((team.folder / path).read_text())
    [pause] = [n for n in document["definition"]["nodes"] if n["id"] == "pause"]
    pause["config"]["minutes"] = 20
    document["priority"] = 7
    team.write(path, document)

    differs = team.flows("diff", path)
    assert differs.returncode == 1, differs.stderr
    assert '-          "minutes": 10' in differs.stdout
    assert '+          "minutes": 20' in differs.stdout
    assert '-  "priority": 1,' in differs.stdout and '+  "priority": 7,' in differs.stdout

    refused = team.flows("publish", path)  # not pushed yet: v1 is not this file
    assert refused.returncode == 1 and "push it first" in refused.stderr

    pushed = team.flows("push", path)
    assert pushed.returncode == 0, pushed.stderr
    assert "settings updated (priority), draft version 2" in pushed.stdout
    flow = team.flow(document["name"])
    assert flow["priority"] == 7 and flow["published_version"] == 1

    published = team.flows("publish", path)
    assert published.returncode == 0, published.stderr
    assert team.flow(document["name"])["published_version"] == 2
    assert team.flows("diff", path).returncode == 0

    exported = team.flows("export", "exported.json", "--flow", document["name"])
    assert exported.returncode == 0, exported.stderr
    assert json.loads((team.folder / "exported.json").read_text()) == document
    assert team.flows("diff", "exported.json").returncode == 0


def test_run_starts_an_execution_and_with_wait_prints_its_timeline(team: Team) -> None:
    hello = team.write("hello.json", HELLO)
    assert team.flows("push", hello).returncode == 0
    assert team.flows("publish", hello).returncode == 0

    started = team.flows("run", hello, "--contact", '{"name": "Meera", "phone": "+15550100001"}')
    assert started.returncode == 0, started.stderr
    execution_id = started.stdout.strip()
    assert team.get(f"/api/executions/{execution_id}")["contact"]["name"] == "Meera"

    waited = team.flows(
        "run", hello, "--wait", "--contact", '{"name": "Asha", "phone": "+15550100002"}'
    )
    assert waited.returncode == 0, waited.stderr
    lines = waited.stdout.splitlines()
    assert lines[0].startswith("execution ") and " completed (Hello v1)" in lines[0]
    assert [line.split()[1:4] for line in lines[1:]] == [
        ["greet", "set", "success"],
        ["text", "sms", "success"],
        ["done", "end", "success"],
    ]
    assert "-> next" in lines[1] and "-> sent" in lines[2]
    texts = [m["content"]["body"] for m in team.get("/api/outbox")["items"]]
    assert "Hello Asha, your order has shipped." in texts


def test_a_run_that_fails_exits_1_with_its_reason(team: Team) -> None:
    failing = {
        **HELLO,
        "name": "Failing",
        "definition": {
            "start": "stop",
            "nodes": [
                {"id": "stop", "type": "end", "config": {"status": "failed", "reason": "no stock"}}
            ],
        },
    }
    path = team.write("failing.json", failing)
    assert team.flows("push", path).returncode == 0
    assert team.flows("publish", path).returncode == 0
    ran = team.flows("run", path, "--wait")
    assert ran.returncode == 1
    assert "failed: no stock" in ran.stdout
    assert "ended failed" in ran.stderr


def test_without_a_key_or_a_server_it_says_what_to_set(team: Team) -> None:
    keyless = team.flows("push", "examples/ivr_menu.json", FLOWDECK_API_KEY="")
    assert keyless.returncode == 1 and "set FLOWDECK_API_KEY" in keyless.stderr
    wrong = team.flows("push", "examples/ivr_menu.json", FLOWDECK_API_KEY="fd_not-a-key")
    assert wrong.returncode == 1 and "refused the key" in wrong.stderr
    nowhere = team.flows(
        "diff", "examples/ivr_menu.json", FLOWDECK_API_URL=f"http://127.0.0.1:{free_port()}"
    )
    assert nowhere.returncode == 2 and "cannot reach the API" in nowhere.stderr
    assert team.get("/api/flows") == []
