"""Jobs end to end with the blocking client against a real api-lite + worker."""

import uuid

import pytest

from tarefa import NotFound, Tarefa, ValidationFailed, WaitTimeout


def test_the_one_liner(client):
    job = client.jobs.enqueue("diag.noop", {})
    assert client.jobs.wait(job.id, timeout=30).status == "succeeded"


def test_retries_are_visible_on_the_job(client):
    job = client.jobs.enqueue("diag.sleep", {"ms": 10, "fail_times": 2}, max_attempts=5)
    done = client.jobs.wait(job.id, timeout=60)
    assert done.status == "succeeded"
    assert done.attempts == 3
    assert len(done.attempt_errors) == 2
    assert done.started_at is not None and done.finished_at >= done.started_at


def test_an_idempotency_key_replay_returns_the_first_job(client):
    key = f"order-{uuid.uuid4()}"
    a = client.jobs.enqueue("diag.noop", {}, idempotency_key=key)
    b = client.jobs.enqueue("diag.noop", {}, idempotency_key=key)
    assert a.id == b.id
    c = client.jobs.enqueue("diag.noop", {})
    d = client.jobs.enqueue("diag.noop", {})
    assert c.id != d.id, "automatic keys are per call"


def test_a_bad_payload_raises_with_the_field(client):
    with pytest.raises(ValidationFailed) as e:
        client.jobs.enqueue("diag.sleep", {"ms": "x"})
    assert e.value.status == 422
    assert e.value.field is not None and "ms" in e.value.field


def test_an_unknown_kind_is_not_found(client):
    with pytest.raises(NotFound) as e:
        client.jobs.enqueue("no.such_kind", {})
    assert e.value.error


def test_a_batch_keeps_the_good_items(client):
    res = client.jobs.enqueue_many([
        {"kind": "diag.noop", "payload": {}},
        {"kind": "diag.sleep", "payload": {"ms": "x"}},
    ])
    assert (res.accepted, res.rejected) == (1, 1)
    good, bad = res.results
    assert good.ok and good.id
    assert not bad.ok and bad.error
    assert client.jobs.wait(good.id, timeout=30).status == "succeeded"


def test_cancel_then_retry_a_delayed_job(client):
    job = client.jobs.enqueue("diag.noop", {}, delay_ms=600_000)
    assert client.jobs.get(job.id).status == "scheduled"
    assert client.jobs.cancel(job.id).outcome == "cancelled"
    assert client.jobs.get(job.id).status == "cancelled"
    again = client.jobs.retry(job.id)
    assert again.status in ("queued", "claimed", "running", "succeeded")
    assert client.jobs.wait(job.id, timeout=30).status == "succeeded"


def test_wait_gives_up_with_the_last_state(client):
    job = client.jobs.enqueue("diag.noop", {}, delay_ms=600_000)
    with pytest.raises(WaitTimeout) as e:
        client.jobs.wait(job.id, timeout=0.5, poll=0.1)
    assert e.value.job.status == "scheduled"
    client.jobs.cancel(job.id)


def test_jobs_list_pages_and_filters(client):
    job = client.jobs.enqueue("diag.noop", {}, delay_ms=600_000)
    page = client.jobs.list(status="scheduled", kind="diag.noop", limit=500)
    assert job.id in [j.id for j in page.jobs]
    client.jobs.cancel(job.id)


def test_queues_show_counts(client):
    names = [q.queue for q in client.queues.list().queues]
    assert "diag" in names


def test_another_tenants_job_is_not_found(stack, client):
    job = client.jobs.enqueue("diag.noop", {})
    with Tarefa(stack.base_url, api_key=stack.other_key) as other:
        with pytest.raises(NotFound):
            other.jobs.get(job.id)
        with pytest.raises(NotFound):
            other.jobs.cancel(job.id)


def test_a_bad_key_is_unauthorized(stack):
    from tarefa import Unauthorized

    with Tarefa(stack.base_url, api_key="tfk_nope") as t:
        with pytest.raises(Unauthorized):
            t.jobs.list()


def test_health(client):
    assert client.health.ready() is not None
    assert "tarefa_" in client.health.metrics()
