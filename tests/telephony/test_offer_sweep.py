"""Queue offers whose dispatch died between the claim and the agent's call.

`next_offer` claims a waiting caller for an agent (entry `offered`, `offer_call` pending,
agent busy) before the agent's call is placed; a process that dies in between would leave
the caller `offered` to nobody. The API's sweeper puts such callers back in line and offers
them again; offers whose call was placed, and calls dialled straight to an agent, are left
alone. Offers are placed in sandbox mode (the outbox), as the rest of the routing tests do.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.services.routing import TwilioHttp, agent_available, sweep_stale_offers
from providers import offers
from schemas.settings import Settings
from store import routing
from store.db import session_scope
from store.models import Department, OutboxMessage, QueuedCall, utcnow
from tests.telephony.test_routing import Centre, _route, centre

__all__ = ["centre"]  # fixture, used here

SETTINGS = Settings.model_validate({"FLOWDECK_ENV": "test"})


def _age(engine: Engine, entry_id: str, seconds: int = 300) -> None:
    """The offer was claimed `seconds` ago."""
    with session_scope(engine) as session:
        entry = session.get(QueuedCall, entry_id)
        assert entry is not None and entry.offered_at is not None
        entry.offered_at -= timedelta(seconds=seconds)
        session.add(entry)


def _offers(engine: Engine, entry_id: str) -> list[OutboxMessage]:
    """The agent calls placed for an entry (the sandbox outbox's queue offers)."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(OutboxMessage).where(
                col(OutboxMessage.idempotency_key).startswith(f"queue-offer:{entry_id}:")
            )
        ).all()
        return list(rows)


def _claimed_then_crashed(centre: Centre, department: Department, agent: str) -> tuple[str, str]:
    """A caller queued, then claimed for a newly available agent whose call never went out:
    (queue entry, agent)."""
    queued = _route(centre, department.name)
    assert queued.action == "enqueue"
    agent_id = centre.agent(agent, [department]).id
    offer = routing.next_offer(centre.engine, tenant_id=centre.tenant_id, agent_id=agent_id)
    assert offer is not None and offer.queue_entry_id == queued.queue_entry_id
    return queued.queue_entry_id, agent_id


async def _sweep(engine: Engine) -> list[str]:
    return await sweep_stale_offers(
        engine=engine, settings=SETTINGS, http=TwilioHttp(), temporal=None
    )


async def test_an_offer_whose_call_was_never_placed_is_offered_again(
    centre: Centre, engine: Engine
) -> None:
    sales = centre.department("Sales", phone_number="+15550100003")
    entry_id, asha = _claimed_then_crashed(centre, sales, "Asha")
    stuck = centre.entry(entry_id)
    assert (stuck.status, stuck.agent_id, stuck.offer_call) == ("offered", asha, "pending")
    assert centre.read_agent(asha).status == "busy"
    _age(engine, entry_id)

    swept = await _sweep(engine)

    assert entry_id in swept
    entry = centre.entry(entry_id)
    assert (entry.status, entry.agent_id, entry.offer_call) == ("offered", asha, "sandbox")
    [offer] = _offers(engine, entry_id)
    assert offer.to == centre.read_agent(asha).phone
    assert offer.content is not None and offer.content["queue"] == f"fd-{sales.id}-p5"
    assert centre.read_agent(asha).status == "busy"
    # Placed now: the next sweep leaves it alone.
    assert entry_id not in await _sweep(engine)
    assert len(_offers(engine, entry_id)) == 1


async def test_placed_offers_direct_dials_and_young_offers_are_left_alone(
    centre: Centre, engine: Engine
) -> None:
    direct = centre.department("Direct")
    bo = centre.agent("Bo", [direct])
    dialled = _route(centre, "Direct")
    assert (dialled.action, dialled.agent_id) == ("dial", bo.id)
    _age(engine, dialled.queue_entry_id)

    placed_id, cy = _claimed_then_crashed(centre, centre.department("Placed"), "Cy")
    with session_scope(engine) as session:
        entry = session.get(QueuedCall, placed_id)
        assert entry is not None
    offer = routing.Offer(
        tenant_id=centre.tenant_id, queue_entry_id=placed_id, queue="placed",
        call_sid=entry.call_sid, execution_id=None, workflow_id=None, agent_id=cy,
        agent_name="Cy", agent_phone=centre.read_agent(cy).phone, agent_client=None,
        caller_id=None,
    )  # fmt: skip
    await offers.dispatch_offer(
        offer, engine=engine, settings=SETTINGS, http=TwilioHttp().client, temporal=None
    )
    _age(engine, placed_id)

    young_id, di = _claimed_then_crashed(centre, centre.department("Young"), "Di")

    swept = await _sweep(engine)

    mine = {dialled.queue_entry_id, placed_id, young_id}
    assert mine.isdisjoint(swept)
    assert (centre.entry(dialled.queue_entry_id).status, centre.read_agent(bo.id).status) == (
        "offered",
        "busy",
    )
    assert centre.entry(placed_id).offer_call == "sandbox"
    assert len(_offers(engine, placed_id)) == 1
    assert (centre.entry(young_id).offer_call, centre.read_agent(di).status) == ("pending", "busy")


async def test_an_agent_set_available_takes_back_its_unplaced_offer(
    centre: Centre, engine: Engine
) -> None:
    entry_id, asha = _claimed_then_crashed(centre, centre.department("Sales"), "Asha")
    with session_scope(engine) as session:  # the PATCH sets the status, then calls this
        session.connection().execute(
            sa.text("UPDATE agent SET status = 'available' WHERE id = :id"), {"id": asha}
        )

    offer = await agent_available(
        engine=engine, settings=SETTINGS, http=TwilioHttp(), temporal=None,
        tenant_id=centre.tenant_id, agent_id=asha,
    )  # fmt: skip

    assert offer is not None and offer.queue_entry_id == entry_id
    entry = centre.entry(entry_id)
    assert (entry.status, entry.offer_call) == ("offered", "sandbox")
    assert len(_offers(engine, entry_id)) == 1


def test_two_sweepers_reclaim_an_offer_once(centre: Centre, engine: Engine) -> None:
    entry_id, asha = _claimed_then_crashed(centre, centre.department("Sales"), "Asha")
    _age(engine, entry_id)
    barrier = threading.Barrier(2)
    results: list[list[routing.Reclaimed]] = []

    def sweep() -> None:
        barrier.wait()
        before = utcnow()
        results.append(routing.reclaim_stale_offers(engine, offered_before=before))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    mine = [r for found in results for r in found if r.queue_entry_id == entry_id]
    assert len(mine) == 1
    assert mine[0].agents == [asha]
    assert (centre.entry(entry_id).status, centre.read_agent(asha).status) == (
        "waiting",
        "available",
    )


async def test_the_api_sweeps_in_the_background(
    centre: Centre, engine: Engine, temporal_env: WorkflowEnvironment
) -> None:
    entry_id, _ = _claimed_then_crashed(centre, centre.department("Sales"), "Asha")
    _age(engine, entry_id)
    settings = Settings.model_validate({"FLOWDECK_ENV": "test", "FLOWDECK_OFFER_SWEEP_S": 0.05})
    app = create_app(settings=settings, engine=engine, temporal_client=temporal_env.client)

    async with app.router.lifespan_context(app):
        for _ in range(200):
            if centre.entry(entry_id).offer_call == "sandbox":
                break
            await asyncio.sleep(0.05)

    assert centre.entry(entry_id).offer_call == "sandbox"
    assert len(_offers(engine, entry_id)) == 1
