"""Exceptions raised by the client: one per family of HTTP answer, each carrying the API's
``{error, message, details}`` body, the HTTP status and (for 429) the ``Retry-After`` delay."""

from __future__ import annotations

from typing import Any


class TarefaError(Exception):
    """Base class: anything the client raises."""


class TransportError(TarefaError):
    """The request did not get an answer (connection refused, reset, timed out) after retries."""


class ApiError(TarefaError):
    """The API answered with an error status. ``error`` is the machine code (``invalid_field``,
    ``not_found``…), ``details`` its structured context (``details["field"]`` names a bad field)."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        details: Any = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.details = details
        self.retry_after = retry_after

    @property
    def field(self) -> str | None:
        """The request field the API named as wrong, when it named one."""
        if isinstance(self.details, dict):
            f = self.details.get("field")
            return f if isinstance(f, str) else None
        return None


class BadRequest(ApiError):
    """400: the request could not be read (malformed JSON, a bad query parameter)."""


class Unauthorized(ApiError):
    """401: no key, an unknown key, an expired or badly signed JWT."""


class Forbidden(ApiError):
    """403: the key lacks the scope the route needs."""


class NotFound(ApiError):
    """404: no such object for this tenant (another tenant's objects are 404 too)."""


class Conflict(ApiError):
    """409: the object is not in a state that allows the action (e.g. retry of a running job)."""


class ValidationFailed(ApiError):
    """422: the body is well formed but a field is wrong; ``field`` names it."""


class RateLimited(ApiError):
    """429: too many requests; ``retry_after`` is the server's ``Retry-After`` in seconds."""


class ServerError(ApiError):
    """5xx: the API or a service behind it failed."""


class WaitTimeout(TarefaError):
    """``jobs.wait`` gave up before the job reached a final state; ``job`` is the last seen."""

    def __init__(self, job: Any, timeout: float) -> None:
        super().__init__(f"job {getattr(job, 'id', '?')} still {getattr(job, 'status', '?')} after {timeout} s")
        self.job = job
        self.timeout = timeout


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: ValidationFailed,
    429: RateLimited,
}


def error_for(status: int, body: Any, retry_after: float | None = None) -> ApiError:
    """The exception for an error answer: its class from the status, its fields from the body
    (a body that is not the API's JSON error keeps its text as the message)."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    if isinstance(body, dict) and "error" in body:
        return cls(
            status,
            str(body.get("error")),
            str(body.get("message", "")),
            body.get("details"),
            retry_after=retry_after,
        )
    text = body if isinstance(body, str) else repr(body)
    return cls(status, "http_error", text[:500], None, retry_after=retry_after)
