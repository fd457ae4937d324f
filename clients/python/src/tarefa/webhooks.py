"""Checking the signature of a webhook Tarefa sent you.

Tarefa signs each delivery with ``X-Tarefa-Signature: t=<unix seconds>,v1=<hex>`` where the hex is
HMAC-SHA256 of ``"<t>.<raw body>"`` under the secret you configured for the webhook channel, and
names it with ``X-Tarefa-Delivery`` (a delivery id: deduplicate on it). Several ``v1`` values
may appear during a secret rotation; any one matching is enough. Verify the raw bytes, before
parsing the JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SIGNATURE_HEADER = "X-Tarefa-Signature"
DELIVERY_HEADER = "X-Tarefa-Delivery"
#: Signatures older (or further in the future) than this are refused, as the server does.
TOLERANCE_SECS = 300


class InvalidSignature(Exception):
    """The signature is missing, malformed, wrong, or too old."""


def sign(secret: str, body: bytes, t: int | None = None) -> str:
    """The header value Tarefa would send for ``body`` at time ``t`` (for your tests)."""
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, header: str | None, body: bytes, *, now: float | None = None,
           tolerance: int = TOLERANCE_SECS) -> None:
    """Raises :class:`InvalidSignature` unless ``header`` signs ``body`` recently enough."""
    if not header:
        raise InvalidSignature("no signature header")
    t: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        k, _, v = part.strip().partition("=")
        if k == "t":
            try:
                t = int(v)
            except ValueError as e:
                raise InvalidSignature("bad timestamp") from e
        elif k == "v1":
            candidates.append(v)
    if t is None or not candidates:
        raise InvalidSignature("malformed signature header")
    now = time.time() if now is None else now
    if abs(now - t) > tolerance:
        raise InvalidSignature("signature too old")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise InvalidSignature("signature does not match")


def construct_event(secret: str, header: str | None, body: bytes, **kw: Any) -> dict:
    """Verifies, then parses the body: ``{id, event, created_at, data}``."""
    verify(secret, header, body, **kw)
    return json.loads(body)
