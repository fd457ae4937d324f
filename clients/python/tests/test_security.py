"""Security checks against a real api-lite + worker (issue 21).

1. Cross-tenant walk: tenant A creates one of each resource; then every operation of the live
   ``/openapi.json`` whose path takes an id is called with tenant B's key on A's ids, and must
   answer 404 (and leave A's resource as it was). The walk reads the document, so a new route is
   covered as soon as it exists: its path must map to a resource below (``RESOURCES``) or be
   listed in ``NOT_WALKED`` with a reason, else the test fails and names it.
2. Schema-driven hostile input (schemathesis): generated requests for every operation, with a
   valid key: no 5xx, and every answer matches the documented schema.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

# Path prefix (after substitution of nothing: the template itself, up to its first {param}) →
# the resource whose id fills that first parameter. Longest prefix wins.
RESOURCES = {
    "/v1/jobs/{id}": "job",
    "/v1/keys/{id}": "key",
    "/v1/schedules/{id}": "schedule",
    "/v1/notifications/{id}": "notification",
    "/v1/notification-templates/{id}": "template",
    "/v1/alert-rules/{id}": "alert_rule",
    "/v1/alerts/{id}": "alert",
    "/v1/documents/{id}": "document",
    "/v1/payments/{id}": "payment",
    "/v1/reminder-rules/{id}": "reminder_rule",
    "/v1/events/dead-letters/{id}": "dead_letter",
    "/v1/contacts/{external_id}": "contact",
    "/v1/campaigns/{id}": "campaign",
    "/v1/datasets/{id}": "dataset",
    "/v1/models/{id}": "model",
    "/v1/predictions/{id}": "prediction",
    "/v1/reports/{id}": "report",
    "/v1/batches/{id}": "batch",
}

# Operations the walk does not call with A's ids, and why.
NOT_WALKED = {
    ("POST", "/v1/jobs/{kind}"): "the parameter is a job kind name, shared by every tenant",
    ("POST", "/v1/queues/{queue}/pause"): "queues are shared by every tenant (README Security: an "
                                         "admin key pauses a queue for everyone)",
    ("POST", "/v1/queues/{queue}/resume"): "queues are shared by every tenant",
    ("GET", "/v1/notification-channels/{channel}"): "a channel name (email, sms…) addresses the "
                                                   "caller's own settings; nothing of A's to name",
    ("PUT", "/v1/notification-channels/{channel}"): "as above: writes the caller's own settings",
    ("DELETE", "/v1/notification-channels/{channel}"): "as above",
    ("DELETE", "/v1/notification-opt-outs/{channel}/{recipient}"): "addresses the caller's own "
                                                                   "opt-out list by channel and address",
    ("GET", "/v1/reports/{id}/download"): "a signed link: authorised by its HMAC over tenant, report "
                                          "and expiry, not by a key (tampering: "
                                          "api-lite/tests/reports.rs)",
}

# Lists keyed by the product's own external id (not ours): another tenant gets 200 and an empty
# list, never A's rows. Checked separately below.
BY_EXTERNAL_ID = {
    ("GET", "/v1/bookings/{booking_id}/reminders"): "reminders",
    ("GET", "/v1/bookings/{booking_id}/webhooks"): "deliveries",
}

# Second path parameters: fixed values that reach the handler.
EXTRA_PARAMS = {"action": "pause"}

# Bodies for B's writes, so a body check cannot answer before the tenant lookup does.
BODIES = {
    ("POST", "/v1/documents/{id}/review"): {"action": "reject", "note": "walk"},
    ("PUT", "/v1/schedules/{id}"): {"name": "x", "cron": "0 0 7 * * *", "kind": "diag.noop",
                                    "payload": {}},
    ("PUT", "/v1/alert-rules/{id}"): {"name": "x", "condition": {"type": "grade_below",
                                                                 "threshold": 5},
                                      "audience": ["guardians"], "channels": ["email"]},
    ("PUT", "/v1/notification-templates/{id}"): {"name": "x", "channel": "email",
                                                 "subject": "x", "body": "x"},
    ("POST", "/v1/payments/{id}/refunds"): {"amount": 100},
    ("POST", "/v1/models/{id}/predict"): {"horizon": 2},
    ("POST", "/v1/models/{id}/predictions"): {"horizon": 2},
    ("POST", "/v1/models/{id}/schedule"): {"cron": "0 0 3 * * *"},
    ("POST", "/v1/datasets/{id}/rows"): {"rows": [{"at": "2026-05-01", "value": 1.0}]},
}

METHODS = ("get", "put", "post", "delete", "patch")


def _psql(stack, sql: str) -> str:
    return subprocess.run(["psql", stack.db_url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def _wait(probe, what: str, timeout: float = 120.0):
    import time

    deadline = time.monotonic() + timeout
    while True:
        v = probe()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(50, 800, "BOLETIM ESCOLAR — Aluno(a): Teste  Matrícula: X1")
    c.showPage()
    c.save()
    return buf.getvalue()


def _series_csv() -> str:
    start = datetime(2026, 1, 1)
    rows = ["data;vendas"]
    for i in range(60):
        d = start + timedelta(days=i)
        rows.append(f"{d:%d/%m/%Y};{50 + i % 7 + i * 0.1:.1f}".replace(".", ","))
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def tenant_a(stack):
    """Tenant A's resources, one of each, by the names ``RESOURCES`` uses."""
    from tarefa import Tarefa

    run = uuid.uuid4().hex[:8]
    ids: dict[str, str] = {}
    with Tarefa(stack.base_url, api_key=stack.api_key, timeout=30) as t:
        ids["job"] = t.jobs.enqueue("diag.noop", {}).id
        ids["key"] = t.keys.create(name=f"walk-{run}", scopes=["jobs:read"])["id"]
        ids["schedule"] = t.schedules.create(name=f"walk-{run}", cron="0 30 7 * * Mon-Fri",
                                             kind="diag.noop", payload={})["id"]
        t.notification_channels.put("email", {"from": "secretaria@escola.example"})
        sent = t.notifications.send(channel="email", recipient="maria@example.com",
                                    dedup_key=f"walk-{run}",
                                    message={"subject": "Aviso", "text": "Reunião"})
        ids["notification"] = sent["notifications"][0]["id"]
        ids["template"] = t.notification_templates.create(
            name=f"walk-{run}", channel="email", subject="Aviso", body="Olá {{ nome }}",
            variables=["nome"])["id"]
        ids["alert_rule"] = t.alert_rules.create({
            "name": f"Nota abaixo de 5 ({run})",
            "condition": {"type": "grade_below", "threshold": 5},
            "audience": ["guardians"], "channels": ["email"]})["id"]
        reg = f"W{run}"
        t.academic.students([{"registration": reg, "name": "Ana Souza"}])
        t.academic.classes([{"code": f"7A-{run}", "name": "7º ano A", "year": 2026,
                             "enrollments": [{"registration": reg}]}])
        t.academic.grades(f"matricula;disciplina;ano;bimestre;nota\n{reg};Matemática;2026;1;4,5\n")
        ids["document"] = t.documents.upload(_pdf(), filename=f"walk-{run}.pdf",
                                             doc_type="boletim")["document_id"]
        ids["payment"] = t.payments.create(amount=1000, payment_method="pm_card_visa",
                                           customer="cus_1", description="Aula",
                                           reference=f"walk-{run}")["id"]
        ids["reminder_rule"] = t.reminder_rules.create(
            family="booking", name=f"walk-{run}", trigger="before_start", offset_minutes=60,
            audience="client", channels=["email"])["id"]
        booking = f"bk-walk-{run}"
        start = datetime.now(timezone.utc) + timedelta(days=2)
        t.events.publish({"id": f"evt-walk-{run}", "event_type": "booking.created",
                          "payload": {"booking_id": booking, "user_id": "u-1",
                                      "resource_id": "sala-3", "status": "confirmed",
                                      "start_time": start.isoformat(),
                                      "end_time": (start + timedelta(hours=1)).isoformat(),
                                      "client": {"name": "Carla", "email": "carla@example.com"}}})
        ids["booking"] = booking
        dl = str(uuid.uuid4())
        _psql(stack, "insert into event_dead_letters (id, stream, entry_id, tenant_id, fields, "
                     f"reason, deliveries) values ('{dl}', 'walk', '{run}-0', "
                     f"'{stack.tenant_id}', '{{}}', 'walk', 5)")
        ids["dead_letter"] = dl
        t.contacts.upsert([{"external_id": f"walk-{run}", "name": "Maria Souza",
                            "phone": "(11) 98765-4321", "tags": [f"walk-{run}"]}])
        ids["contact"] = f"walk-{run}"
        t.notification_channels.put("whatsapp", {"phone_number_id": "1055001",
                                                 "access_token_env": "DEMO_WA_TOKEN"})
        t.campaigns.put_settings(waba_id="demo-waba", messaging_limit=2000)
        name = f"walk_{run}"
        t.whatsapp_templates.create(name=name, category="utility", language="pt_BR",
                                    body="Olá {{1}}", parameters=["nome"])
        ids["campaign"] = t.campaigns.create(
            name=f"walk {run}", sender_phone_number_id="1055001", template=name,
            parameters={"nome": {"source": "first_name"}},
            audience={"type": "tags", "any_of": [f"walk-{run}"]}, rate_per_second=1)["id"]
        ds = t.datasets.upload(_series_csv(), filename=f"walk-{run}.csv")
        ids["dataset"] = ds["id"]
        _wait(lambda: t.datasets.get(ds["id"])["status"] in ("valid", "ready", "validated"),
              "the dataset's validation")
        model = t.models.train(dataset=ds["id"], horizon=3, windows=2)
        ids["model"] = model["id"]
        _wait(lambda: t.models.get(model["id"])["status"] in ("ready", "trained"),
              "the model's training", 300)
        ids["prediction"] = t.models.predict_batch(model["id"], horizon=3)["id"]
        ids["report"] = t.reports.create("student_report_card", "pdf",
                                         {"year": 2026, "class": f"7A-{run}"})["id"]
        alerts = _wait(lambda: t.alerts.list(status="open", student=reg)["alerts"],
                       "an open alert", 120)
        ids["alert"] = alerts[0]["id"]
        # A member due in an hour: the batch stays open for the walk (B's cancel must not reach it).
        made = t.batches.create([{"kind": "diag.noop", "payload": {}, "delay_ms": 3_600_000}])
        ids["batch"] = made["batch"]["id"] if isinstance(made["batch"], dict) else made["batch"]
    return ids


