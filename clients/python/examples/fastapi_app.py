"""A FastAPI backend using Tarefa — the shape a product copies.

* one ``AsyncTarefa`` for the app's lifetime (``lifespan``), handed to routes by a dependency;
* a route that enqueues a job and answers at once with its id (the work runs in Tarefa's
  workers); another that waits for it when the caller asks to;
* a webhook receiver that checks Tarefa's signature on the raw body, ignores a delivery it has
  seen (``X-Tarefa-Delivery``), and records the event.

Run it: ``TAREFA_URL=http://127.0.0.1:8080 TAREFA_API_KEY=tfk_… TAREFA_WEBHOOK_SECRET=… \
uvicorn examples.fastapi_app:app``.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request

from tarefa import AsyncTarefa, NotFound, ValidationFailed
from tarefa.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, InvalidSignature, construct_event


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.tarefa = AsyncTarefa(base_url=os.environ.get("TAREFA_URL", "http://127.0.0.1:8080"),
                                   api_key=os.environ["TAREFA_API_KEY"])
    app.state.seen_deliveries = set()
    app.state.events = []
    yield
    await app.state.tarefa.aclose()


app = FastAPI(title="Escola — backend example", lifespan=lifespan)


def tarefa(request: Request) -> AsyncTarefa:
    return request.app.state.tarefa


Client = Annotated[AsyncTarefa, Depends(tarefa)]


@app.post("/reports/nightly", status_code=202)
async def start_nightly(t: Client, wait: bool = False) -> dict[str, Any]:
    """Enqueues the work and answers now; ``?wait=true`` waits (up to 30 s) for the outcome."""
    job = await t.jobs.enqueue("diag.sleep", {"ms": 50})
    if not wait:
        return {"job_id": job.id, "status": job.status}
    done = await t.jobs.wait(job.id, timeout=30)
    return {"job_id": done.id, "status": done.status}


@app.get("/jobs/{job_id}")
async def job_status(job_id: str, t: Client) -> dict[str, Any]:
    try:
        job = await t.jobs.get(job_id)
    except NotFound:
        raise HTTPException(404, "no such job")
    return {"job_id": job.id, "status": job.status, "progress": job.progress}


@app.post("/grades")
async def post_grades(rows: list[dict[str, Any]], t: Client) -> dict[str, Any]:
    """Forwards a teacher's grades to Tarefa (which evaluates the academic alert rules)."""
    try:
        return (await t.academic.grades(rows)).to_dict()
    except ValidationFailed as e:
        raise HTTPException(422, {"field": e.field, "message": e.message})


@app.post("/webhooks/tarefa")
async def tarefa_webhook(request: Request) -> dict[str, Any]:
    body = await request.body()
    try:
        event = construct_event(os.environ["TAREFA_WEBHOOK_SECRET"],
                                request.headers.get(SIGNATURE_HEADER), body)
    except InvalidSignature as e:
        raise HTTPException(400, f"bad signature: {e}")
    delivery = request.headers.get(DELIVERY_HEADER, "")
    if delivery in request.app.state.seen_deliveries:
        return {"duplicate": True}
    request.app.state.seen_deliveries.add(delivery)
    request.app.state.events.append(event)
    return {"ok": True}


@app.get("/webhooks/tarefa/received")
async def received(request: Request) -> list[dict[str, Any]]:
    return request.app.state.events
