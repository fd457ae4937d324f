"""Which client method calls which API operation.

Every resource method that calls the API is decorated with ``@operation(METHOD, PATH)``; the
registry built that way is what ``scripts/check_coverage.py`` (and the test suite) compares with
the live ``/openapi.json``, so an operation the server has and the client lacks fails CI.
Operations called by providers rather than by products (the ``/v1/callbacks/*`` receivers for
Stripe, Twilio and WhatsApp) are listed in :data:`NOT_FOR_CLIENTS` with the reason.
"""

from __future__ import annotations

from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable[..., object])

#: (METHOD, path template) -> "resource.method"
OPERATIONS: dict[tuple[str, str], str] = {}

#: Path prefixes of operations no product calls, and why.
NOT_FOR_CLIENTS: dict[str, str] = {
    "/v1/callbacks/": "provider callbacks (Stripe, Twilio, WhatsApp call them, signed with their own secrets)",
}


def operation(method: str, path: str) -> Callable[[F], F]:
    """Marks a resource method as the client of ``METHOD path``."""

    def mark(fn: F) -> F:
        key = (method.upper(), path)
        name = fn.__qualname__
        other = OPERATIONS.get(key)
        if other is not None and other != name:
            raise RuntimeError(f"{method} {path} is claimed by {other} and {name}")
        OPERATIONS[key] = name
        return fn

    return mark


def missing(spec: dict) -> list[tuple[str, str]]:
    """Operations of an OpenAPI document that no client method covers (sorted)."""
    out = []
    for path, item in (spec.get("paths") or {}).items():
        if any(path.startswith(p) for p in NOT_FOR_CLIENTS):
            continue
        for method in item:
            m = method.upper()
            if m not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            if (m, path) not in OPERATIONS:
                out.append((m, path))
    return sorted(out)


def stale(spec: dict) -> list[tuple[str, str]]:
    """Client methods whose operation the server no longer has (sorted)."""
    have = {
        (m.upper(), p)
        for p, item in (spec.get("paths") or {}).items()
        for m in item
    }
    return sorted(k for k in OPERATIONS if k not in have)
