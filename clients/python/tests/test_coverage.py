"""The client cannot fall behind the API: every operation of the live ``/openapi.json`` has a
client method (``@operation``), and no client method names an operation the server lacks."""

import httpx

from tarefa._operations import NOT_FOR_CLIENTS, OPERATIONS, missing, stale


def test_every_operation_of_the_live_spec_has_a_client_method(stack):
    spec = httpx.get(stack.base_url + "/openapi.json", timeout=10).json()
    assert spec["paths"], "the spec lists no paths"
    assert missing(spec) == [], "operations without a client method (add one in resources.py)"
    assert stale(spec) == [], "client methods for operations the server no longer has"


def test_the_coverage_check_notices_a_new_operation():
    spec = {"paths": {"/v1/jobs": {"get": {}}, "/v1/new-thing": {"post": {}},
                      "/v1/callbacks/stripe": {"post": {}}}}
    assert missing(spec) == [("POST", "/v1/new-thing")]
    assert ("GET", "/v1/jobs") in OPERATIONS
    assert any(p == "/v1/callbacks/" for p in NOT_FOR_CLIENTS)
