"""The generated request/response models (``tarefa.schemas``) match the live API, and typed
request models go through the client as their JSON."""

import subprocess
import sys
from pathlib import Path

import httpx

from tarefa import schemas

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "src" / "tarefa" / "schemas"


def test_the_committed_models_are_what_the_live_spec_generates(stack, tmp_path):
    spec = tmp_path / "openapi.json"
    spec.write_bytes(httpx.get(stack.base_url + "/openapi.json", timeout=10).content)
    out = tmp_path / "schemas"
    subprocess.run(["bash", str(ROOT / "scripts" / "generate_schemas.sh"), str(spec), str(out)],
                   check=True, env={"TAREFA_PYCLIENT_PY": sys.executable, "PATH": "/usr/bin:/bin"})
    fresh = {p.name: p.read_text() for p in out.glob("*.py")}
    have = {p.name: p.read_text() for p in COMMITTED.glob("*.py")}
    assert sorted(fresh) == sorted(have), "schema modules differ: run scripts/generate_schemas.sh"
    stale = [n for n in fresh if fresh[n] != have[n]]
    assert stale == [], f"regenerate the models (scripts/generate_schemas.sh): {stale} changed"


def test_a_typed_request_model_is_sent_as_its_json(client):
    spec = schemas.ScheduleSpec(name="typed-nightly", cron="0 0 3 * * *", timezone="America/Sao_Paulo",
                                kind="diag.noop", payload={})
    made = client.schedules.create(spec)
    assert made.name == "typed-nightly"
    out = schemas.ScheduleOut.model_validate(client.schedules.get(made.id).to_dict())
    assert out.cron == "0 0 3 * * *"
    client.schedules.delete(made.id)
