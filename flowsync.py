"""`flowdeck flows …`: flows kept as files in git and pushed to a running Flowdeck API.

A flow file is exactly a `POST /api/flows` body: the flow's settings (`name`, `description`,
`enabled`, `priority`, `trigger`, `business_hours`, `cooldown_minutes`), its `definition`
and optionally `change_notes`. The flow a file stands for is the tenant's flow of that `name`.
Settings a file leaves out are not managed by it: push never clears them.

Exit codes: 0 when every file went well; 1 when one did not (problems are printed with their
JSON paths, which are paths in the file); `diff` answers as diff(1) does: 0 no difference,
1 differences, 2 trouble.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SETTINGS = (
    "name",
    "description",
    "enabled",
    "priority",
    "trigger",
    "business_hours",
    "cooldown_minutes",
)
"""The flow settings a file may carry, in the order `export` writes them."""
TERMINAL = ("completed", "failed", "cancelled", "skipped")
POLL_S = 0.5


class ClientSettings(BaseSettings):
    """Where the API is and the key to use: the environment or `.env`, like the server's."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")
    api_url: str = Field(default="http://localhost:8000", alias="FLOWDECK_API_URL")
    api_key: SecretStr | None = Field(default=None, alias="FLOWDECK_API_KEY")


class FlowsError(Exception):
    """A file could not be handled; the message says why (lines after the first: details)."""


# --- files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowFile:
    path: Path
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.body["name"])

    @property
    def definition(self) -> Any:
        return self.body["definition"]

    def settings(self) -> dict[str, Any]:
        return {k: self.body[k] for k in SETTINGS if k in self.body}


def read_flow_file(path: Path) -> FlowFile:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FlowsError(f"cannot read it: {error.strerror}") from error
    except ValueError as error:
        raise FlowsError(f"not JSON: {error}") from error
    if not isinstance(body, dict):
        raise FlowsError("$: a flow file is a JSON object (a POST /api/flows body)")
    missing = [k for k in ("name", "definition") if k not in body]
    if missing:
        raise FlowsError("\n".join(f"$.{k}: missing" for k in missing))
    if not isinstance(body["name"], str) or not body["name"]:
        raise FlowsError("$.name: the flow's name, a non-empty string")
    return FlowFile(path=path, body=body)


def flow_document(flow: dict[str, Any], definition: Any) -> dict[str, Any]:
    """A flow as a file: its settings (unset ones left out) and a version's definition."""
    document = {k: flow[k] for k in SETTINGS if flow.get(k) is not None}
    document["definition"] = definition
    return document


def dump(document: Any, *, sort_keys: bool = False) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n"


def covers(server: Any, given: Any) -> bool:
    """The server's value is what the file gives, defaults it filled in aside."""
    if isinstance(server, dict) and isinstance(given, dict):
        return all(k in server and covers(server[k], v) for k, v in given.items())
    return bool(server == given)


# --- the API -----------------------------------------------------------------------------


def _problems(response: httpx.Response) -> str:
    """The API's error envelope as lines: the message, then each detail at its path."""
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:500]}"
    lines = [f"{error.get('message', 'refused')} (HTTP {response.status_code})"]
    for detail in error.get("details") or []:
        code = f" ({detail['code']})" if detail.get("code") else ""
        lines.append(f"  {detail.get('path', '$')}: {detail.get('message', '')}{code}")
    return "\n".join(lines)


