"""How long a hostile template holds its workflow task before its budget stops it.

Templates render inside the workflow task, which Temporal's deadlock detector fails after 2 s
(and retries for ever). Each template below tries to spend as much as its budget
(`schemas.template_budget`) allows, in a different way; the figure is the render's time, best
of `--repeat`, and how it ended. Ordinary templates are there too, for scale.

    python -m bench.templates [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from schemas.templating import TemplateRenderError, render_value

CONTEXT: dict[str, Any] = {
    "contact": {"name": "Asha", "tags": ["vip", "lead"]},
    "vars": {"items": list(range(5000)), "text": "y" * 900_000, "big": list(range(200_000))},
}

TEMPLATES = {
    "greeting": "Hi {{ contact.name }}, about {{ contact.tags | join(', ') }}",
    "200-line list": "{% for i in vars.items[:200] %}{{ loop.index }}. {{ i }}\n{% endfor %}",
    "10k x 10k loops": "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}"
    "{% endfor %}",
    "10k loop, 3 filters": "{% for i in range(10000) %}{{ i | string | upper | lower }}"
    "{% endfor %}",
    "10k loop, % and calls": "{% for i in range(10000) %}{{ '%s-%s' % (i, i) }}"
    "{{ 'x'.upper() }}{{ 'x'.upper() }}{% endfor %}",
    "sort a big list": "{% for i in range(10000) %}{{ vars.items | sort | first }}{% endfor %}",
    "sum 200k items": "{% for i in range(10000) %}{{ vars.big | sum }}{% endfor %}",
    "search 900k chars": "{% for i in range(10000) %}{{ 'z' in vars.text }}{% endfor %}",
    "macro tree": "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}"
    "{{ f(30) }}",
    "doubling text": "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "'x' * 10**9": "{{ 'x' * 10**9 }}",
    "9 ** (9 ** 9)": "{{ 9 ** (9 ** 9) }}",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'template':<24}{'ms':>9}  outcome")
    for name, template in TEMPLATES.items():
        times, outcome = [], ""
        for _ in range(args.repeat):
            began = time.perf_counter()
            try:
                value = render_value(template, CONTEXT)
                outcome = f"rendered {len(str(value)):,} characters"
            except TemplateRenderError as exc:
                outcome = str(exc).split(":", 1)[0]
            times.append((time.perf_counter() - began) * 1000)
        print(f"{name:<24}{min(times):>9.1f}  {outcome}")


if __name__ == "__main__":
    main()
