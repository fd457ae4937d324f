"""The package builds into a wheel that installs in a fresh venv and imports."""

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_builds_and_installs_in_a_fresh_venv(tmp_path):
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                    str(ROOT)], check=True, capture_output=True)
    wheels = list(out.glob("tarefa-*.whl"))
    assert len(wheels) == 1
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    py = env / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(wheels[0])], check=True)
    code = ("import tarefa; from tarefa import Tarefa, AsyncTarefa; "
            "assert len(tarefa.OPERATIONS) > 50; print(tarefa.__version__)")
    r = subprocess.run([str(py), "-c", code], check=True, capture_output=True, text=True)
    assert r.stdout.strip() == "0.2.0"