class Api:
    """The few calls the commands make, each raising FlowsError with the API's problems."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._flows: list[dict[str, Any]] | None = None

    def call(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kw: Any) -> Any:
        try:
            response = self.client.request(method, path, **kw)
        except httpx.HTTPError as error:
            raise FlowsError(
                f"cannot reach the API at {self.client.base_url}: {error} "
                "(is it running? FLOWDECK_API_URL says where)"
            ) from error
        if response.status_code == 401:
            raise FlowsError("the API refused the key: set FLOWDECK_API_KEY to a live key")
        if response.status_code not in ok:
            raise FlowsError(_problems(response))
        return response.json() if response.content else None

    def flows(self) -> list[dict[str, Any]]:
        if self._flows is None:
            self._flows = list(self.call("GET", "/api/flows"))
        return self._flows

    def find(self, name: str) -> dict[str, Any] | None:
        """The flow of that name (or id), with its versions; None when there is none."""
        named = [f for f in self.flows() if name in (f["name"], f["id"])]
        if len(named) > 1:
            ids = ", ".join(f["id"] for f in named)
            raise FlowsError(f"{len(named)} flows are named {name!r} ({ids}): rename all but one")
        if not named:
            return None
        detail: dict[str, Any] = self.call("GET", f"/api/flows/{named[0]['id']}")
        return detail

    def get(self, name: str) -> dict[str, Any]:
        flow = self.find(name)
        if flow is None:
            raise FlowsError(f"no flow named {name!r} on the server: push it first")
        return flow

    def version(self, flow: dict[str, Any], number: int) -> dict[str, Any]:
        version: dict[str, Any] = self.call("GET", f"/api/flows/{flow['id']}/versions/{number}")
        return version

    def newest(self, flow: dict[str, Any]) -> dict[str, Any] | None:
        numbers = [v["number"] for v in flow["versions"]]
        return self.version(flow, max(numbers)) if numbers else None

    def forget(self) -> None:
        self._flows = None


@contextmanager
def connect(settings: ClientSettings) -> Iterator[Api]:
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    if not key:
        raise FlowsError(
            "set FLOWDECK_API_KEY to an API key (the admin key `./run` prints, also kept in "
            ".data/admin_key); FLOWDECK_API_URL says where the API is "
            f"(now {settings.api_url})"
        )
    headers = {"Authorization": f"Bearer {key}"}
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request is noise here
    with httpx.Client(base_url=settings.api_url, headers=headers, timeout=30) as client:
        yield Api(client)


# --- commands ----------------------------------------------------------------------------


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _live_call(file: FlowFile) -> bool:
    trigger = file.body.get("trigger")
    return isinstance(trigger, dict) and trigger.get("type") == "call_incoming"


def validate(api: Api, file: FlowFile, _args: argparse.Namespace) -> None:
    body = {"definition": file.definition, "live_call": _live_call(file)}
    report = api.call("POST", "/api/flows/validate", json=body)
    out(f"{file.path}: valid")
    for warning in report["warnings"]:
        out(f"  warning {warning['path']}: {warning['message']}")


def push(api: Api, file: FlowFile, _args: argparse.Namespace) -> None:
    flow = api.find(file.name)
    if flow is None:
        created = api.call("POST", "/api/flows", ok=(201,), json=file.body)
        api.forget()
        out(f"{file.path}: created flow {created['id']} {file.name!r}, draft version 1")
        return
    changes = {k: v for k, v in file.settings().items() if not covers(flow.get(k), v)}
    if changes:
        api.call("PATCH", f"/api/flows/{flow['id']}", json=changes)
    newest = api.newest(flow)
    said = f"settings updated ({', '.join(changes)})" if changes else "settings unchanged"
    if newest is not None and newest["definition"] == file.definition:
        out(
            f"{file.path}: flow {flow['id']} {file.name!r}: {said}, definition unchanged "
            f"(version {newest['number']}, {newest['status']})"
        )
        return
    notes = file.body.get("change_notes") or f"pushed from {file.path.name}"
    body = {"definition": file.definition, "change_notes": notes}
    version = api.call("POST", f"/api/flows/{flow['id']}/versions", ok=(201,), json=body)
    out(f"{file.path}: flow {flow['id']} {file.name!r}: {said}, draft version {version['number']}")


def publish(api: Api, file: FlowFile, _args: argparse.Namespace) -> None:
    """Publishes the flow's newest version, a draft, when it is the file's definition."""
    flow = api.get(file.name)
    newest = api.newest(flow)
    if newest is None or newest["definition"] != file.definition:
        raise FlowsError(
            f"the newest version of {file.name!r} is not this file's definition: push it first"
        )
    if newest["status"] == "published":
        out(f"{file.path}: version {newest['number']} of {file.name!r} is already published")
        return
    if newest["status"] != "draft":
        raise FlowsError(f"version {newest['number']} is {newest['status']}: push it again")
    api.call("POST", f"/api/flows/{flow['id']}/versions/{newest['number']}/publish")
    out(f"{file.path}: published version {newest['number']} of flow {flow['id']} {file.name!r}")


def _json_option(value: str | None, option: str) -> dict[str, Any]:
    if value is None:
        return {}
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    try:
        parsed = json.loads(text)
    except ValueError as error:
        raise FlowsError(f"{option}: not JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise FlowsError(f"{option}: a JSON object")
    return parsed


def timeline(execution: dict[str, Any]) -> list[str]:
    """The execution's steps, one line each: node, type, status, port, time, error."""
    lines = [
        f"execution {execution['id']} {execution['status']}"
        + (f": {execution['reason']}" if execution.get("reason") else "")
        + f" ({execution.get('flow_name') or execution['flow_id']} v{execution['version']})"
    ]
    for step in execution.get("steps", []):
        port = f"-> {step['port']}" if step.get("port") else ""
        took = f"{step['duration_ms']} ms" if step.get("duration_ms") is not None else ""
        line = f"  {step['seq']:>3}  {step['node_id']:<16} {step['node_type']:<14} "
        line += f"{step['status']:<8} {port:<14} {took}".rstrip()
        lines.append(line.rstrip())
        why = step.get("error") or step.get("skip_reason")
        if why:
            lines.append(f"       {why}")
    return lines


