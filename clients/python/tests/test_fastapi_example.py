"""The FastAPI example app, served by uvicorn on loopback, against the real stack: a route
enqueues through the lifespan-managed client, and Tarefa's own webhook delivery (the webhook
notification channel, signed by the worker) reaches the app's receiver, which verifies it."""

import os
import socket
import threading
import time
import uuid

import httpx
import pytest
import uvicorn

from tarefa import webhooks
from conftest import WEBHOOK_SECRET


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(stack):
    os.environ["TAREFA_URL"] = stack.base_url
    os.environ["TAREFA_API_KEY"] = stack.api_key
    os.environ["TAREFA_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    from examples.fastapi_app import app

    port = _port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield url
    server.should_exit = True
    th.join(timeout=10)


def test_a_route_enqueues_and_waits(app_url):
    r = httpx.post(app_url + "/reports/nightly?wait=true", timeout=60)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "succeeded"
    job = httpx.get(app_url + "/jobs/" + r.json()["job_id"]).json()
    assert job["status"] == "succeeded"


def test_tarefas_signed_webhook_reaches_the_receiver(client, app_url):
    client.notification_channels.put("webhook", {"url": app_url + "/webhooks/tarefa",
                                                 "secret_env": "PYTEST_WEBHOOK_SECRET"})
    marker = str(uuid.uuid4())
    sent = client.notifications.send(channel="webhook", recipient="student.enrolled",
                                     dedup_key="py-webhook-" + marker,
                                     message={"data": {"marker": marker, "aluno": "Ana Lúcia"}})
    assert sent is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = httpx.get(app_url + "/webhooks/tarefa/received").json()
        mine = [e for e in got if e.get("data", {}).get("marker") == marker]
        if mine:
            assert mine[0]["event"] == "student.enrolled"
            assert mine[0]["data"]["aluno"] == "Ana Lúcia"
            return
        time.sleep(0.2)
    pytest.fail("the webhook never arrived")


def test_the_receiver_refuses_a_forged_or_stale_signature(app_url):
    body = b'{"id":"x","event":"student.enrolled","data":{}}'
    forged = webhooks.sign("not-the-secret", body)
    assert httpx.post(app_url + "/webhooks/tarefa", content=body,
                      headers={webhooks.SIGNATURE_HEADER: forged}).status_code == 400
    stale = webhooks.sign(WEBHOOK_SECRET, body, t=int(time.time()) - 3600)
    assert httpx.post(app_url + "/webhooks/tarefa", content=body,
                      headers={webhooks.SIGNATURE_HEADER: stale}).status_code == 400
    good = webhooks.sign(WEBHOOK_SECRET, body)
    r = httpx.post(app_url + "/webhooks/tarefa", content=body,
                   headers={webhooks.SIGNATURE_HEADER: good, webhooks.DELIVERY_HEADER: "d-1"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    again = httpx.post(app_url + "/webhooks/tarefa", content=body,
                       headers={webhooks.SIGNATURE_HEADER: good, webhooks.DELIVERY_HEADER: "d-1"})
    assert again.json() == {"duplicate": True}
