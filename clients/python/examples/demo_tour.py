"""The demo's tour: what Tarefa does for the products, shown with the Python client against the
demo tenant (``scripts/demo.sh`` runs it after starting everything).

Each step prints, in plain words, what it sent and what came back:

1. school records: students with guardians, a class and a CSV of grades are ingested; an alert
   rule opens an alert for a low grade and the guardian's e-mail is caught by the demo's local
   SMTP catcher (``.tarefa/mail``);
2. a boletim PDF (generated here) is uploaded; the extraction job reads it and its grades are
   printed;
3. a booking event turns into reminders planned in the tenant's timezone;
4. a WhatsApp campaign goes to a small audience through a stand-in of Meta's Cloud API
   (``fake_whatsapp.py``, started by the demo): preview with exclusions, start, live metrics as
   the signed status webhooks come back (needs ``--wa-log``; skipped without it);
5. the report cards of step 1's class rendered as a PDF by a ``reports.render`` job and written
   to ``--out``.

Usage: ``python demo_tour.py --url http://127.0.0.1:8080 --key tfk_… --maildir .tarefa/mail
[--out .tarefa/demo-out]``. Exit status 1 when a step failed (the others still run).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import io
import json
import sys
import time
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from tarefa import Tarefa

SP = ZoneInfo("America/Sao_Paulo")
YEAR = datetime.now(SP).year


def say(msg: str = "") -> None:
    print(msg, flush=True)


def step(title: str) -> None:
    say()
    say(f"── {title}")


def wait_for(probe, what: str, timeout: float = 60.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: nothing after {timeout:.0f} s")
        time.sleep(every)


# ------------------------------------------------------------------ 1. records, alert, e-mail


def school_alert(t: Tarefa, maildir: Path, run: str) -> None:
    step("1. School records → academic alert → e-mail to the guardian")
    reg = f"D{run}"
    t.notification_channels.put("email", {"from": "secretaria@escola-demo.example",
                                          "from_name": "Secretaria Escola Demo"})
    t.alert_rules.create({
        "name": f"Nota abaixo de 5 ({run})",
        "condition": {"type": "grade_below", "threshold": 5},
        "audience": ["guardians"], "channels": ["email"], "urgency": "high",
    })
    say("   alert rule: a term grade below 5,0 → e-mail the guardians (urgent)")
    t.academic.students([{
        "registration": reg, "name": "Ana Luíza Souza",
        "guardians": [{"name": "Maria Souza", "relationship": "mãe",
                       "email": f"maria.souza+{run}@familia.example",
                       "preferred_channels": ["email"]}],
    }])
    t.academic.classes([{"code": f"7A-{run}", "name": "7º ano A", "year": YEAR,
                         "enrollments": [{"registration": reg}]}])
    csv = (f"matricula;disciplina;ano;bimestre;nota\n"
           f"{reg};Matemática;{YEAR};1;4,5\n{reg};Português;{YEAR};1;8,0\n"
           f"{reg};Ciências;{YEAR};1;7,5\n")
    got = t.academic.grades(csv)
    say(f"   grades CSV (pt-BR: ';' and decimal comma) ingested: {got.to_dict()}")
    alerts = wait_for(lambda: t.alerts.list(status="open", student=reg)["alerts"],
                      "an open alert", 90)
    a = alerts[0]
    say(f"   alert {a.get('id')} opened by the rule \"{a.get('rule_name') or a.get('rule_id')}\" "
        f"(status {a.get('status')})")
    mail = wait_for(lambda: _find_mail(maildir, f"maria.souza+{run}@"), "the guardian's e-mail", 90)
    say(f"   e-mail caught by the local SMTP catcher ({mail['path']}):")
    say(f"     To: {mail['to']}")
    say(f"     Subject: {mail['subject']}")
    for line in mail["body"].strip().splitlines()[:8]:
        say(f"     | {line}")


def _find_mail(maildir: Path, to_prefix: str):
    for sub in ("new", "cur"):
        d = maildir / sub
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
            msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
            if to_prefix in str(msg.get("To", "")):
                part = msg.get_body(preferencelist=("plain", "html"))
                body = part.get_content() if part is not None else ""
                return {"path": str(f), "to": msg["To"], "subject": msg["Subject"], "body": body}
    return None


# ------------------------------------------------------------------ 2. boletim PDF


def boletim_pdf(run: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Table, TableStyle

    font = "Helvetica"
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont("DejaVu", path))
            font = "DejaVu"
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    c.setFont(font, 14)
    c.drawString(50, h - 60, "ESCOLA ESTADUAL DEMONSTRAÇÃO")
    c.setFont(font, 10)
    c.drawString(50, h - 80, "CNPJ: 11.222.333/0001-81")
    c.drawString(50, h - 110, f"BOLETIM ESCOLAR — Ano letivo {YEAR}")
    c.drawString(50, h - 130, f"Aluno(a): Bruno Carvalho Lima    Matrícula: B{run}")
    c.drawString(50, h - 145, "Turma: 8º ano B")
    rows = [["Disciplina", "1º Bim", "2º Bim", "3º Bim", "4º Bim", "Média", "Faltas"],
            ["Matemática", "7,5", "8,0", "6,5", "9,0", "7,8", "2"],
            ["Língua Portuguesa", "8,5", "9,0", "8,0", "8,5", "8,5", "0"],
            ["História", "6,0", "7,0", "7,5", "8,0", "7,1", "4"],
            ["Ciências", "9,5", "9,0", "10,0", "9,5", "9,5", "1"]]
    tbl = Table(rows, colWidths=[150, 55, 55, 55, 55, 55, 50])
    tbl.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 10),
                             ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                             ("ALIGN", (1, 0), (-1, -1), "CENTER")]))
    _, th = tbl.wrapOn(c, w, h)
    tbl.drawOn(c, 50, h - 180 - th)
    c.showPage()
    c.save()
    return buf.getvalue()


def document_extraction(t: Tarefa, out: Path, run: str) -> None:
    step("2. A boletim PDF → extraction job → grades read from it")
    pdf = boletim_pdf(run)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"boletim-{run}.pdf"
    path.write_bytes(pdf)
    up = t.documents.upload(path, doc_type="boletim")
    say(f"   uploaded {path} → document {up.document_id}, job {up.job_id}")
    job = t.jobs.wait(up.job_id, timeout=180)
    doc = t.documents.get(up.document_id)
    say(f"   extraction job {job.status}; document status {doc.status}")
    if job.status != "succeeded":
        raise RuntimeError(f"extraction did not succeed: {doc.get('error')}")
    result = doc.get("result") or {}
    student = result.get("student") or {}
    say(f"   student: {student.get('name')} (matrícula {student.get('registration')})")
    for s in (result.get("subjects") or [])[:8]:
        terms = "  ".join(f"{g.get('term')}º bim {_br(g.get('grade'))}" for g in s.get("terms", []))
        say(f"   {s.get('name_original') or s.get('name', '?'):<20} {terms}   "
            f"média {_br(s.get('final_grade'))}  faltas {s.get('absences')}")


def _br(v) -> str:
    """8.5 → '8,5' (pt-BR)."""
    return "-" if v is None else f"{v:.1f}".replace(".", ",")


# ------------------------------------------------------------------ 3. booking → reminders


def booking_reminders(t: Tarefa, run: str) -> None:
    step("3. A booking event → reminders planned in the tenant's timezone")
    t.events.put_settings(labels={"booking": "Aula", "resource": "Sala"})
    rules = t.reminder_rules.list()["rules"]
    if not any(r["name"] == "demo-24h" for r in rules):
        t.reminder_rules.create(family="booking", name="demo-24h", trigger="before_start",
                                offset_minutes=24 * 60, audience="client", channels=["email"])
        t.reminder_rules.create(family="booking", name="demo-day-before-18h",
                                trigger="day_before_at", local_time="18:00", audience="client",
                                channels=["email"])
        t.reminder_rules.create(family="booking", name="demo-1h", trigger="before_start",
                                offset_minutes=60, audience="client", channels=["email"])
        rules = t.reminder_rules.list()["rules"]
    names = {r["id"]: r["name"] for r in rules}
    start = (datetime.now(SP) + timedelta(days=2)).replace(hour=10, minute=0, second=0,
                                                           microsecond=0)
    booking = f"bk-{run}"
    res = t.events.publish({
        "id": f"evt-{run}-1", "event_type": "booking.created",
        "payload": {"booking_id": booking, "user_id": "u-1", "resource_id": "sala-3",
                    "status": "confirmed", "start_time": start.astimezone(timezone.utc).isoformat(),
                    "end_time": (start + timedelta(hours=1)).astimezone(timezone.utc).isoformat(),
                    "client": {"name": "Carla Mendes", "email": f"carla+{run}@cliente.example"}},
    })
    say(f"   booking.created for {start:%d/%m/%Y %H:%M} (São Paulo): {res.to_dict()}")
    for r in t.events.booking_reminders(booking)["reminders"]:
        due = datetime.fromisoformat(str(r["due_at"]).replace("Z", "+00:00")).astimezone(SP)
        say(f"   reminder {names.get(r['rule_id'], r['rule_id'])}: due {due:%d/%m/%Y %H:%M} "
            f"São Paulo (version {r['version']}), status {r['status']}")


# ------------------------------------------------------------------ 5. report cards


def report_cards(t: Tarefa, out: Path, run: str) -> None:
    step("5. The class's report cards → a PDF rendered by a job")
    rep = t.reports.create("student_report_card", "pdf",
                           {"year": YEAR, "class": f"7A-{run}",
                            "observations": "Reunião de pais no sábado às 9h."})
    say(f"   report {rep.id} queued (job {rep.job_id})")
    t.jobs.wait(rep.job_id, timeout=180)
    done = t.reports.get(rep.id)
    if done.status != "done":
        raise RuntimeError(f"report {done.status}: {done.get('error')}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"boletins-7A-{run}.pdf"
    path.write_bytes(t.reports.file(rep.id))
    say(f"   {done.pages} page(s), {done.size_bytes:,} bytes → {path}".replace(",", "."))


# ------------------------------------------------------------------ 4. WhatsApp campaign


def whatsapp_campaign(t: Tarefa, wa_log: Path | None, run: str) -> None:
    step("4. A WhatsApp campaign → audience, preview, sends, delivery and read receipts")
    if wa_log is None:
        say("   skipped (no --wa-log: the demo's WhatsApp stand-in is not running)")
        return
    t.notification_channels.put("whatsapp", {"phone_number_id": "1055001",
                                             "access_token_env": "DEMO_WA_TOKEN"})
    t.campaigns.put_settings(waba_id="demo-waba", messaging_limit=2000)
    tag = f"pais-{run}"
    contacts = [
        {"external_id": f"{run}-1", "name": "Maria Souza", "phone": "(11) 98765-4321", "tags": [tag],
         "attributes": {"turma": "7º A"}},
        {"external_id": f"{run}-2", "name": "João Lima", "phone": "+55 21 99876-5432", "tags": [tag],
         "attributes": {"turma": "8º B"}},
        {"external_id": f"{run}-3", "name": "Carla Mendes", "phone": "11 3456-7890", "tags": [tag]},
        {"external_id": f"{run}-4", "name": "Pedro Alves", "phone": "(11) 98765-4321", "tags": [tag]},
        {"external_id": f"{run}-5", "name": "Rita Dias", "phone": "(31) 99123-4567", "tags": [tag],
         "opted_out_at": datetime.now(timezone.utc).isoformat()},
        {"external_id": f"{run}-6", "name": "Luís Prado", "phone": "12345", "tags": [tag]},
    ]
    up = t.contacts.upsert(contacts)
    say(f"   contacts upserted: {up.to_dict()}")
    name = f"reuniao_pais_{run}"
    t.whatsapp_templates.create(name=name, category="utility", language="pt_BR",
                                body="Olá {{1}}, a reunião de pais da turma {{2}} é sábado às 9h.",
                                parameters=["nome", "turma"])
    camp = t.campaigns.create(name=f"Reunião de pais ({run})", sender_phone_number_id="1055001",
                              template=name,
                              parameters={"nome": {"source": "first_name"},
                                          "turma": {"source": "attributes.turma", "default": "do seu filho"}},
                              audience={"type": "tags", "any_of": [tag]}, rate_per_second=5)
    pv = t.campaigns.preview(camp.id).to_dict()
    counts = pv  # matched, eligible, excluded (by reason)
    excluded = {k: v for k, v in (counts.get("excluded") or {}).items() if v}
    say(f"   preview: {counts.get('matched')} contacts match, {counts.get('eligible')} will receive it; "
        f"excluded: {excluded}; estimated cost {pv.get('currency')} {pv.get('estimated_cost')}")
    for sample in (pv.get("samples") or [])[:3]:
        say(f"     sample → {sample.get('phone') or sample.get('to')}: {sample.get('text') or sample.get('body') or sample}")
    t.campaigns.start(camp.id)

    def finished():
        c = t.campaigns.get(camp.id).to_dict()
        m = c.get("metrics") or {}
        # completed, and every message's delivery receipt is in (the stand-in sends them)
        return c if c.get("state") == "completed" and m.get("delivered", 0) >= m.get("sent", 1) else None

    try:
        c = wait_for(finished, "the campaign to complete", 120)
    except TimeoutError:
        say(f"   campaign now: {t.campaigns.get(camp.id).to_dict()}")
        raise
    time.sleep(1.5)  # the last read receipts
    c = t.campaigns.get(camp.id).to_dict()
    m = c.get("metrics") or {}
    say(f"   campaign {c.get('state')}: {m.get('recipients')} recipients, sent {m.get('sent')}, "
        f"delivered {m.get('delivered')}, read {m.get('read')} "
        f"(delivery {m.get('delivery_rate', 0):.0%}, read {m.get('read_rate', 0):.0%})")
    cost = m.get("cost") or {}
    say(f"   cost: {cost.get('currency')} {cost.get('actual')} (Meta's {cost.get('prices_date')} prices)")
    sent = [json.loads(line) for line in wa_log.read_text(encoding="utf-8").splitlines()
            if line.strip()] if wa_log.exists() else []
    mine = [m for m in sent if name in json.dumps(m, ensure_ascii=False)]
    say(f"   the WhatsApp stand-in received {len(mine)} messages for this campaign, e.g. to {mine[0]['to'] if mine else '-'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--maildir", required=True, type=Path)
    ap.add_argument("--out", default=Path(".tarefa/demo-out"), type=Path)
    ap.add_argument("--wa-log", default=None, type=Path,
                    help="the WhatsApp stand-in's message log (enables the campaign step)")
    a = ap.parse_args()
    run = datetime.now().strftime("%m%d%H%M%S") + uuid.uuid4().hex[:3]
    failed = 0
    with Tarefa(a.url, api_key=a.key) as t:
        for fn, args in ((school_alert, (t, a.maildir, run)),
                         (document_extraction, (t, a.out, run)),
                         (booking_reminders, (t, run)),
                         (whatsapp_campaign, (t, a.wa_log, run)),
                         (report_cards, (t, a.out, run))):
            try:
                fn(*args)
            except Exception as e:  # a failed step is reported, the others still run
                failed += 1
                say(f"   ✗ {fn.__name__} failed: {e}")
                traceback.print_exc(limit=3, file=sys.stderr)
    say()
    say("Tour done." if not failed else f"Tour done; {failed} step(s) failed (see above).")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
