"""The asyncio client: the same calls, awaited; many in flight at once."""

import asyncio

import pytest

from tarefa import NotFound


async def test_enqueue_and_wait_concurrently(aclient):
    jobs = await asyncio.gather(*(aclient.jobs.enqueue("diag.sleep", {"ms": i}) for i in range(20)))
    assert len({j.id for j in jobs}) == 20
    done = await asyncio.gather(*(aclient.jobs.wait(j.id, timeout=60) for j in jobs))
    assert {d.status for d in done} == {"succeeded"}


async def test_errors_are_raised_from_the_coroutine(aclient):
    with pytest.raises(NotFound):
        await aclient.jobs.get("01J00000000000000000000000")


async def test_schedules_round_trip(aclient):
    made = await aclient.schedules.create(name="py-nightly", cron="0 0 3 * * *",
                                          timezone="America/Sao_Paulo", kind="diag.noop", payload={})
    got = await aclient.schedules.get(made.id)
    assert got.name == "py-nightly"
    await aclient.schedules.delete(made.id)
    with pytest.raises(NotFound):
        await aclient.schedules.get(made.id)