def run(api: Api, file: FlowFile, args: argparse.Namespace) -> None:
    flow = api.get(file.name)
    body: dict[str, Any] = {
        "contact": _json_option(args.contact, "--contact"),
        "variables": _json_option(args.variables, "--variables"),
        "test": args.test,
    }
    if args.version is not None:
        body["version"] = args.version
    started = api.call("POST", f"/api/flows/{flow['id']}/executions", ok=(201,), json=body)
    execution_id = started["id"]
    if not args.wait:
        err(
            f"{file.path}: execution {execution_id} of {file.name!r} v{started['version']} "
            f"{started['status']}"
        )
        out(execution_id)
        return
    deadline = time.monotonic() + args.timeout
    while True:
        execution = api.call("GET", f"/api/executions/{execution_id}")
        if execution["status"] in TERMINAL or time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    for line in timeline(execution):
        out(line)
    if execution["status"] not in TERMINAL:
        raise FlowsError(f"still {execution['status']} after {args.timeout:g} s")
    if execution["status"] != "completed":
        raise FlowsError(f"ended {execution['status']}")


def _export_version(api: Api, flow: dict[str, Any], number: int | None) -> dict[str, Any]:
    """The version asked for, else the published one, else the newest."""
    chosen = number or flow.get("published_version")
    if chosen is None:
        newest = api.newest(flow)
        if newest is None:
            raise FlowsError(f"flow {flow['id']} {flow['name']!r} has no version")
        return newest
    return api.version(flow, chosen)


def export(api: Api, path: Path, args: argparse.Namespace) -> None:
    name = args.flow or read_flow_file(path).name
    flow = api.get(name)
    version = _export_version(api, flow, args.version)
    path.write_text(dump(flow_document(flow, version["definition"])), encoding="utf-8")
    out(
        f"{path}: flow {flow['id']} {flow['name']!r}, version {version['number']} "
        f"({version['status']})"
    )


