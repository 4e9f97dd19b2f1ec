"""The distribution installs one import name, `waybill`, and nothing of the simulators or benchmarks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: what a build does not need: the working state of a checkout
_NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", ".waybill", "build", "*.egg-info", "__pycache__",
                                      ".pytest_cache", ".hypothesis", ".import_linter_cache", ".mypy_cache",
                                      ".ruff_cache", "data")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the repository (no stale build/ folder)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_NOT_SOURCES)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(source)],
                   check=True, timeout=600, capture_output=True)
    (built,) = (tmp / "dist").glob("waybill-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


@pytest.mark.slow
def test_the_wheel_installs_no_top_level_name_but_waybill(wheel_names: list[str]) -> None:
    tops = {name.split("/", 1)[0] for name in wheel_names}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert tops - dist_info == {"waybill"}


@pytest.mark.slow
def test_the_wheel_holds_the_linked_packages_and_their_data_but_no_simulators(wheel_names: list[str]) -> None:
    for needed in ("waybill/connectors/http.py", "waybill/mappings/erp.py", "waybill/edi/envelope.py",
                   "waybill/edi/definitions/x12_004010.json", "waybill/edi/definitions/unece/d96a.zip",
                   "waybill/edi/definitions/unece/LICENAGR.TXT", "waybill/connectors/wsdl/fedex/TrackService_v16.wsdl",
                   "waybill/connectors/carriers/ups.toml",
                   "waybill/store/migrations/versions/0001_initial.py", "waybill/ops/cli.py"):
        assert needed in wheel_names, needed
    assert not [n for n in wheel_names if "/sim/" in n or "/bench/" in n or "/tests/" in n or n.startswith("sim")]


def requirements(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist lines."""
    with zipfile.ZipFile(wheel) as zf:
        metadata = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(metadata).decode()
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")]


@pytest.mark.slow
def test_airflow_is_an_extra_and_the_lock_pins_every_plain_dependency(wheel: Path) -> None:
    plain = [r for r in requirements(wheel) if "extra ==" not in r]
    airflow = [r for r in requirements(wheel) if 'extra == "airflow"' in r]
    assert not [r for r in plain if r.startswith(("apache-airflow", "celery", "redis"))], plain
    assert any(r.startswith("apache-airflow[") for r in airflow), airflow
    locked = {line.split("==")[0].lower().replace("_", "-")
              for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line}
    for requirement in plain:
        name = re.split(r"[ <>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in locked, f"{name} is not pinned in requirements.lock"


@pytest.mark.slow
def test_a_plain_install_runs_the_edi_engine_and_the_hub_without_airflow(wheel: Path, tmp_path: Path) -> None:
    """`pip install waybill` (no extra), at the lock's versions, into a fresh venv: no Airflow in it,
    and `waybill edi validate` and the hub's commands work."""
    # Nothing of the test's own environment may leak in: no PYTHONPATH to this checkout, no store URL.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "WAYBILL_"))}
    env["WAYBILL_HOME"] = str(tmp_path / "home")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=env)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, "-c", str(ROOT / "requirements.lock"), str(wheel)], check=False,
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    absent = subprocess.run([str(python), "-c", "import airflow"], check=False, capture_output=True, text=True,
                            env=env, cwd=tmp_path)
    assert "No module named 'airflow'" in absent.stderr
    waybill = str(venv / "bin" / "waybill")
    corpus = ROOT / "tests" / "data" / "edi" / "corpus"
    sample = next(iter(sorted(corpus.glob("*.edi"))))
    validated = subprocess.run([waybill, "edi", "validate", "--json", str(sample)], check=False,
                               capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "accepted" in validated.stdout
    for command in (["db", "upgrade"], ["status"]):
        ran = subprocess.run([waybill, *command], check=False, capture_output=True, text=True, env=env,
                             timeout=120, cwd=tmp_path)
        assert ran.returncode == 0, f"waybill {' '.join(command)}: {ran.stdout}{ran.stderr}"
