"""The API's operations, grouped as the client exposes them (``t.jobs``, ``t.schedules``…).

Each method builds a :class:`~tarefa._transport.Call` and hands it to the client's transport:
with :class:`~tarefa.Tarefa` it returns the parsed answer, with :class:`~tarefa.AsyncTarefa`
a coroutine of it. Bodies of the feature APIs are the JSON the API documents (``/docs``), given
as a dict (or a pydantic model); list methods take the route's query filters as keywords.
"""

from __future__ import annotations

import json as _json
import os
import time
import uuid
from datetime import datetime
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from . import errors
from ._operations import operation
from ._transport import Call
from .models import (
    ApiObject,
    BatchResult,
    Cancelled,
    Enqueued,
    Job,
    JobPage,
    QueueList,
    QueueState,
    Retried,
)

_OBJECTS = TypeAdapter(list[ApiObject])


def _seg(v: Any) -> str:
    """A path segment, percent-encoded."""
    return quote(str(v), safe="")


def _body(body: Any, extra: Mapping[str, Any] | None = None) -> Any:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json", exclude_none=True)
    if extra:
        body = {**(body or {}), **{k: v for k, v in extra.items() if v is not None}}
    return body


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


class _Resource:
    def __init__(self, transport: Any) -> None:
        self._t = transport

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        kw.setdefault("model", ApiObject)
        return self._t(Call(method, path, **kw))


# ------------------------------------------------------------------ jobs and queues


