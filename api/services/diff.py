"""What changed between two flow versions: nodes added, removed and changed field by field."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted paths (`config.params.1`); lists and scalars are leaves."""
    if isinstance(value, dict) and (value or not prefix):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def field_changes(before: Any, after: Any) -> list[dict[str, Any]]:
    """One entry per changed leaf: `{"field", "from", "to"}` (a missing side is absent)."""
    old, new = _flatten(before), _flatten(after)
    changes = []
    for field in sorted(set(old) | set(new)):
        a, b = old.get(field, _MISSING), new.get(field, _MISSING)
        if a == b:
            continue
        change: dict[str, Any] = {"field": field}
        if a is not _MISSING:
            change["from"] = a
        if b is not _MISSING:
            change["to"] = b
        changes.append(change)
    return changes


def _nodes(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nodes = definition.get("nodes") or []
    return {n["id"]: n for n in nodes if isinstance(n, dict) and "id" in n}


def diff_definitions(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The difference between two flow documents, in node order of the newer one."""
    old, new = _nodes(before), _nodes(after)
    added = [{"id": i, "type": n.get("type")} for i, n in new.items() if i not in old]
    removed = [{"id": i, "type": n.get("type")} for i, n in old.items() if i not in new]
    changed = []
    for node_id, node in new.items():
        if node_id in old and old[node_id] != node:
            changes = field_changes(old[node_id], node)
            changed.append({"id": node_id, "type": node.get("type"), "changes": changes})
    start = None
    if before.get("start") != after.get("start"):
        start = {"from": before.get("start"), "to": after.get("start")}
    return {
        "start": start,
        "variables": field_changes(before.get("variables") or {}, after.get("variables") or {}),
        "nodes": {"added": added, "removed": removed, "changed": changed},
    }
