"""The `jira` step: create an issue, or comment on one (Jira Cloud's REST API v3).

`POST {base_url}/rest/api/3/issue` with `{"fields": {project, issuetype, summary,
description, labels, …}}` answers 201 `{"id", "key", "self"}`;
`POST {base_url}/rest/api/3/issue/{key}/comment` with `{"body": …}` answers 201 with the
comment. Version 3 takes rich text as an Atlassian Document Format (ADF) document, which the
step builds from plain text. The connection's credentials go in `Authorization`: `basic`
(the account's email and an API token, as Jira Cloud wants), `bearer` or `oauth2`. Jira's
errors are `{"errorMessages": [...], "errors": {field: message}}`.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from activities.net import FetchedResponse
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from activities.vendor import Vendor, open_vendor
from schemas.connections import auth_headers
from schemas.execution import ActionOutput
from schemas.flow import JiraConfig

SITE = ""
"""No default: a Jira connection's settings always give its site's `base_url`."""


def adf(text: str) -> dict[str, Any]:
    """Plain text as an ADF document: a paragraph per block of lines, line breaks kept.
    (ADF refuses an empty text node, so blank lines only part paragraphs.)"""
    paragraphs = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        block = block.strip("\n")
        if not block.strip():
            continue
        content: list[dict[str, Any]] = []
        for index, line in enumerate(block.split("\n")):
            if index:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def _refusal(body: Any) -> str | None:
    """Jira's error messages, field errors as `field: message`."""
    if not isinstance(body, dict):
        return None
    messages = [str(m) for m in body.get("errorMessages") or [] if m]
    errors = body.get("errors")
    if isinstance(errors, dict):
        messages += [f"{name}: {message}" for name, message in errors.items()]
    return "; ".join(messages) or None


async def _post(vendor: Vendor, operation: str, path: str, body: dict[str, Any]) -> Any:
    response: FetchedResponse = await vendor.request(
        operation,
        method="POST",
        url=f"{vendor.base_url(SITE)}{path}",
        headers={"Accept": "application/json", **auth_headers(vendor.connection)},
        json_body=body,
    )
    answer = response.json_or_text()
    if response.status >= 400 or not isinstance(answer, dict):
        raise vendor.refused(operation, response, None, _refusal(answer))
    return answer


def _labels(config: JiraConfig) -> list[str]:
    labels = config.labels
    if isinstance(labels, str):  # a template that gave text: one label, or comma-separated
        labels = [part.strip() for part in labels.split(",")]
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise step_error(
            "invalid jira config: labels must be a list of texts",
            type=INVALID_CONFIG,
            retryable=False,
        )
    return [label for label in labels if label]


async def create_issue(vendor: Vendor, config: JiraConfig) -> dict[str, Any]:
    assert config.project is not None and config.summary is not None
    project = {"id": config.project} if config.project.isdigit() else {"key": config.project}
    fields: dict[str, Any] = {
        **config.fields,
        "project": project,
        "issuetype": {"name": config.issue_type},
        "summary": config.summary,
    }
    if config.description:
        fields["description"] = adf(config.description)
    if labels := _labels(config):
        fields["labels"] = labels
    created = await _post(vendor, "create_issue", "/rest/api/3/issue", {"fields": fields})
    key = created.get("key")
    return {
        "issue_id": created.get("id"),
        "key": key,
        "url": f"{vendor.base_url(SITE)}/browse/{key}" if key else None,
    }


async def add_comment(vendor: Vendor, config: JiraConfig) -> dict[str, Any]:
    assert config.issue is not None and config.comment is not None
    issue = urllib.parse.quote(config.issue.strip(), safe="")
    path = f"/rest/api/3/issue/{issue}/comment"
    comment = await _post(vendor, "add_comment", path, {"body": adf(config.comment)})
    return {
        "issue": config.issue,
        "comment_id": comment.get("id"),
        "created": comment.get("created"),
    }


@handles("jira")
async def perform_jira(ctx: StepContext) -> ActionOutput:
    config = parse_config(JiraConfig, ctx)
    vendor = await open_vendor(ctx, connection=config.connection, integration="jira", label="Jira")
    match config.action:
        case "create_issue":
            result = await create_issue(vendor, config)
        case "add_comment":
            result = await add_comment(vendor, config)
    return ActionOutput(port="success", result={"action": config.action, **vendor.scrub(result)})