def _operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path


def _resource_of(path: str) -> str | None:
    best = None
    for prefix, name in RESOURCES.items():
        if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, name)
    return best[1] if best else None


def _snapshot(stack, path: str) -> httpx.Response:
    return httpx.get(stack.base_url + path, headers={"Authorization": f"Bearer {stack.api_key}"},
                     timeout=30)


def test_another_tenants_ids_answer_404_on_every_id_route(stack, tenant_a):
    spec = httpx.get(stack.base_url + "/openapi.json", timeout=10).json()
    b = {"Authorization": f"Bearer {stack.other_key}"}
    unknown, walked, wrong = [], [], []
    for method, path in _operations(spec):
        params = re.findall(r"\{([^}]+)\}", path)
        if not params or path.startswith("/v1/callbacks/"):
            continue
        if (method, path) in NOT_WALKED:
            continue
        if (method, path) in BY_EXTERNAL_ID:
            url = path.replace("{" + params[0] + "}", tenant_a["booking"])
            # A sees its own rows there; B sees none of them.
            mine = httpx.get(stack.base_url + url, headers={"Authorization": f"Bearer {stack.api_key}"},
                             timeout=30)
            theirs = httpx.get(stack.base_url + url, headers=b, timeout=30)
            assert mine.status_code == 200 and theirs.status_code == 200, (url, theirs.text)
            assert theirs.json()[BY_EXTERNAL_ID[(method, path)]] == [], (url, theirs.text)
            walked.append((method, path))
            continue
        resource = _resource_of(path)
        if resource is None:
            unknown.append((method, path))
            continue
        url = path.replace("{" + params[0] + "}", str(tenant_a[resource]))
        for extra in params[1:]:
            url = url.replace("{" + extra + "}", EXTRA_PARAMS[extra])
        body = BODIES.get((method, path))
        before = _snapshot(stack, url) if method != "GET" else None
        r = httpx.request(method, stack.base_url + url, headers=b, timeout=60,
                          json=body if method in ("POST", "PUT", "PATCH") else None)
        walked.append((method, path))
        if r.status_code != 404:
            wrong.append((method, url, r.status_code, r.text[:200]))
            continue
        assert r.json().get("error"), (method, url, r.text)
        if before is not None and before.status_code == 200:
            after = _snapshot(stack, url)
            assert after.status_code == 200, f"{method} {url} by B changed A's resource"
    assert unknown == [], ("id-taking operations the walk does not know: map them in RESOURCES "
                           f"or list them in NOT_WALKED with a reason: {unknown}")
    assert wrong == [], f"answers other than 404 to another tenant's ids: {wrong}"
    assert len(walked) >= 40, walked


