"""Test session fixtures: a real api-lite and worker over real Redis and PostgreSQL.

The binaries come from ``$TAREFA_BIN_DIR`` or ``$CARGO_TARGET_DIR/debug`` (``scripts/test.sh``
builds them before running pytest). Each session gets its own database (created, migrated and
dropped), its own Redis key prefix, a free port, and a demo tenant with an admin key. Webhooks
may reach 127.0.0.1 (the SSRF allowlist of a config overlay), and the webhook secret is in the
worker's environment under ``PYTEST_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]
WEBHOOK_SECRET = "whsec-pytest-" + uuid.uuid4().hex


def _bin_dir() -> Path:
    if os.environ.get("TAREFA_BIN_DIR"):
        return Path(os.environ["TAREFA_BIN_DIR"])
    target = os.environ.get("CARGO_TARGET_DIR") or str(REPO / "target")
    return Path(target) / "debug"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _psql(sql: str, db: str = "postgres") -> None:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    url = base.rsplit("/", 1)[0] + "/" + db
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True,
                   stdout=subprocess.DEVNULL)


class Stack:
    """The running processes and how to reach them."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        for b in ("api-lite", "worker"):
            if not (self.bin / b).exists():
                raise RuntimeError(f"{self.bin / b} is missing: build with `cargo build -p api-lite -p worker`")
        self.db = "pyclient_" + uuid.uuid4().hex[:12]
        base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        self.db_url = base.rsplit("/", 1)[0] + "/" + self.db
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.prefix = "pyt" + uuid.uuid4().hex[:10]
        self.tmp = Path(tempfile.mkdtemp(prefix="tarefa-pyclient-"))
        self.config = self.tmp / "config"
        shutil.copytree(REPO / "config", self.config)
        (self.config / "pytest.toml").write_text('[notifications]\nssrf_allow = ["127.0.0.1/32"]\n')
        self.env = {
            **os.environ,
            "TAREFA_CONFIG_DIR": str(self.config),
            "TAREFA_ENV": "pytest",
            "TAREFA__DATABASE__URL": self.db_url,
            "TAREFA__REDIS__URL": os.environ.get("TAREFA__REDIS__URL", "redis://127.0.0.1:6379"),
            "TAREFA__REDIS__PREFIX": self.prefix,
            "TAREFA__API__LISTEN": f"127.0.0.1:{self.port}",
            "PYTEST_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # Signed report links (reports.url_secret_env); unset, /download answers 503.
            "TAREFA_REPORTS_URL_SECRET": "pytest-reports-" + uuid.uuid4().hex,
            "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
            # Encryption at rest on, as in production: a fresh master key per test database.
            "TAREFA_MASTER_KEYS": "pytest:" + base64.b64encode(os.urandom(32)).decode(),
        }
        self.procs: list[subprocess.Popen] = []
        # A real SMTP server (aiosmtpd) writing a Maildir, on a port of its own.
        self.maildir = self.tmp / "mail"
        for sub in ("tmp", "new", "cur"):
            (self.maildir / sub).mkdir(parents=True)
        self.smtp_port = _free_port()
        self.env["TAREFA__NOTIFICATIONS__SMTP_HOST"] = "127.0.0.1"
        self.env["TAREFA__NOTIFICATIONS__SMTP_PORT"] = str(self.smtp_port)
        self.smtp = None
        # The demo's WhatsApp Cloud API stand-in (examples/fake_whatsapp.py), for the tour.
        self.wa_port = _free_port()
        self.wa_log = self.tmp / "whatsapp.jsonl"
        self.env["TAREFA__NOTIFICATIONS__WHATSAPP_BASE_URL"] = f"http://127.0.0.1:{self.wa_port}"
        self.env["TAREFA__NOTIFICATIONS__WHATSAPP_APP_SECRET"] = "demo-app-secret"
        self.env["DEMO_WA_TOKEN"] = "demo-token"

    def cli(self, *args: str) -> dict:
        out = subprocess.run([str(self.bin / "api-lite"), *args], env=self.env, check=True,
                             capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Mailbox

        self.smtp = Controller(Mailbox(str(self.maildir)), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()
        _psql(f'create database "{self.db}"')
        self.cli("migrate")
        made = self.cli("tenants", "create", "--name", "Escola Py " + self.prefix)
        self.tenant_id, self.api_key = made["tenant_id"], made["api_key"]
        other = self.cli("tenants", "create", "--name", "Outra Escola " + self.prefix)
        self.other_key = other["api_key"]
        self.procs.append(subprocess.Popen(
            [sys.executable, str(REPO / "clients/python/examples/fake_whatsapp.py"),
             "--port", str(self.wa_port), "--callback", f"{self.base_url}/v1/callbacks/whatsapp",
             "--app-secret", "demo-app-secret", "--waba-id", "demo-waba", "--log", str(self.wa_log)]))
        for name in ("api-lite", "worker"):
            log = open(self.tmp / f"{name}.log", "wb")
            self.procs.append(subprocess.Popen([str(self.bin / name)], env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.base_url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"a process exited ({p.args}): see {self.tmp}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"api-lite not ready after 60 s: see {self.tmp}")
            time.sleep(0.2)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.smtp is not None:
            self.smtp.stop()
        try:
            _psql(f'drop database if exists "{self.db}" with (force)')
        except subprocess.CalledProcessError:
            pass
        keys = subprocess.run(["redis-cli", "--scan", "--pattern", f"{self.prefix}*"],
                              capture_output=True, text=True).stdout.split()
        for i in range(0, len(keys), 500):
            subprocess.run(["redis-cli", "del", *keys[i:i + 500]], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def stack():
    s = Stack()
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture
def client(stack):
    from tarefa import Tarefa

    with Tarefa(stack.base_url, api_key=stack.api_key) as t:
        yield t


@pytest.fixture
async def aclient(stack):
    from tarefa import AsyncTarefa

    async with AsyncTarefa(stack.base_url, api_key=stack.api_key) as t:
        yield t
