"""The distribution installs one import name, `waybill`, and nothing of the simulators or benchmarks."""

from __future__ import annotations

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
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The file list of a wheel built from a copy of the repository (no stale build/ folder)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_NOT_SOURCES)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(source)],
                   check=True, timeout=600, capture_output=True)
    (wheel,) = (tmp / "dist").glob("waybill-*.whl")
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
                   "waybill/store/migrations/versions/0001_initial.py", "waybill/ops/cli.py"):
        assert needed in wheel_names, needed
    assert not [n for n in wheel_names if "/sim/" in n or "/bench/" in n or "/tests/" in n or n.startswith("sim")]