class Jobs(_Resource):
    """Enqueue jobs, follow them, cancel and retry them."""

    @operation("POST", "/v1/jobs/{kind}")
    def enqueue(
        self,
        kind: str,
        payload: Any = None,
        *,
        run_at: datetime | str | None = None,
        delay_ms: int | None = None,
        priority: str | None = None,
        max_attempts: int | None = None,
        idempotency_key: str | None = None,
        traceparent: str | None = None,
    ) -> Enqueued:
        """Enqueues one job. An ``Idempotency-Key`` is generated when you give none, so a retry
        after a lost answer finds the first job instead of creating a second; pass your own
        (e.g. ``"order-42"``) to make the enqueue idempotent across your own retries too."""
        body = {
            "payload": _body(payload) if payload is not None else {},
            "run_at": _iso(run_at),
            "delay_ms": delay_ms,
            "priority": priority,
            "max_attempts": max_attempts,
        }
        headers = {"Idempotency-Key": idempotency_key or f"py-{uuid.uuid4()}"}
        if traceparent:
            headers["traceparent"] = traceparent
        return self._t(Call("POST", f"/v1/jobs/{_seg(kind)}",
                            json={k: v for k, v in body.items() if v is not None},
                            headers=headers, model=Enqueued))

    @operation("POST", "/v1/jobs")
    def enqueue_many(self, items: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Up to 1,000 jobs in one call: items ``{kind, payload, run_at?, delay_ms?, priority?,
        max_attempts?, idempotency_key?}``; each gets its own result, a bad item does not sink
        the others. Retried on a lost answer only when every item has an idempotency key."""
        items = [dict(_body(i)) for i in items]
        keyed = all(i.get("idempotency_key") for i in items)
        headers = {"Idempotency-Key": f"py-batch-{uuid.uuid4()}"} if keyed else {}
        return self._t(Call("POST", "/v1/jobs", json=items, headers=headers, model=BatchResult))

    @operation("GET", "/v1/jobs/{id}")
    def get(self, id: str) -> Job:
        return self._t(Call("GET", f"/v1/jobs/{_seg(id)}", model=Job))

    @operation("GET", "/v1/jobs")
    def list(self, *, status: str | None = None, kind: str | None = None,
             limit: int | None = None, cursor: str | None = None) -> JobPage:
        """One page of your jobs in one state (default ``queued``); pass ``next_cursor`` on."""
        return self._t(Call("GET", "/v1/jobs", params={"status": status, "kind": kind,
                                                       "limit": limit, "cursor": cursor},
                            model=JobPage))

    @operation("DELETE", "/v1/jobs/{id}")
    def cancel(self, id: str) -> Cancelled:
        """Not started → ``cancelled``; running → its handler is told to stop."""
        return self._t(Call("DELETE", f"/v1/jobs/{_seg(id)}", model=Cancelled))

    @operation("POST", "/v1/jobs/{id}/retry")
    def retry(self, id: str) -> Retried:
        """Runs a dead or cancelled job again with a fresh attempt budget."""
        return self._t(Call("POST", f"/v1/jobs/{_seg(id)}/retry", model=Retried))

    def wait(self, id: str, timeout: float = 60.0, poll: float = 0.2) -> Any:
        """Polls until the job is final (succeeded, dead, cancelled) and returns it; raises
        :class:`~tarefa.errors.WaitTimeout` (carrying the last state seen) after ``timeout``
        seconds. The poll interval grows from ``poll`` to 2 s."""
        if getattr(self._t, "is_async", False):
            return self._await(id, timeout, poll)
        deadline = time.monotonic() + timeout
        interval = poll
        while True:
            job = self.get(id)
            if job.final:
                return job
            left = deadline - time.monotonic()
            if left <= 0:
                raise errors.WaitTimeout(job, timeout)
            time.sleep(min(interval, left))
            interval = min(interval * 1.5, 2.0)

    async def _await(self, id: str, timeout: float, poll: float) -> Job:
        import asyncio

        deadline = time.monotonic() + timeout
        interval = poll
        while True:
            job = await self.get(id)
            if job.final:
                return job
            left = deadline - time.monotonic()
            if left <= 0:
                raise errors.WaitTimeout(job, timeout)
            await asyncio.sleep(min(interval, left))
            interval = min(interval * 1.5, 2.0)


class Batches(_Resource):
    """Batches: jobs of one queue with ``on_complete`` / ``on_success`` callback jobs that the
    engine pushes exactly once when the last member is final (the callbacks get ``batch`` —
    id, total, succeeded, dead, cancelled — in their payload)."""

    @operation("POST", "/v1/batches")
    def create(self, jobs: Iterable[Mapping[str, Any]], *,
               on_complete: Mapping[str, Any] | None = None,
               on_success: Mapping[str, Any] | None = None) -> ApiObject:
        """1-1,000 jobs ``{kind, payload, run_at?, delay_ms?, priority?, max_attempts?,
        idempotency_key?}`` and callbacks ``{kind, payload, priority?, max_attempts?}``;
        answers ``{batch, jobs}`` (201)."""
        body: dict[str, Any] = {"jobs": [dict(_body(j)) for j in jobs]}
        if on_complete is not None:
            body["on_complete"] = dict(_body(on_complete))
        if on_success is not None:
            body["on_success"] = dict(_body(on_success))
        return self._call("POST", "/v1/batches", json=body)

    @operation("GET", "/v1/batches/{id}")
    def get(self, id: str) -> ApiObject:
        """State (open, sealed, done) and counts: total, pending, succeeded, dead, cancelled."""
        return self._call("GET", f"/v1/batches/{_seg(id)}")

    @operation("POST", "/v1/batches/{id}/cancel")
    def cancel(self, id: str) -> ApiObject:
        """Cancels the members that have not started; ``on_complete`` runs when the rest end."""
        return self._call("POST", f"/v1/batches/{_seg(id)}/cancel")


class Queues(_Resource):
    @operation("GET", "/v1/queues")
    def list(self) -> QueueList:
        """Every queue: jobs per state, paused, age of the oldest waiting job."""
        return self._t(Call("GET", "/v1/queues", model=QueueList))

    @operation("POST", "/v1/queues/{queue}/pause")
    def pause(self, queue: str) -> QueueState:
        """Workers stop taking jobs from ``queue`` (admin scope)."""
        return self._t(Call("POST", f"/v1/queues/{_seg(queue)}/pause", model=QueueState))

    @operation("POST", "/v1/queues/{queue}/resume")
    def resume(self, queue: str) -> QueueState:
        return self._t(Call("POST", f"/v1/queues/{_seg(queue)}/resume", model=QueueState))


class Health(_Resource):
    @operation("GET", "/healthz")
    def live(self) -> Any:
        """The process is up."""
        return self._t(Call("GET", "/healthz"))

    @operation("GET", "/readyz")
    def ready(self) -> Any:
        """Redis and PostgreSQL answer (a 503 names the one that does not)."""
        return self._t(Call("GET", "/readyz"))

    @operation("GET", "/metrics")
    def metrics(self) -> str:
        """The Prometheus exposition text."""
        return self._t(Call("GET", "/metrics"))


class Audit(_Resource):
    @operation("GET", "/v1/audit")
    def list(self, **filters: Any) -> ApiObject:
        """Ops actions of your tenant (admin scope)."""
        return self._call("GET", "/v1/audit", params=filters)


# ------------------------------------------------------------------ CRUD helper


class _Crud(_Resource):
    _path = ""

    def _create(self, spec: Any, **fields: Any) -> ApiObject:
        return self._call("POST", self._path, json=_body(spec, fields))

    def _list(self, **filters: Any) -> Any:
        return self._call("GET", self._path, params=filters, model=None)

    def _get(self, id: Any) -> ApiObject:
        return self._call("GET", f"{self._path}/{_seg(id)}")

    def _update(self, id: Any, spec: Any, **fields: Any) -> ApiObject:
        return self._call("PUT", f"{self._path}/{_seg(id)}", json=_body(spec, fields))

    def _delete(self, id: Any) -> Any:
        return self._call("DELETE", f"{self._path}/{_seg(id)}", model=None)


class Schedules(_Crud):
    """Per-tenant cron schedules (seconds field, IANA timezone, catch_up none|last)."""

    _path = "/v1/schedules"

    @operation("POST", "/v1/schedules")
    def create(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        return self._create(spec, **fields)

    @operation("GET", "/v1/schedules")
    def list(self, **filters: Any) -> Any:
        return self._list(**filters)

    @operation("GET", "/v1/schedules/{id}")
    def get(self, id: str) -> ApiObject:
        return self._get(id)

    @operation("PUT", "/v1/schedules/{id}")
    def update(self, id: str, spec: Any = None, /, **fields: Any) -> ApiObject:
        return self._update(id, spec, **fields)

    @operation("DELETE", "/v1/schedules/{id}")
    def delete(self, id: str) -> Any:
        return self._delete(id)


class Keys(_Resource):
    """The tenant's API keys (admin). Rotation: ``create`` a new key, move the clients over
    while both work, then ``revoke`` the old one (every api-lite replica refuses it within a
    second). The key itself is in ``create``'s answer only (``api_key``)."""

    @operation("GET", "/v1/keys")
    def list(self) -> ApiObject:
        return self._call("GET", "/v1/keys")

    @operation("POST", "/v1/keys")
    def create(self, *, name: str = "", scopes: Iterable[str] | None = None,
               expires_at: datetime | str | None = None) -> ApiObject:
        body: dict[str, Any] = {"name": name}
        if scopes is not None:
            body["scopes"] = list(scopes)
        if expires_at is not None:
            body["expires_at"] = _iso(expires_at)
        return self._call("POST", "/v1/keys", json=body)

    @operation("DELETE", "/v1/keys/{id}")
    def revoke(self, id: str) -> ApiObject:
        return self._call("DELETE", f"/v1/keys/{_seg(id)}")


# ------------------------------------------------------------------ notifications


class Notifications(_Resource):
    """One message per recipient through the outbox: sent at most once."""

    @operation("POST", "/v1/notifications")
    def send(self, spec: Any = None, /, *, traceparent: str | None = None, **fields: Any) -> ApiObject:
        """``{channel, recipient, dedup_key, message: {template, data} | {subject, body}}`` or
        ``recipients: [{recipient, dedup_key, data}, …]`` for a fan-out. Safe to retry: each
        recipient's ``dedup_key`` makes a second call create nothing."""
        headers = {"Idempotency-Key": f"py-{uuid.uuid4()}"}
        if traceparent:
            headers["traceparent"] = traceparent
        return self._call("POST", "/v1/notifications", json=_body(spec, fields), headers=headers)

    @operation("GET", "/v1/notifications")
    def list(self, **filters: Any) -> ApiObject:
        return self._call("GET", "/v1/notifications", params=filters)

    @operation("GET", "/v1/notifications/{id}")
    def get(self, id: str) -> ApiObject:
        return self._call("GET", f"/v1/notifications/{_seg(id)}")


class NotificationChannels(_Resource):
    """A tenant's channel settings (addresses and ids; secrets only as env var names)."""

    @operation("GET", "/v1/notification-channels")
    def list(self) -> Any:
        return self._call("GET", "/v1/notification-channels", model=None)

    @operation("GET", "/v1/notification-channels/{channel}")
    def get(self, channel: str) -> ApiObject:
        return self._call("GET", f"/v1/notification-channels/{_seg(channel)}")

    @operation("PUT", "/v1/notification-channels/{channel}")
    def put(self, channel: str, settings: Mapping[str, Any], **fields: Any) -> ApiObject:
        return self._call("PUT", f"/v1/notification-channels/{_seg(channel)}",
                          json={"settings": dict(settings), **fields})

    @operation("DELETE", "/v1/notification-channels/{channel}")
    def delete(self, channel: str) -> Any:
        return self._call("DELETE", f"/v1/notification-channels/{_seg(channel)}", model=None)


class NotificationTemplates(_Crud):
    _path = "/v1/notification-templates"

    @operation("POST", "/v1/notification-templates")
    def create(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        """Refused (422, ``field``) if it uses a variable not in ``variables``."""
        return self._create(spec, **fields)

    @operation("GET", "/v1/notification-templates")
    def list(self, **filters: Any) -> Any:
        return self._list(**filters)

    @operation("GET", "/v1/notification-templates/{id}")
    def get(self, id: str) -> ApiObject:
        return self._get(id)

    @operation("PUT", "/v1/notification-templates/{id}")
    def update(self, id: str, spec: Any = None, /, **fields: Any) -> ApiObject:
        return self._update(id, spec, **fields)

    @operation("DELETE", "/v1/notification-templates/{id}")
    def delete(self, id: str) -> Any:
        return self._delete(id)


class NotificationOptOuts(_Resource):
    @operation("POST", "/v1/notification-opt-outs")
    def create(self, channel: str, recipient: str, **fields: Any) -> ApiObject:
        return self._call("POST", "/v1/notification-opt-outs",
                          json={"channel": channel, "recipient": recipient, **fields})

    @operation("GET", "/v1/notification-opt-outs")
    def list(self, **filters: Any) -> Any:
        return self._call("GET", "/v1/notification-opt-outs", params=filters, model=None)

    @operation("DELETE", "/v1/notification-opt-outs/{channel}/{recipient}")
    def delete(self, channel: str, recipient: str) -> Any:
        return self._call("DELETE", f"/v1/notification-opt-outs/{_seg(channel)}/{_seg(recipient)}",
                          model=None)


class NotificationPolicy(_Resource):
    """Quiet hours in the tenant's timezone."""

    @operation("GET", "/v1/notification-policy")
    def get(self) -> ApiObject:
        return self._call("GET", "/v1/notification-policy")

    @operation("PUT", "/v1/notification-policy")
    def put(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        return self._call("PUT", "/v1/notification-policy", json=_body(spec, fields))


class NotificationNotices(_Resource):
    @operation("GET", "/v1/notification-notices")
    def list(self, **filters: Any) -> Any:
        """E.g. a webhook disabled after too many failures in a row."""
        return self._call("GET", "/v1/notification-notices", params=filters, model=None)


# ------------------------------------------------------------------ academic records and alerts


class Academic(_Resource):
    """Upserts of a school's records: a list of rows (dicts) or CSV text (``;``-separated,
    pt-BR dates and decimals). Each answer counts what was inserted, updated and refused."""

    def _ingest(self, what: str, rows: Any) -> ApiObject:
        path = f"/v1/academic/{what}"
        if isinstance(rows, (str, bytes)):
            return self._call("POST", path, content=rows, headers={"Content-Type": "text/csv"})
        return self._call("POST", path, json=[_body(r) for r in rows])

    @operation("POST", "/v1/academic/students")
    def students(self, rows: Any) -> ApiObject:
        return self._ingest("students", rows)

    @operation("POST", "/v1/academic/classes")
    def classes(self, rows: Any) -> ApiObject:
        return self._ingest("classes", rows)

    @operation("POST", "/v1/academic/grades")
    def grades(self, rows: Any) -> ApiObject:
        return self._ingest("grades", rows)

    @operation("POST", "/v1/academic/attendance")
    def attendance(self, rows: Any) -> ApiObject:
        return self._ingest("attendance", rows)

    @operation("POST", "/v1/academic/occurrences")
    def occurrences(self, rows: Any) -> ApiObject:
        return self._ingest("occurrences", rows)


class AlertRules(_Crud):
    _path = "/v1/alert-rules"

    @operation("POST", "/v1/alert-rules")
    def create(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        return self._create(spec, **fields)

    @operation("GET", "/v1/alert-rules")
    def list(self, **filters: Any) -> Any:
        return self._list(**filters)

    @operation("GET", "/v1/alert-rules/{id}")
    def get(self, id: str) -> ApiObject:
        return self._get(id)

    @operation("PUT", "/v1/alert-rules/{id}")
    def update(self, id: str, spec: Any = None, /, **fields: Any) -> ApiObject:
        return self._update(id, spec, **fields)

    @operation("DELETE", "/v1/alert-rules/{id}")
    def delete(self, id: str) -> Any:
        return self._delete(id)


class Alerts(_Resource):
    @operation("GET", "/v1/alerts")
    def list(self, **filters: Any) -> ApiObject:
        """Filters: ``status``, ``student``, ``rule``, ``since``, ``limit``, ``cursor``."""
        return self._call("GET", "/v1/alerts", params={k: _iso(v) for k, v in filters.items()})

    @operation("GET", "/v1/alerts/{id}")
    def get(self, id: str) -> ApiObject:
        return self._call("GET", f"/v1/alerts/{_seg(id)}")

    @operation("POST", "/v1/alerts/{id}/ack")
    def ack(self, id: str, by: str | None = None) -> ApiObject:
        """Moves an open alert to ``acknowledged``; ``by`` says who (a name or your id)."""
        return self._call("POST", f"/v1/alerts/{_seg(id)}/ack",
                          json={"by": by} if by else None)


# ------------------------------------------------------------------ documents


class Documents(_Resource):
    """Boletins and históricos: upload a PDF, an extraction job reads it."""

    @operation("POST", "/v1/documents")
    def upload(self, file: Any, *, filename: str | None = None, student_id: str | None = None,
               doc_type: str | None = None, reextract: bool | None = None) -> ApiObject:
        """``file``: a path, bytes or a binary file object. Answers the document id and the
        extraction job's id (follow it with ``jobs.wait``)."""
        if isinstance(file, (str, os.PathLike)):
            with open(file, "rb") as f:
                content = f.read()
            filename = filename or os.path.basename(str(file))
        elif isinstance(file, (bytes, bytearray)):
            content = bytes(file)
        else:
            content = file.read()
            filename = filename or os.path.basename(getattr(file, "name", "") or "") or None
        data = {k: v for k, v in {"student_id": student_id, "doc_type": doc_type}.items() if v}
        params = {"reextract": "true"} if reextract else None
        return self._call(
            "POST", "/v1/documents",
            files={"file": (filename or "document.pdf", content, "application/pdf")},
            data=data or None, params=params,
            # the same file twice is answered with the first document, so a retry after a lost
            # answer is safe — except a re-extraction, which queues a new job each time
            headers={} if reextract else {"Idempotency-Key": f"py-{uuid.uuid4()}"},
        )

    @operation("GET", "/v1/documents")
    def list(self, **filters: Any) -> ApiObject:
        return self._call("GET", "/v1/documents", params=filters)

    @operation("GET", "/v1/documents/{id}")
    def get(self, id: str) -> ApiObject:
        return self._call("GET", f"/v1/documents/{_seg(id)}")

    @operation("POST", "/v1/documents/{id}/review")
    def review(self, id: str, action: str, *, corrections: dict[str, Any] | None = None,
               note: str | None = None) -> ApiObject:
        """Approves (``action="approve"``, optionally with ``corrections``: a partial result,
        subjects by ``code``) or rejects (``"reject"``) a document held in ``needs_review``.
        Approval writes the academic records; a document not held is a 409."""
        body: dict[str, Any] = {"action": action}
        if corrections is not None:
            body["corrections"] = corrections
        if note is not None:
            body["note"] = note
        return self._call("POST", f"/v1/documents/{_seg(id)}/review", json=body)

    def approve(self, id: str, *, corrections: dict[str, Any] | None = None,
                note: str | None = None) -> ApiObject:
        """``review(id, "approve", ...)``."""
        return self.review(id, "approve", corrections=corrections, note=note)

    def reject(self, id: str, *, note: str | None = None) -> ApiObject:
        """``review(id, "reject", ...)``: final; nothing is written."""
        return self.review(id, "reject", note=note)


# ------------------------------------------------------------------ payments


class Payments(_Resource):
    @operation("POST", "/v1/payments")
    def create(self, spec: Any = None, /, *, idempotency_key: str | None = None,
               **fields: Any) -> ApiObject:
        """A charge through the tenant's payment provider; idempotent by ``Idempotency-Key``
        (generated when absent), so a retry never charges twice."""
        return self._call("POST", "/v1/payments", json=_body(spec, fields),
                          headers={"Idempotency-Key": idempotency_key or f"py-{uuid.uuid4()}"})

    @operation("GET", "/v1/payments")
    def list(self, **filters: Any) -> ApiObject:
        return self._call("GET", "/v1/payments", params=filters)

    @operation("GET", "/v1/payments/{id}")
    def get(self, id: str) -> ApiObject:
        return self._call("GET", f"/v1/payments/{_seg(id)}")

    @operation("POST", "/v1/payments/{id}/refunds")
    def refund(self, id: str, spec: Any = None, /, *, idempotency_key: str | None = None,
               **fields: Any) -> ApiObject:
        return self._call("POST", f"/v1/payments/{_seg(id)}/refunds", json=_body(spec, fields) or {},
                          headers={"Idempotency-Key": idempotency_key or f"py-{uuid.uuid4()}"})


# ------------------------------------------------------------------ events and reminders


class Events(_Resource):
    """Booking and tutoring events over HTTP (the same envelope as the Redis stream)."""

    @operation("POST", "/v1/events")
    def publish(self, events: Any) -> ApiObject:
        """One envelope ``{id, event_type, payload, metadata?}`` (a dict) or a list of up to
        1,000; idempotent by each event's ``id``. One result per event: ``applied``, ``stale``
        or ``duplicate``; a bad envelope is a 422 naming it (``events[3].payload.start_time``)
        and nothing is recorded."""
        batch = [events] if isinstance(events, (Mapping, BaseModel)) else list(events)
        return self._call("POST", "/v1/events", json={"events": [_body(e) for e in batch]},
                          headers={"Idempotency-Key": f"py-{uuid.uuid4()}"})

    @operation("GET", "/v1/events/dead-letters")
    def dead_letters(self, **filters: Any) -> Any:
        return self._call("GET", "/v1/events/dead-letters", params=filters, model=None)

    @operation("POST", "/v1/events/dead-letters/{id}/retry")
    def retry_dead_letter(self, id: str) -> Any:
        return self._call("POST", f"/v1/events/dead-letters/{_seg(id)}/retry", model=None)

    @operation("POST", "/v1/events/dead-letters/{id}/discard")
    def discard_dead_letter(self, id: str) -> Any:
        return self._call("POST", f"/v1/events/dead-letters/{_seg(id)}/discard", model=None)

    @operation("GET", "/v1/events/settings")
    def settings(self) -> ApiObject:
        return self._call("GET", "/v1/events/settings")

    @operation("PUT", "/v1/events/settings")
    def put_settings(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        return self._call("PUT", "/v1/events/settings", json=_body(spec, fields))

    @operation("GET", "/v1/bookings/{booking_id}/webhooks")
    def booking_webhooks(self, booking_id: str) -> Any:
        """The booking's webhook deliveries, in order, with state, status, attempts, last error."""
        return self._call("GET", f"/v1/bookings/{_seg(booking_id)}/webhooks", model=None)

    @operation("GET", "/v1/bookings/{booking_id}/reminders")
    def booking_reminders(self, booking_id: str) -> Any:
        """The reminders planned for a booking, and what became of each."""
        return self._call("GET", f"/v1/bookings/{_seg(booking_id)}/reminders", model=None)


class ReminderRules(_Resource):
    @operation("POST", "/v1/reminder-rules")
    def create(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        return self._call("POST", "/v1/reminder-rules", json=_body(spec, fields))

    @operation("GET", "/v1/reminder-rules")
    def list(self, **filters: Any) -> Any:
        return self._call("GET", "/v1/reminder-rules", params=filters, model=None)

    @operation("DELETE", "/v1/reminder-rules/{id}")
    def delete(self, id: str) -> Any:
        return self._call("DELETE", f"/v1/reminder-rules/{_seg(id)}", model=None)


# ------------------------------------------------------------------ campaigns (WhatsApp)


class Contacts(_Resource):
    """The engagement product's contacts: bulk upsert by your external id."""

    @operation("POST", "/v1/contacts")
    def upsert(self, rows: Any) -> ApiObject:
        """Up to 10,000 contacts as dicts, or CSV text (``external_id,name,phone,tags,attr.city``).
        Phones are normalised to E.164 (Brazilian numbers with or without +55, the 9th digit);
        a row with an unusable phone is stored and reported."""
        if isinstance(rows, (str, bytes)):
            return self._call("POST", "/v1/contacts", content=rows,
                              headers={"Content-Type": "text/csv"})
        return self._call("POST", "/v1/contacts", json=[_body(r) for r in rows])

    @operation("GET", "/v1/contacts/{external_id}")
    def get(self, external_id: str) -> ApiObject:
        return self._call("GET", f"/v1/contacts/{_seg(external_id)}")


class WhatsAppTemplates(_Resource):
    """Meta-approved templates the tenant registered (name, language, category, parameters)."""

    @operation("POST", "/v1/whatsapp-templates")
    def create(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        return self._call("POST", "/v1/whatsapp-templates", json=_body(spec, fields))

    @operation("GET", "/v1/whatsapp-templates")
    def list(self, **filters: Any) -> Any:
        return self._call("GET", "/v1/whatsapp-templates", params=filters, model=None)


class Campaigns(_Resource):
    """Bulk WhatsApp campaigns: draft → scheduled → running ⇄ paused → completed | cancelled."""

    @operation("PUT", "/v1/campaign-settings")
    def put_settings(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        """The tenant's sender numbers, messaging tier, stop words…"""
        return self._call("PUT", "/v1/campaign-settings", json=_body(spec, fields))

    @operation("POST", "/v1/campaigns")
    def create(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        return self._call("POST", "/v1/campaigns", json=_body(spec, fields))

    @operation("GET", "/v1/campaigns")
    def list(self, **filters: Any) -> Any:
        return self._call("GET", "/v1/campaigns", params=filters, model=None)

    @operation("GET", "/v1/campaigns/{id}")
    def get(self, id: str) -> ApiObject:
        """The campaign with its live metrics (counts per status, rates, throughput, ETA, cost)."""
        return self._call("GET", f"/v1/campaigns/{_seg(id)}")

    @operation("DELETE", "/v1/campaigns/{id}")
    def delete(self, id: str) -> Any:
        return self._call("DELETE", f"/v1/campaigns/{_seg(id)}", model=None)

    @operation("POST", "/v1/campaigns/{id}/preview")
    def preview(self, id: str) -> ApiObject:
        """How many would receive it, how many are excluded and why, sample messages."""
        return self._call("POST", f"/v1/campaigns/{_seg(id)}/preview")

    @operation("POST", "/v1/campaigns/{id}/{action}")
    def _action(self, id: str, action: str) -> ApiObject:
        return self._call("POST", f"/v1/campaigns/{_seg(id)}/{action}")

    def schedule(self, id: str) -> ApiObject:
        """A 409 names the current state when the transition is not allowed (for each action)."""
        return self._action(id, "schedule")

    def start(self, id: str) -> ApiObject:
        return self._action(id, "start")

    def pause(self, id: str) -> ApiObject:
        return self._action(id, "pause")

    def resume(self, id: str) -> ApiObject:
        return self._action(id, "resume")

    def cancel(self, id: str) -> ApiObject:
        return self._action(id, "cancel")

    @operation("GET", "/v1/campaigns/{id}/recipients")
    def recipients(self, id: str, **filters: Any) -> Any:
        """Filters: ``status``, ``limit``, ``cursor``…"""
        return self._call("GET", f"/v1/campaigns/{_seg(id)}/recipients", params=filters, model=None)

    @operation("GET", "/v1/campaigns/{id}/series")
    def series(self, id: str, **filters: Any) -> Any:
        """Per-minute sends, deliveries, reads, failures."""
        return self._call("GET", f"/v1/campaigns/{_seg(id)}/series", params=filters, model=None)


# ------------------------------------------------------------------ forecasting


class Datasets(_Resource):
    """Time-series datasets: a CSV upload validated by a ``forecast.validate`` job."""

    @operation("POST", "/v1/datasets")
    def upload(self, csv: Any, *, filename: str = "dataset.csv", **options: Any) -> ApiObject:
        """``csv``: text, bytes or a path. Options (query): ``name``, ``time_column``,
        ``id_column``, ``value_columns`` (comma separated)…"""
        if isinstance(csv, os.PathLike) or (isinstance(csv, str) and "\n" not in csv
                                            and os.path.exists(csv)):
            with open(csv, "rb") as f:
                content = f.read()
            filename = os.path.basename(str(csv))
        else:
            content = csv.encode() if isinstance(csv, str) else bytes(csv)
        return self._call("POST", "/v1/datasets", params=options,
                          files={"file": (filename, content, "text/csv")})

    @operation("GET", "/v1/datasets")
    def list(self, **filters: Any) -> Any:
        return self._call("GET", "/v1/datasets", params=filters, model=None)

    @operation("GET", "/v1/datasets/{id}")
    def get(self, id: str) -> ApiObject:
        """The dataset with its validation report per series."""
        return self._call("GET", f"/v1/datasets/{_seg(id)}")

    @operation("POST", "/v1/datasets/{id}/rows")
    def add_actuals(self, id: str, rows: Any, *, target: str | None = None) -> ApiObject:
        """Actuals for monitoring (``[{series?, at, value}]``): stored, then every ready model of
        the dataset is scored on them; a drifted series raises a drift alert."""
        body = {"rows": [_body(r) for r in rows]}
        if target:
            body["target"] = target
        return self._call("POST", f"/v1/datasets/{_seg(id)}/rows", json=body)

    @operation("GET", "/v1/datasets/{id}/preview")
    def preview(self, id: str, **filters: Any) -> ApiObject:
        return self._call("GET", f"/v1/datasets/{_seg(id)}/preview", params=filters)


class Models(_Resource):
    """Forecasting models: trained with rolling-origin backtests, the best by MASE."""

    @operation("POST", "/v1/models")
    def train(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        """``{dataset, target, series?, horizon, models: "auto" | [...], season_lengths?}`` →
        a ``forecast.train`` job (follow it with ``jobs.wait``)."""
        return self._call("POST", "/v1/models", json=_body(spec, fields))

    @operation("GET", "/v1/models")
    def list(self, **filters: Any) -> Any:
        return self._call("GET", "/v1/models", params=filters, model=None)

    @operation("GET", "/v1/models/{id}")
    def get(self, id: str) -> ApiObject:
        """Status, progress, the chosen model per series, metrics per model and window."""
        return self._call("GET", f"/v1/models/{_seg(id)}")

    @operation("GET", "/v1/models/{id}/drift")
    def drift(self, id: str) -> ApiObject:
        """The model's drift alerts (live MASE on actuals against the threshold)."""
        return self._call("GET", f"/v1/models/{_seg(id)}/drift")

    @operation("POST", "/v1/models/{id}/predict")
    def predict(self, id: str, spec: Any = None, /, **fields: Any) -> ApiObject:
        """A small horizon answered at once from the stored model."""
        return self._call("POST", f"/v1/models/{_seg(id)}/predict", json=_body(spec, fields) or {})

    @operation("POST", "/v1/models/{id}/schedule")
    def schedule_retraining(self, id: str, cron: str, timezone: str | None = None,
                            **fields: Any) -> ApiObject:
        """Re-trains the model on a cron (a new model version each time), as a tenant schedule."""
        return self._call("POST", f"/v1/models/{_seg(id)}/schedule",
                          json=_body({k: v for k, v in {"cron": cron, "timezone": timezone}.items() if v}, fields))

    @operation("POST", "/v1/models/{id}/predictions")
    def predict_batch(self, id: str, spec: Any = None, /, **fields: Any) -> ApiObject:
        """A ``forecast.predict`` job for every series."""
        return self._call("POST", f"/v1/models/{_seg(id)}/predictions", json=_body(spec, fields) or {})


class Predictions(_Resource):
    @operation("GET", "/v1/predictions/{id}")
    def get(self, id: str) -> ApiObject:
        return self._call("GET", f"/v1/predictions/{_seg(id)}")

    @operation("GET", "/v1/predictions/{id}/csv")
    def csv(self, id: str) -> bytes:
        return self._call("GET", f"/v1/predictions/{_seg(id)}/csv", raw=True)

    @operation("GET", "/v1/predictions/{id}/xlsx")
    def xlsx(self, id: str) -> bytes:
        return self._call("GET", f"/v1/predictions/{_seg(id)}/xlsx", raw=True)


# ------------------------------------------------------------------ reports


class Reports(_Resource):
    """Report cards, class, campaign and occupancy reports (PDF, XLSX, CSV) rendered by jobs."""

    @operation("POST", "/v1/reports")
    def create(self, type: str, format: str = "pdf", params: Mapping[str, Any] | None = None,
               **fields: Any) -> ApiObject:
        """202 with the report and its render job; the same request again within the dedup
        window answers the same report (so a retry is safe)."""
        return self._call("POST", "/v1/reports",
                          json={"type": type, "format": format, "params": dict(params or {}), **fields},
                          headers={"Idempotency-Key": f"py-{uuid.uuid4()}"})

    @operation("GET", "/v1/reports")
    def list(self, **filters: Any) -> ApiObject:
        return self._call("GET", "/v1/reports", params=filters)

    @operation("GET", "/v1/reports/{id}")
    def get(self, id: str) -> ApiObject:
        """Status, progress (done/total), size, pages, error."""
        return self._call("GET", f"/v1/reports/{_seg(id)}")

    @operation("POST", "/v1/reports/{id}/cancel")
    def cancel(self, id: str) -> ApiObject:
        return self._call("POST", f"/v1/reports/{_seg(id)}/cancel")

    @operation("DELETE", "/v1/reports/{id}")
    def delete(self, id: str) -> Any:
        return self._call("DELETE", f"/v1/reports/{_seg(id)}", model=None)

    @operation("GET", "/v1/reports/{id}/file")
    def file(self, id: str) -> bytes:
        """The rendered file's bytes (a 409 while it is not done)."""
        return self._call("GET", f"/v1/reports/{_seg(id)}/file", raw=True)

    @operation("POST", "/v1/reports/{id}/link")
    def link(self, id: str) -> ApiObject:
        """A signed, expiring download URL (for e-mails); no API key needed to follow it."""
        return self._call("POST", f"/v1/reports/{_seg(id)}/link")

    @operation("PUT", "/v1/report-branding")
    def put_branding(self, spec: Any = None, /, **fields: Any) -> ApiObject:
        """The tenant's ``primary_color``, ``accent_color`` (``#rrggbb``) and ``logo`` (base64 PNG
        or SVG) on every report."""
        return self._call("PUT", "/v1/report-branding", json=_body(spec, fields))

    @operation("GET", "/v1/report-branding")
    def branding(self) -> ApiObject:
        return self._call("GET", "/v1/report-branding")

    @operation("DELETE", "/v1/report-branding")
    def delete_branding(self) -> Any:
        return self._call("DELETE", "/v1/report-branding", model=None)

    @operation("GET", "/v1/reports/{id}/download")
    def download(self, id: str, **signature: Any) -> bytes:
        """Follows a signed link's query (``exp``, ``sig``…) — what a browser does with the URL."""
        return self._call("GET", f"/v1/reports/{_seg(id)}/download", params=signature, raw=True)


def dumps(v: Any) -> str:
    """JSON text of a body (for logs and examples)."""
    return _json.dumps(_body(v), ensure_ascii=False, default=str)
