"""The retry rules, errors and headers, against an in-process fake (httpx.MockTransport): no
server needed, every answer scripted."""

import sys
import types

import httpx
import pytest

from tarefa import ServerError, Tarefa, TransportError, ValidationFailed, RateLimited
from tarefa import _transport


class Script:
    """Answers requests from a list; records what was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        a = self.answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return a


def make(script, **kw):
    http = httpx.Client(transport=httpx.MockTransport(script))
    return Tarefa("http://tarefa.test", api_key="tfk_test", http_client=http, **kw)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr(_transport.time, "sleep", lambda s: slept.append(s))
    return slept


JOB = {"id": "01JX", "queue": "diag", "kind": "diag.noop", "tenant": "t", "status": "queued",
       "created_at": "2026-12-05T10:00:00Z", "run_at": "2026-12-05T10:00:00Z"}


def test_a_get_is_retried_on_503_then_succeeds():
    s = Script(httpx.Response(503, json={"error": "unavailable", "message": "redis"}),
               httpx.Response(200, json=JOB))
    assert make(s).jobs.get("01JX").id == "01JX"
    assert len(s.requests) == 2


def test_a_post_without_a_key_is_not_retried_on_503():
    s = Script(httpx.Response(503, json={"error": "unavailable", "message": "x"}))
    t = make(s)
    with pytest.raises(ServerError):
        t.jobs.retry("01JX")  # POST without Idempotency-Key
    assert len(s.requests) == 1


def test_an_enqueue_carries_a_key_and_is_retried_on_a_read_timeout():
    ok = httpx.Response(202, json={"id": "01JX", "kind": "diag.noop", "status": "queued",
                                   "run_at": "2026-12-05T10:00:00Z"})
    s = Script(httpx.ReadTimeout("slow"), ok)
    job = make(s).jobs.enqueue("diag.noop", {})
    assert job.id == "01JX"
    k1, k2 = (r.headers["idempotency-key"] for r in s.requests)
    assert k1 == k2 and k1.startswith("py-"), "the retry must reuse the same key"


def test_429_honours_retry_after(no_sleep):
    s = Script(httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "rate_limited", "message": "slow down"}),
               httpx.Response(200, json=JOB))
    make(s).jobs.get("01JX")
    assert no_sleep == [3.0]


def test_429_gives_up_after_max_retries_with_the_delay():
    answers = [httpx.Response(429, headers={"Retry-After": "1"}, json={"error": "rate_limited", "message": "x"})] * 3
    s = Script(*answers)
    with pytest.raises(RateLimited) as e:
        make(s, max_retries=2).jobs.get("01JX")
    assert e.value.retry_after == 1.0
    assert len(s.requests) == 3


def test_a_refused_connection_is_retried_even_for_a_post():
    s = Script(httpx.ConnectError("refused"), httpx.Response(200, json={"id": "01JX", "status": "queued"}))
    assert make(s).jobs.retry("01JX").status == "queued"


def test_a_broken_post_without_a_key_is_not_retried():
    s = Script(httpx.RemoteProtocolError("reset"))
    with pytest.raises(TransportError):
        make(s).jobs.retry("01JX")
    assert len(s.requests) == 1


def test_422_carries_error_message_and_field():
    s = Script(httpx.Response(422, json={"error": "invalid_payload", "message": "ms: expected u64",
                                         "details": {"field": "ms"}}))
    with pytest.raises(ValidationFailed) as e:
        make(s).jobs.enqueue("diag.sleep", {"ms": "x"})
    assert (e.value.error, e.value.field) == ("invalid_payload", "ms")


def test_auth_header_api_key_and_jwt_callable():
    s = Script(httpx.Response(200, json=JOB), httpx.Response(200, json=JOB))
    make(s).jobs.get("a")
    assert s.requests[0].headers["authorization"] == "Bearer tfk_test"
    tokens = iter(["jwt-1", "jwt-2"])
    http = httpx.Client(transport=httpx.MockTransport(s))
    t = Tarefa("http://tarefa.test", token=lambda: next(tokens), http_client=http)
    t.jobs.get("b")
    assert s.requests[1].headers["authorization"] == "Bearer jwt-1"


def test_traceparent_comes_from_the_callers_opentelemetry_context(monkeypatch):
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    propagate = types.SimpleNamespace(inject=lambda carrier: carrier.update({"traceparent": tp}))
    otel = types.ModuleType("opentelemetry")
    otel.propagate = propagate
    monkeypatch.setitem(sys.modules, "opentelemetry", otel)
    monkeypatch.setitem(sys.modules, "opentelemetry.propagate", propagate)
    s = Script(httpx.Response(200, json=JOB), httpx.Response(200, json=JOB))
    t = make(s)
    t.jobs.get("a")
    assert s.requests[0].headers["traceparent"] == tp


def test_an_explicit_traceparent_wins():
    tp = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    s = Script(httpx.Response(202, json={"id": "01JX", "kind": "diag.noop", "status": "queued"}))
    make(s).jobs.enqueue("diag.noop", {}, traceparent=tp)
    assert s.requests[0].headers["traceparent"] == tp


def test_a_non_json_error_keeps_its_text():
    s = Script(httpx.Response(502, text="bad gateway"), httpx.Response(502, text="bad gateway"))
    with pytest.raises(ServerError) as e:
        make(s, max_retries=1).jobs.get("x")
    assert "bad gateway" in e.value.message
