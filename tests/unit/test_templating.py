"""Templates in flow configs: strict about missing variables, native values for lone expressions."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.templating import (
    TemplateRenderError,
    has_template,
    render,
    render_value,
    template_syntax_error,
)

CONTEXT: dict[str, Any] = {
    "contact": {"name": "Asha", "phone": "+91 98765 43210", "custom": {}},
    "vars": {"company": "Acme Pumps", "discount": 10},
    "steps": {"order": {"body": {"items": [{"sku": "P-1"}, {"sku": "P-2"}], "total": 42.5}}},
    "call": {"from": "+1 555&0001"},
    "execution": {"id": "e1", "flow": "f1", "version": 3, "test": False},
}


def test_renders_variables_from_every_namespace() -> None:
    text = "Hi {{ contact.name }} from {{ vars.company }} (v{{ execution.version }})"
    assert render(text, CONTEXT) == "Hi Asha from Acme Pumps (v3)"


def test_plain_text_is_returned_unchanged_even_with_braces_of_other_kinds() -> None:
    assert render("Price: {10} & {x}", CONTEXT) == "Price: {10} & {x}"
    assert not has_template("{ not jinja }")


def test_missing_variable_names_its_dotted_path() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render("Mail {{ contact.email }}", CONTEXT)
    assert caught.value.variable == "contact.email"
    assert caught.value.template == "Mail {{ contact.email }}"
    assert str(caught.value) == (
        "missing variable contact.email in template 'Mail {{ contact.email }}'"
    )


def test_missing_nested_attribute_names_the_full_path() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render("{{ contact.custom.bitrix_id }}", CONTEXT)
    assert caught.value.variable == "contact.custom.bitrix_id"

    with pytest.raises(TemplateRenderError) as caught:
        render("{{ contact.profile.address.city }}", CONTEXT)
    assert caught.value.variable == "contact.profile.address.city"


def test_missing_top_level_name_and_list_index() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render("{{ trigger.order_id }}", CONTEXT)
    assert caught.value.variable == "trigger.order_id"

    with pytest.raises(TemplateRenderError) as caught:
        render("{{ steps.order.body.items.5.sku }}", CONTEXT)
    assert caught.value.variable == "steps.order.body.items.5.sku"


def test_missing_variable_in_an_if_fails_too() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render("{% if contact.vip %}VIP{% endif %}", CONTEXT)
    assert caught.value.variable == "contact.vip"


def test_is_defined_test_does_not_fail() -> None:
    template = "{% if contact.vip is defined %}VIP{% else %}regular{% endif %}"
    assert render(template, CONTEXT) == "regular"


def test_default_filter_covers_missing_variables_at_any_depth() -> None:
    text = "about {{ contact.product | default('our products') }}"
    assert render(text, CONTEXT) == "about our products"
    assert render("{{ contact.custom.a.b | default('-') }}", CONTEXT) == "-"


def test_urlencode_filter() -> None:
    url = "https://crm.example.com/api/customers?phone={{ call.from | urlencode }}"
    assert render(url, CONTEXT) == "https://crm.example.com/api/customers?phone=%2B1%20555%260001"


def test_dots_read_keys_not_dict_methods() -> None:
    assert render("{{ steps.order.body.items | length }}", CONTEXT) == "2"
    with pytest.raises(TemplateRenderError) as caught:
        render("{{ contact.items }}", CONTEXT)
    assert caught.value.variable == "contact.items"


def test_items_filter_iterates_a_mapping() -> None:
    context = {"contact": {"custom": {"plan": "gold", "seats": 5}}}
    template = "{% for k, v in contact.custom | items %}{{ k }}={{ v }};{% endfor %}"
    assert render(template, context) == "plan=gold;seats=5;"


def test_sandbox_refuses_python_internals() -> None:
    with pytest.raises(TemplateRenderError):
        render("{{ contact.name.__class__.__mro__ }}", CONTEXT)


def test_runtime_errors_become_render_errors() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render("{{ vars.discount / 0 }}", CONTEXT)
    assert caught.value.variable is None


def test_trailing_newline_is_kept() -> None:
    assert render("Hello {{ contact.name }}\n", CONTEXT) == "Hello Asha\n"


def test_html_rendering_escapes_values_and_text_rendering_does_not() -> None:
    context = {"contact": {"name": "<b>Ann & Co</b>"}}
    assert render("<p>{{ contact.name }}</p>", context, autoescape=True) == (
        "<p>&lt;b&gt;Ann &amp; Co&lt;/b&gt;</p>"
    )
    assert render("{{ contact.name }}", context) == "<b>Ann & Co</b>"


def test_render_value_gives_native_values_for_a_single_expression() -> None:
    assert render_value("{{ steps.order.body.items }}", CONTEXT) == [{"sku": "P-1"}, {"sku": "P-2"}]
    assert render_value("{{ steps.order.body.total }}", CONTEXT) == 42.5
    assert render_value("{{ vars.discount * 2 }}", CONTEXT) == 20
    assert render_value("{{ execution.test }}", CONTEXT) is False


def test_render_value_renders_text_with_several_parts_to_a_string() -> None:
    assert render_value("{{ vars.discount }}%", CONTEXT) == "10%"
    assert render_value("{{ vars.discount }}{{ vars.discount }}", CONTEXT) == "1010"


def test_render_value_without_native_always_gives_text() -> None:
    value = {"to": "{{ vars.discount }}", "params": ["{{ execution.test }}"], "n": 5}
    assert render_value(value, CONTEXT, native=False) == {
        "to": "10",
        "params": ["False"],
        "n": 5,
    }


def test_render_value_walks_dicts_and_lists_and_keeps_other_types() -> None:
    value = {
        "lead": "{{ contact.name }}",
        "{{ key }}": [1, None, True, "{{ vars.discount }}"],
        "nested": {"skus": "{{ steps.order.body.items | map(attribute='sku') | list }}"},
    }
    assert render_value(value, CONTEXT) == {
        "lead": "Asha",
        "{{ key }}": [1, None, True, 10],
        "nested": {"skus": ["P-1", "P-2"]},
    }


def test_render_value_single_expression_missing_names_the_variable() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render_value({"to": "{{ contact.email }}"}, CONTEXT)
    assert caught.value.variable == "contact.email"


def test_render_value_single_expression_with_default() -> None:
    assert render_value("{{ contact.tags | default([]) }}", CONTEXT) == []


def test_template_syntax_error() -> None:
    assert template_syntax_error("Hello {{ contact.name }}") is None
    assert template_syntax_error("no template") is None
    assert template_syntax_error("Hello {{ contact.name ") is not None
    assert "line 2" in (template_syntax_error("a\n{% if %}x{% endif %}") or "")
    assert "nofilter" in (template_syntax_error("{{ x | nofilter }}") or "")


def test_render_of_broken_template_raises_render_error() -> None:
    with pytest.raises(TemplateRenderError, match="does not parse"):
        render("{{ contact.name ", CONTEXT)


def test_no_filter_renders_differently_when_a_workflow_replays() -> None:
    # `random` would choose anew on every replay of the workflow that renders it.
    assert template_syntax_error("{{ [1, 2] | random }}") == "no filter named 'random'"
