"""Tarefa's Python client: enqueue background jobs, wait for them, and use every feature API
(notifications, academic records and alerts, documents, payments, events and reminders) from a
FastAPI backend or a script. ``Tarefa`` blocks, ``AsyncTarefa`` is asyncio."""

from . import errors, webhooks
from ._operations import OPERATIONS
from .client import AsyncTarefa, Tarefa
from .errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    TarefaError,
    TransportError,
    Unauthorized,
    ValidationFailed,
    WaitTimeout,
)
from .models import ApiObject, BatchResult, Enqueued, Job, JobPage, QueueList

__all__ = [
    "Tarefa", "AsyncTarefa", "errors", "webhooks", "OPERATIONS",
    "TarefaError", "TransportError", "ApiError", "BadRequest", "Unauthorized", "Forbidden",
    "NotFound", "Conflict", "ValidationFailed", "RateLimited", "ServerError", "WaitTimeout",
    "ApiObject", "BatchResult", "Enqueued", "Job", "JobPage", "QueueList",
]
__version__ = "0.2.0"
