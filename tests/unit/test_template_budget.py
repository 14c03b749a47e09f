"""Every render has a budget: a template that would loop, call or grow without end fails with
a clear error instead of holding its workflow task (and a worker thread) for ever."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from schemas.template_budget import BUDGET
from schemas.templating import TemplateRenderError, render, render_value
from tests.examples import EXAMPLE_FILES

CONTEXT: dict[str, Any] = {
    "contact": {"name": "Asha", "tags": ["vip", "lead"]},
    "vars": {"items": list(range(5000)), "text": "y" * 600_000},
}


def refusal(template: str, context: dict[str, Any] = CONTEXT) -> str:
    with pytest.raises(TemplateRenderError) as caught:
        render_value(template, context)
    message = str(caught.value)
    assert message.startswith("template exceeds its budget"), message
    return message


def test_nested_loops_stop_at_the_loop_budget() -> None:
    template = "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"
    message = refusal(template)
    assert "template exceeds its budget of 10,000 loop iterations" in message
    assert "{% for i in range(10000) %}" in message  # which template


def test_a_loop_over_data_counts_too() -> None:
    refusal("{% for x in vars.items + vars.items + vars.items %}{{ x }}{% endfor %}")


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("{{ 'x' * 10**9 }}", "`*` would make more than 1,000,000 characters"),
        ("{{ [0] * 10**9 }}", "`*` would make more than 1,000,000 characters or items"),
        ("{{ 9 ** (9 ** 9) }}", "`**` would make a number of more than 4,000 digits"),
        ("{{ 2 ** 100000 }}", "`**` would make a number of more than 4,000 digits"),
        ("{{ (10 ** 3000) * (10 ** 3000) }}", "`*` would make a number"),
        ("{{ range(10**9) | list }}", "range() of more than 10,000"),
        ("{{ 'x' | center(10**9) }}", "a width or count of 1,000,000,000"),
        ("{{ 'x' | indent(10**9, true) }}", "a width or count"),
        ("{{ 'x'.rjust(10**9) }}", "a width or count"),
        ("{{ (1).to_bytes(10**9, 'big') }}", "a width or count"),
        ("{{ '%*d' % (10**9, 1) }}", "a width or count"),
        ("{{ '%.999999999f' % 1.5 }}", "a width or count"),
        ("{{ '{:>999999999}'.format(1) }}", "a width or count"),
        ("{{ '{:>{w}}'.format(1, w=10**9) }}", "a width or count"),
        ("{{ '%*d' | format(10**9, 1) }}", "a width or count"),
        ("{{ [1, 2] | batch(10**9, 0) | list }}", "a width or count"),
        ("{{ 'ab' | replace('', 'x' * 2000) | replace('', 'y' * 2000) }}", "`replace` would make"),
    ],
)
def test_operations_that_would_make_something_huge_are_refused_first(
    template: str, says: str
) -> None:
    assert says in refusal(template)


@pytest.mark.parametrize(
    "template",
    [
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
        "{% set ns.s %}{{ ns.s }}{{ ns.s }}{% endset %}{% endfor %}{{ ns.s | length }}",
        "{% set l = [1] %}{% for i in range(64) %}{{ l.extend(l) or '' }}{% endfor %}",
        "{{ vars.text ~ vars.text }}",
        "{{ vars.text | upper ~ 'x' * 500000 }}",
    ],
)
def test_values_that_double_until_they_fill_the_memory_are_stopped(template: str) -> None:
    assert "more than 1,000,000 characters or items" in refusal(template)


def test_the_rendered_text_is_bounded() -> None:
    message = refusal("{% for i in range(5000) %}{{ 'x' * 300 }}{% endfor %}")
    assert "an output of more than 1,000,000 characters" in message


def test_a_macro_that_calls_itself_stops_at_the_nesting_budget() -> None:
    message = refusal("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}")
    assert "budget of 32 nested calls" in message


def test_calls_and_filters_are_counted_with_the_data_they_handle() -> None:
    tree = "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(30) }}"
    assert "budget of 25,000 operations" in refusal(tree)
    # a cheap-looking loop over a big list: each sort handles all 5,000 items
    assert "operations" in refusal(
        "{% for i in range(1000) %}{{ vars.items | sort | first }}{% endfor %}"
    )
    assert "operations" in refusal(
        "{% for i in range(10000) %}{% if 'z' in vars.text %}!{% endif %}{% endfor %}"
    )


def test_lipsum_is_not_there_to_write_for_ever() -> None:
    with pytest.raises(TemplateRenderError, match="missing variable lipsum"):
        render("{{ lipsum(10**6) }}", CONTEXT)


def test_native_expressions_have_the_budget_too() -> None:
    refusal("{{ 'x' * 10**9 }}")
    refusal("{{ range(10**9) | list }}")
    assert render_value("{{ range(3) | list }}", CONTEXT) == [0, 1, 2]


def test_the_strings_of_one_value_share_one_budget() -> None:
    half = "{% for i in range(6000) %}{% endfor %}"
    assert render_value(half, CONTEXT) == ""
    refusal({"a": half, "b": [half]})  # type: ignore[arg-type]


def test_ordinary_templates_are_far_inside_the_budget() -> None:
    lines = (
        "{% for item in vars.items[:200] %}{{ loop.index }}. {{ item | string | upper }}"
        "{% if not loop.last %}, {% endif %}{% endfor %}"
    )
    assert render(lines, CONTEXT).startswith("1. 0, 2. 1, 3. 2")
    big_loop = "{% for i in vars.items %}{{ i }}{% endfor %}"
    assert len(render(big_loop, CONTEXT)) == len("".join(map(str, range(5000))))
    assert render("{{ contact.tags | join(', ') | title }}", CONTEXT) == "Vip, Lead"
    assert render("{{ '%05.1f' % 3.14159 }} {{ '{:>6}'.format('ab') }}", CONTEXT) == (
        "003.1     ab"
    )
    assert render("{{ 2 ** 64 }} {{ 'ab' * 3 }}", CONTEXT) == "18446744073709551616 ababab"
    assert render_value("{{ vars.text }}", CONTEXT) is CONTEXT["vars"]["text"]


def example_strings() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")
        elif isinstance(value, str) and "{" in value:
            found.append((where, value))

    for path in EXAMPLE_FILES:
        walk(json.loads(path.read_text())["definition"], path.stem)
    return found


def test_every_template_of_the_example_flows_renders_within_the_budget() -> None:
    class Anything(dict[str, Any]):
        """Any name is there, and is again a mapping: every example template renders."""

        def __missing__(self, key: str) -> Any:
            return Anything()

        def __str__(self) -> str:
            return "x"

    strings = example_strings()
    assert len(strings) > 20  # the examples are there, templates and all
    for where, template in strings:
        try:
            render_value(template, Anything())
        except TemplateRenderError as exc:
            assert "budget" not in str(exc), where


def test_renders_in_threads_keep_their_own_counts() -> None:
    """Workflows render in worker threads: each render counts only its own iterations.

    Eight renders meet halfway through their loops (3,000 iterations each, 24,000 together):
    a count shared between threads would be over the budget of 10,000 from there on.
    """
    halfway = threading.Barrier(8, timeout=30)

    def meet() -> str:
        halfway.wait()
        return ""

    template = "{% for i in range(6000) %}{% if i == 3000 %}{{ meet() }}{% endif %}{% endfor %}ok"
    results: list[str] = []

    def work() -> None:
        try:
            results.append(render(template, {**CONTEXT, "meet": meet}))
        except TemplateRenderError as exc:
            results.append(str(exc))
            halfway.abort()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["ok"] * 8
    assert BUDGET.loop_iterations == 10_000
