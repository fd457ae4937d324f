"""The HTTP core under both clients: authentication, ``traceparent``, retries and error mapping.

A resource method describes a call as a :class:`Call` (method, path, body, the model to parse the
answer into); :class:`SyncTransport` and :class:`AsyncTransport` execute it the same way:

* a connection that never opened (refused, connect timeout) is retried for every call — nothing
  reached the server;
* a broken or timed-out exchange, a 429 (after its ``Retry-After``) and a 5xx are retried only
  for idempotent calls: GET/PUT/DELETE, and a POST that carries an ``Idempotency-Key`` (every
  enqueue does, see ``jobs.enqueue``). Anything else is raised at once, so a retry never
  creates a second object;
* backoff is exponential with full jitter (0.25 s × 2ⁿ, at most 8 s), ``max_retries`` times;
* an error answer becomes the matching :mod:`tarefa.errors` exception with the API's
  ``{error, message, details}``.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import httpx
from pydantic import BaseModel, TypeAdapter

from . import errors

__all__ = ["Call", "SyncTransport", "AsyncTransport", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 30.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0


@dataclass
class Call:
    """One API call as a resource method describes it."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    content: bytes | str | None = None
    files: Any = None
    data: Mapping[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # What to parse a 2xx JSON answer into: a pydantic model class, a TypeAdapter, or None for
    # the raw JSON. ``raw=True`` returns the bytes (file downloads, /metrics).
    model: Any = None
    raw: bool = False
    timeout: float | None = None

    @property
    def idempotent(self) -> bool:
        if self.method.upper() in IDEMPOTENT_METHODS:
            return True
        return any(k.lower() == "idempotency-key" for k in self.headers)


def _traceparent(headers: dict[str, str]) -> None:
    """Adds ``traceparent`` from the caller's OpenTelemetry context when the API is installed
    and a span is active (no-op otherwise, and never overrides one the caller set)."""
    if any(k.lower() == "traceparent" for k in headers):
        return
    try:
        from opentelemetry import propagate  # type: ignore[import-not-found]
    except ImportError:
        return
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if "traceparent" in carrier:
        headers["traceparent"] = carrier["traceparent"]
        if "tracestate" in carrier:
            headers["tracestate"] = carrier["tracestate"]


def _retry_after(resp: httpx.Response) -> float | None:
    v = resp.headers.get("retry-after")
    if v is None:
        return None
    try:
        return max(0.0, float(v))
    except ValueError:
        return None


def _backoff(attempt: int) -> float:
    return random.uniform(0, min(MAX_BACKOFF, 0.25 * (2**attempt)))


def _parse(call: Call, resp: httpx.Response) -> Any:
    if resp.status_code >= 400:
        try:
            body: Any = resp.json()
        except ValueError:
            body = resp.text
        raise errors.error_for(resp.status_code, body, _retry_after(resp))
    if call.raw:
        return resp.content
    if resp.status_code == 204 or not resp.content:
        return None
    ctype = resp.headers.get("content-type", "")
    if "json" not in ctype:
        return resp.text
    data = resp.json()
    if call.model is None:
        return data
    if isinstance(call.model, TypeAdapter):
        return call.model.validate_python(data)
    if isinstance(call.model, type) and issubclass(call.model, BaseModel):
        return call.model.model_validate(data)
    return call.model(data)


def _decide(call: Call, attempt: int, max_retries: int, resp: httpx.Response | None,
            exc: Exception | None) -> float | None:
    """Seconds to wait before the next attempt, or None to stop and raise/return."""
    if attempt >= max_retries:
        return None
    if exc is not None:
        never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        if never_sent or call.idempotent:
            return _backoff(attempt)
        return None
    assert resp is not None
    if resp.status_code in RETRY_STATUSES and call.idempotent:
        ra = _retry_after(resp)
        if ra is not None:
            return min(ra, MAX_RETRY_AFTER)
        return _backoff(attempt)
    return None


class _Base:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        token: str | Callable[[], str] | None,
        max_retries: int,
        headers: Mapping[str, str] | None,
    ) -> None:
        if api_key and token:
            raise ValueError("give api_key or token, not both")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._token = token
        self.max_retries = max_retries
        self._headers = dict(headers or {})

    def _request_headers(self, call: Call) -> dict[str, str]:
        h = dict(self._headers)
        secret = self._api_key
        if secret is None and self._token is not None:
            secret = self._token() if callable(self._token) else self._token
        if secret:
            h["Authorization"] = f"Bearer {secret}"
        h.update(call.headers)
        _traceparent(h)
        return h

    def _kwargs(self, call: Call) -> dict[str, Any]:
        kw: dict[str, Any] = {"headers": self._request_headers(call)}
        if call.params:
            kw["params"] = {k: v for k, v in call.params.items() if v is not None}
        if call.json is not None:
            kw["json"] = call.json
        if call.content is not None:
            kw["content"] = call.content
        if call.files is not None:
            kw["files"] = call.files
        if call.data is not None:
            kw["data"] = call.data
        if call.timeout is not None:
            kw["timeout"] = call.timeout
        return kw


class SyncTransport(_Base):
    """Runs calls with an ``httpx.Client`` (yours, or one it owns and closes)."""

    def __init__(self, base_url: str, *, api_key: str | None = None,
                 token: str | Callable[[], str] | None = None, timeout: float = DEFAULT_TIMEOUT,
                 max_retries: int = 3, headers: Mapping[str, str] | None = None,
                 http_client: httpx.Client | None = None) -> None:
        super().__init__(base_url, api_key, token, max_retries, headers)
        self._owns = http_client is None
        self.http = http_client or httpx.Client(base_url=self.base_url, timeout=timeout)

    def __call__(self, call: Call) -> Any:
        attempt = 0
        while True:
            try:
                resp = self.http.request(call.method, self.base_url + call.path, **self._kwargs(call))
            except httpx.TransportError as e:
                wait = _decide(call, attempt, self.max_retries, None, e)
                if wait is None:
                    raise errors.TransportError(f"{call.method} {call.path}: {e!r}") from e
            else:
                wait = _decide(call, attempt, self.max_retries, resp, None)
                if wait is None:
                    return _parse(call, resp)
            time.sleep(wait)
            attempt += 1

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def close(self) -> None:
        if self._owns:
            self.http.close()


class AsyncTransport(_Base):
    """Runs calls with an ``httpx.AsyncClient``; each resource method returns a coroutine."""

    def __init__(self, base_url: str, *, api_key: str | None = None,
                 token: str | Callable[[], str] | None = None, timeout: float = DEFAULT_TIMEOUT,
                 max_retries: int = 3, headers: Mapping[str, str] | None = None,
                 http_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(base_url, api_key, token, max_retries, headers)
        self._owns = http_client is None
        self.http = http_client or httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __call__(self, call: Call) -> Any:
        attempt = 0
        while True:
            try:
                resp = await self.http.request(call.method, self.base_url + call.path,
                                               **self._kwargs(call))
            except httpx.TransportError as e:
                wait = _decide(call, attempt, self.max_retries, None, e)
                if wait is None:
                    raise errors.TransportError(f"{call.method} {call.path}: {e!r}") from e
            else:
                wait = _decide(call, attempt, self.max_retries, resp, None)
                if wait is None:
                    return _parse(call, resp)
            await asyncio.sleep(wait)
            attempt += 1

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def aclose(self) -> None:
        if self._owns:
            await self.http.aclose()
