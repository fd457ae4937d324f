"""The demo's tour (examples/demo_tour.py) runs through against the real stack: the guardian's
e-mail reaches a real SMTP server, the boletim's grades are read back, the reminders planned."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_tour_shows_each_products_work(stack, tmp_path):
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo_tour.py"), "--url", stack.base_url,
         "--key", stack.api_key, "--maildir", str(stack.maildir), "--out", str(tmp_path),
         "--wa-log", str(stack.wa_log)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, capture_output=True, text=True,
        timeout=600)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "Subject: Alerta acadêmico: Ana Luíza Souza" in out
    assert "4,5 em Matemática" in out
    assert "Matemática           1º bim 7,5  2º bim 8,0  3º bim 6,5  4º bim 9,0   média 7,8" in out
    assert out.count("reminder demo-") >= 3 and "18:00 São Paulo" in out
    assert list(tmp_path.glob("boletim-*.pdf"))
    assert "campaign completed" in out
    pdf = list(tmp_path.glob("boletins-7A-*.pdf"))
    assert pdf and pdf[0].read_bytes().startswith(b"%PDF")
    assert "1 page(s)" in out
    assert "the WhatsApp stand-in received 3 messages" in out, out