def diff(api: Api, file: FlowFile, _args: argparse.Namespace) -> bool:
    """Prints how the published flow would change to become the file; True if it would."""
    flow = api.find(file.name)
    ours = {**file.settings(), "definition": file.definition}
    if flow is None or flow.get("published_version") is None:
        theirs: dict[str, Any] = {}
        label = "(not on the server)" if flow is None else "(nothing published)"
    else:
        published = api.version(flow, flow["published_version"])
        theirs = {
            k: (ours[k] if covers(flow.get(k), ours[k]) else flow.get(k)) for k in file.settings()
        }
        theirs["definition"] = published["definition"]
        label = f"{file.name} v{published['number']} (published)"
    before = dump(theirs, sort_keys=True).splitlines(keepends=True) if theirs else []
    after = dump(ours, sort_keys=True).splitlines(keepends=True)
    lines = list(difflib.unified_diff(before, after, fromfile=label, tofile=str(file.path)))
    sys.stdout.writelines(lines)
    if not lines:
        err(f"{file.path}: same as the published version")
    return bool(lines)


# --- wiring ------------------------------------------------------------------------------

FileCommand = Callable[[Api, FlowFile, argparse.Namespace], None]


def _each_file(args: argparse.Namespace, command: FileCommand) -> int:
    failed = False
    with connect(ClientSettings()) as api:
        for path in args.files:
            try:
                command(api, read_flow_file(path), args)
            except FlowsError as error:
                failed = True
                first, *rest = str(error).splitlines()
                err(f"{path}: {first}")
                for line in rest:
                    err(line)
    return 1 if failed else 0


def _handle(args: argparse.Namespace, _settings: object) -> int:
    try:
        if args.flows_command == "export":
            return _export_all(args)
        if args.flows_command == "diff":
            return _diff_all(args)
        command: FileCommand = {
            "validate": validate,
            "push": push,
            "publish": publish,
            "run": run,
        }[args.flows_command]
        return _each_file(args, command)
    except FlowsError as error:
        err(f"flowdeck flows {args.flows_command}: {error}")
        return 2 if args.flows_command == "diff" else 1


def _export_all(args: argparse.Namespace) -> int:
    if args.flow is not None and len(args.files) != 1:
        raise FlowsError("--flow writes one file: give exactly one FILE")
    failed = False
    with connect(ClientSettings()) as api:
        for path in args.files:
            try:
                export(api, path, args)
            except FlowsError as error:
                failed = True
                err(f"{path}: {error}")
    return 1 if failed else 0


def _diff_all(args: argparse.Namespace) -> int:
    differs, trouble = False, False
    with connect(ClientSettings()) as api:
        for path in args.files:
            try:
                differs = diff(api, read_flow_file(path), args) or differs
            except FlowsError as error:
                trouble = True
                err(f"{path}: {error}")
    return 2 if trouble else (1 if differs else 0)


def add_flows_parser(commands: Any) -> None:
    """`flowdeck flows …`, registered on the CLI's subcommands."""
    flows = commands.add_parser(
        "flows",
        help="flows as files: validate, push, publish, run, export, diff against a running API",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    flows.set_defaults(handler=_handle)
    sub = flows.add_subparsers(dest="flows_command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help)
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        return parser

    command("validate", "check each file's definition (problems with their JSON paths)")
    command(
        "push",
        "create each flow by name, or add a draft when its definition changed; "
        "update the settings the file has",
    )
    command("publish", "publish each flow's newest draft (it must be the file's definition)")
    runner = command("run", "start an execution of each file's flow")
    runner.add_argument("--contact", help="the contact, as JSON or @file.json")
    runner.add_argument("--variables", help="the run's variables, as JSON or @file.json")
    runner.add_argument("--version", type=int, help="a version other than the published one")
    runner.add_argument("--test", action="store_true", help="a test run (sandbox providers)")
    runner.add_argument(
        "--wait", action="store_true", help="wait until it ends and print its timeline"
    )
    runner.add_argument("--timeout", type=float, default=300, help="seconds --wait waits")
    exporter = command(
        "export", "write each flow's settings and definition (published, else newest)"
    )
    exporter.add_argument("--flow", help="the flow's name or id (default: the file's `name`)")
    exporter.add_argument("--version", type=int, help="a version other than the published one")
    command("diff", "a unified diff from the published flow to each file (exit 1: differs)")
