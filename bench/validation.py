"""Flow validation time against the size of the flow (issue 11: linear, not quadratic).

`schemas.validation.validate_flow` is what `POST /api/flows/validate` (open to viewer keys),
saving a version and publishing run on every definition. Shapes, each of n nodes:

- chain: n-1 `set` steps one after the other, then an `end` (valid);
- cycle: n `set` steps in a ring (rejected: a cycle that never pauses);
- paused cycle: n-1 `set` steps and one `wait` in a ring (valid: the wait pauses it);
- broken chain: a chain whose every node has an unknown config key (n problems to convert).

Validation runs with limits raised out of the way, so the figures are the checks' own cost
(with no template seen before); the last lines time the refusal of the same flows under the
default limits. Every `set` step holds one template: parsing them is most of the cost.

    python -m bench.validation [--sizes 1000 2000 5000 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from schemas.templating import template_syntax_error
from schemas.validation import FlowLimits, validate_flow

UNLIMITED = FlowLimits(max_nodes=10**9, max_definition_bytes=10**12)


def _set(index: int, following: str | None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": f"n{index}",
        "type": "set",
        "config": {"assign": {"x": f"{{{{ vars.x | default(0) + {index} }}}}"}},
    }
    if following is not None:
        node["transitions"] = {"next": following}
    return node


def chain(size: int) -> dict[str, Any]:
    nodes = [_set(i, f"n{i + 1}") for i in range(size - 1)]
    nodes.append({"id": f"n{size - 1}", "type": "end"})
    return {"start": "n0", "nodes": nodes}


def cycle(size: int) -> dict[str, Any]:
    return {"start": "n0", "nodes": [_set(i, f"n{(i + 1) % size}") for i in range(size)]}


def paused_cycle(size: int) -> dict[str, Any]:
    document = cycle(size)
    document["nodes"][-1] = {
        "id": f"n{size - 1}",
        "type": "wait",
        "config": {"minutes": 5},
        "transitions": {"next": "n0"},
    }
    return document


def broken_chain(size: int) -> dict[str, Any]:
    document = chain(size)
    for node in document["nodes"][:-1]:
        node["config"]["colour"] = "red"
    return document


SHAPES: dict[str, Callable[[int], dict[str, Any]]] = {
    "chain": chain,
    "cycle": cycle,
    "paused cycle": paused_cycle,
    "broken chain": broken_chain,
}


def best_of(repeat: int, document: dict[str, Any], limits: FlowLimits) -> tuple[float, int]:
    """The fastest of `repeat` validations (ms) and the number of errors found."""
    times, errors = [], 0
    for _ in range(repeat):
        template_syntax_error.cache_clear()  # each request brings a flow not seen before
        began = time.perf_counter()
        report, _ = validate_flow(document, limits=limits)
        times.append((time.perf_counter() - began) * 1000)
        errors = len(report.errors)
    return min(times), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'shape':<14}{'nodes':>7}{'ms':>10}{'µs/node':>10}{'errors':>8}")
    for name, shape in SHAPES.items():
        for size in args.sizes:
            took, errors = best_of(args.repeat, shape(size), UNLIMITED)
            print(f"{name:<14}{size:>7}{took:>10.1f}{took * 1000 / size:>10.1f}{errors:>8}")
    defaults = FlowLimits()
    print(f"\nrefused under the default limits ({defaults.max_nodes} nodes):")
    for size in args.sizes:
        took, errors = best_of(args.repeat, cycle(size), defaults)
        print(f"{'cycle':<14}{size:>7}{took:>10.1f}{'':>10}{errors:>8}")


if __name__ == "__main__":
    main()
