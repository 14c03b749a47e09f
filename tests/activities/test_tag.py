"""The `tag` step: tags on the execution's contact, case-insensitively unique."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.activities.conftest import Runner, seed_tenant


async def test_tags_are_added_once_whatever_their_case(runner: Runner, engine: Engine) -> None:
    seed = seed_tenant(engine, contact={"name": "Asha", "tags": ["VIP", "lead"]})

    output = await runner.perform(seed.action("tag", {"add": ["vip", "DNC", "dnc", " new "]}))

    assert output.port == "next"
    assert output.result == {"tags": ["VIP", "lead", "DNC", "new"]}
    contact = seed.execution().contact
    assert contact == {"name": "Asha", "tags": ["VIP", "lead", "DNC", "new"]}


async def test_tags_are_removed_case_insensitively(runner: Runner, engine: Engine) -> None:
    seed = seed_tenant(engine, contact={"name": "Asha", "tags": ["VIP", "DNC", "lead"]})

    output = await runner.perform(seed.action("tag", {"remove": ["dnc", "absent"], "add": ["Hot"]}))

    assert output.result == {"tags": ["VIP", "lead", "Hot"]}
    assert seed.execution().contact == {"name": "Asha", "tags": ["VIP", "lead", "Hot"]}


async def test_tagging_a_contact_without_tags(runner: Runner, engine: Engine) -> None:
    seed = seed_tenant(engine, contact={"name": "Asha"})

    await runner.perform(seed.action("tag", {"add": ["DNC"]}, seq=1))
    output = await runner.perform(seed.action("tag", {"add": ["DNC"], "remove": []}, seq=2))

    assert output.result == {"tags": ["DNC"]}
    assert seed.execution().contact == {"name": "Asha", "tags": ["DNC"]}
    step = seed.step(2)
    assert step is not None and step.result == {"tags": ["DNC"]}


async def test_comma_separated_tags_from_an_import_become_a_list(
    runner: Runner, engine: Engine
) -> None:
    seed = seed_tenant(engine, contact={"tags": "vip, lead"})

    output = await runner.perform(seed.action("tag", {"remove": ["LEAD"]}))

    assert output.result == {"tags": ["vip"]}
