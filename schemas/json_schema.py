"""JSON Schemas that a flow gives (an `ai_generate` step's `json_schema`): checked when the
flow is saved, and the answers checked against them when the step runs.

The schema's own `$schema` picks its draft; without one, Draft 2020-12. `format` is not
asserted (as the drafts say by default).
"""

from __future__ import annotations

from typing import Any

from jsonschema import exceptions, validators

MAX_PROBLEMS = 5


def schema_problem(schema: dict[str, Any]) -> str | None:
    """Why `schema` is not a valid JSON Schema, or None when it is."""
    try:
        validators.validator_for(schema).check_schema(schema)
    except exceptions.SchemaError as error:
        return f"{error.json_path}: {error.message}"
    return None


def instance_problems(schema: dict[str, Any], instance: Any) -> list[str]:
    """Where and why `instance` does not match `schema` (its first few problems, by path)."""
    validator = validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: e.json_path)
    return [f"{error.json_path}: {error.message}" for error in errors[:MAX_PROBLEMS]]