def test_generated_requests_get_no_5xx_and_match_the_schema(stack, tenant_a):
    """schemathesis over every operation with tenant A's key: no server error, and each answer
    with a documented status code matches its documented schema."""
    st = pytest.importorskip("schemathesis", reason="installed by scripts/lib.sh ensure_python_client")
    out = subprocess.run(
        [st_cli(), "run", stack.base_url + "/openapi.json",
         "--header", f"Authorization: Bearer {stack.api_key}",
         # Undocumented 4xx status codes (status_code_conformance) are not checked yet: most
         # routes document their 2xx and main errors only (README Security, "not yet").
         "--checks", "not_a_server_error,response_schema_conformance",
         "--max-examples", "15", "--seed", "21", "--workers", "1",
         # GET /v1/models/{id} writes "series" twice (the flattened ModelRow's names and the
         # detail's trained series): a known schema bug, see the README's Security section.
         "--exclude-path-regex",
         r"^/(metrics|docs|openapi\.json)|^/v1/callbacks/|/pause$|/resume$|^/v1/models/\{id\}$",
         "--request-timeout", "30", "--no-color"],
        capture_output=True, text=True, timeout=1800)
    if os.environ.get("TAREFA_SCHEMATHESIS_LOG"):
        with open(os.environ["TAREFA_SCHEMATHESIS_LOG"], "w") as f:
            f.write(out.stdout + out.stderr)
    assert out.returncode == 0, _failures_of(out.stdout) + out.stderr[-2000:]
    assert st is not None


def _failures_of(report: str) -> str:
    """The FAILURES part of schemathesis' report (the summary after it is long and says little)."""
    start = report.find("FAILURES")
    end = report.find("WARNINGS", start)
    if start < 0:
        return report[-6000:]
    return report[start:end if end > 0 else None][:12000]


def st_cli() -> str:
    import shutil
    import sys
    from pathlib import Path

    here = Path(sys.executable).parent / "st"
    return str(here) if here.exists() else (shutil.which("st") or "st")


def test_the_walk_fails_on_an_unmapped_id_route():
    assert _resource_of("/v1/new-things/{id}") is None
    assert _resource_of("/v1/models/{id}/drift") == "model"
    assert ("POST", "/v1/jobs/{kind}") in NOT_WALKED
    assert all(isinstance(why, str) and why for why in NOT_WALKED.values())
