"""The API's error body for invalid flows and invalid requests."""

from __future__ import annotations

from schemas.api_errors import invalid_flow_response, json_path, request_error_details
from schemas.validation import validate_flow


def test_invalid_flow_body_reroots_paths_under_the_request_key() -> None:
    report, _ = validate_flow({"start": "nope", "nodes": [{"id": "done", "type": "end"}]})
    body = invalid_flow_response(report, prefix="$.definition").model_dump()
    assert body == {
        "error": {
            "code": "invalid_flow",
            "message": "the flow document has 1 problem",
            "details": [
                {
                    "path": "$.definition.start",
                    "code": "unknown_node",
                    "message": "start 'nope' is not the id of any node",
                }
            ],
        }
    }


def test_json_path() -> None:
    assert json_path(("definition", "nodes", 2, "type")) == "$.definition.nodes[2].type"
    assert json_path(()) == "$"


def test_request_error_details_from_fastapi_errors() -> None:
    errors = [
        {"loc": ("body", "name"), "type": "missing", "msg": "Field required"},
        {"loc": ("query", "limit"), "type": "int_parsing", "msg": "Input should be an integer"},
        {"loc": ("body", "tags", 0, "x"), "type": "extra_forbidden", "msg": "Extra inputs"},
    ]
    details = [(d.path, d.code) for d in request_error_details(errors)]
    assert details == [
        ("$.name", "missing"),
        ("$.query.limit", "invalid_value"),
        ("$.tags[0].x", "unknown_key"),
    ]
