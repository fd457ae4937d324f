"""Typed answers of the API (pydantic v2).

The job and queue models are written out field by field (they are what every product uses);
the answers of the feature APIs (notifications, academic records, alerts, documents, payments,
events, reminders…) are :class:`ApiObject`: a model that keeps every field the API sent,
reachable as attributes (``alert.status``) and as a dict (``alert["status"]``), so a field the
server adds reaches you without a client release. Every model tolerates unknown fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal[
    "scheduled", "queued", "claimed", "running", "retrying", "succeeded", "dead", "cancelled"
]
FINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "dead", "cancelled"})
Priority = Literal["high", "normal", "low"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ApiObject(_Model):
    """Any JSON object the API answers with; fields as attributes and as keys."""

    def __getitem__(self, key: str) -> Any:
        return self.model_dump()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.model_dump().get(key, default)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


class AttemptError(_Model):
    attempt: int | None = None
    at: int | None = None  # unix ms
    error: str | None = None
    reason: str | None = None


class Job(_Model):
    """A job as ``GET /v1/jobs/{id}`` shows it."""

    id: str
    queue: str
    kind: str
    tenant: str
    status: JobStatus
    priority: Priority = "normal"
    attempts: int = 0
    max_attempts: int = 5
    payload: Any = None
    created_at: datetime
    run_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_error: str | None = None
    reason: str | None = None
    result: Any = None
    progress: int | None = None
    progress_message: str | None = None
    worker: str | None = None
    cancel_requested: bool = False
    attempt_errors: list[AttemptError] = Field(default_factory=list)
    trace: str | None = None
    concurrency_key: str | None = None
    batch: str | None = None  # the batch this job belongs to
    after: str | None = None  # the parent job of a chain
    awaiting_parent: bool = False

    @property
    def final(self) -> bool:
        """succeeded, dead or cancelled: it will not change any more by itself."""
        return self.status in FINAL_STATUSES


class Enqueued(_Model):
    """The answer to an enqueue: 202 for a new job, 200 with the first job when the
    ``Idempotency-Key`` was seen before."""

    id: str
    kind: str
    status: JobStatus
    run_at: datetime | None = None


class BatchItemResult(_Model):
    """One item of a batch: its job, or why it was refused (the other items are unaffected)."""

    index: int
    id: str | None = None
    kind: str | None = None
    status: JobStatus | None = None
    run_at: datetime | None = None
    # False when an idempotency key matched an earlier job.
    created: bool | None = None
    error: str | None = None
    message: str | None = None
    details: Any = None

    @property
    def ok(self) -> bool:
        return self.id is not None and self.error is None


class BatchResult(_Model):
    accepted: int
    rejected: int
    results: list[BatchItemResult] = Field(default_factory=list)


class JobPage(_Model):
    jobs: list[Job] = Field(default_factory=list)
    next_cursor: str | None = None


class QueueCounts(_Model):
    """A queue's jobs per state, whether it is paused, and how long its oldest due job waits."""

    queue: str
    scheduled: int = 0
    queued: int = 0
    claimed: int = 0
    running: int = 0
    retrying: int = 0
    succeeded: int = 0
    dead: int = 0
    cancelled: int = 0
    paused: bool = False
    oldest_waiting_ms: int | None = None


class QueueList(_Model):
    queues: list[QueueCounts] = Field(default_factory=list)


class QueueState(_Model):
    """The answer to pause/resume."""

    queue: str
    paused: bool


class Cancelled(_Model):
    """``outcome``: ``cancelled`` (it had not started), ``cancel_requested`` (its running
    handler was told) or ``already_final``."""

    id: str
    outcome: str


class Retried(_Model):
    id: str
    status: JobStatus
