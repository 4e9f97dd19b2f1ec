"""A local Airflow home for Waybill: settings, metadata database and pools.

Used by `waybill demo` (SQLite home under the working folder, DAGs run in-process), by
`airflow standalone` set-ups (README.md, "Running in Airflow") and by the Docker image's init step
(`python -m waybill.ops.airflow_home`, which creates the pools in the configured metadata database).
Pools and pausing go through Airflow's public interface, its CLI (`airflow pools import`,
`airflow dags unpause`), never its ORM, so they hold across Airflow's schema changes. Nothing here
imports Airflow at module level: its configuration is read once, on first import, so the
environment must be set before.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from waybill.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"
#: Airflow's plugins folder: Waybill's page in the UI (waybill.ops.plugin)
PLUGINS_FOLDER = REPO / "plugins"

#: pool per external system -> slots: bounds the concurrent calls towards each one. The DAG files
#: name these pools; the integrity test checks that every pool they use is defined here.
POOLS: dict[str, int] = {
    "waybill_erp": 2,
    "waybill_wms": 2,
    "waybill_tms": 2,
    "waybill_carrier": 2,
    "waybill_crm": 2,
    "waybill_finance": 1,
    "waybill_sftp": 4,
    "waybill_hub": 2,
}


def environment(home: Path, dags_folder: Path = DAGS_FOLDER) -> dict[str, str]:
    """The Airflow settings of a local home at `home` (SQLite metadata DB, no example DAGs)."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",  # 2 cores here; the default starts 32 workers
        "AIRFLOW__API__HOST": "127.0.0.1",
    }


def airflow_bin() -> str:
    """The `airflow` executable next to this Python (the venv), else the one on PATH."""
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def migrate(env: Mapping[str, str], log: Path) -> None:
    """`airflow db migrate` in a child process with `env`; its output goes to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        done = subprocess.run([airflow_bin(), "db", "migrate"], env={**os.environ, **env},
                              stdout=out, stderr=subprocess.STDOUT, timeout=300, check=False)
    if done.returncode != 0:
        raise ConfigError(f"airflow db migrate failed (exit {done.returncode}); see {log}")


def airflow_cli(*args: str, what: str) -> str:
    """Run `airflow ARGS` in a child process with this process's environment; its output, or a
    ConfigError saying `what` failed with the end of that output."""
    done = subprocess.run([airflow_bin(), *args], env=dict(os.environ), capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise ConfigError(f"{what} failed (airflow {args[0]} {args[1]}, exit {done.returncode}): " + " | ".join(tail))
    return done.stdout


def ensure_pools(pools: Mapping[str, int] = POOLS) -> None:
    """Create or resize the pools in the configured metadata database (`airflow pools import`)."""
    spec = {name: {"slots": slots, "description": f"Waybill: calls towards {name[8:]}", "include_deferred": False}
            for name, slots in pools.items()}
    with tempfile.TemporaryDirectory(prefix="waybill-pools-") as folder:
        path = Path(folder) / "pools.json"
        path.write_text(json.dumps(spec))
        airflow_cli("pools", "import", str(path), what="creating the pools")


def unpause(dag_ids: Iterable[str]) -> list[str]:
    """Unpause those of the DAGs that already exist in the configured metadata database
    (`airflow dags unpause`, one call for all); returns the ids it found."""
    ids = sorted(dag_ids)
    if not ids:
        return []
    pattern = "^(" + "|".join(re.escape(d) for d in ids) + ")$"
    out = airflow_cli("dags", "unpause", "--treat-dag-id-as-regex", "--yes", "--output", "json", pattern,
                      what="unpausing the DAGs")
    listed = next((line for line in reversed(out.strip().splitlines()) if line.startswith("[")), "[]")
    return sorted(str(d["dag_id"]) for d in json.loads(listed))


def prepare(home: Path, log: Path) -> dict[str, str]:
    """Set the process up for a local home: environment, migrated metadata DB and pools."""
    if "airflow.configuration" in sys.modules:  # its settings are fixed at first import
        from airflow.configuration import AIRFLOW_HOME

        if Path(AIRFLOW_HOME).resolve() != home.resolve():
            raise ConfigError(f"Airflow was already configured with AIRFLOW_HOME={AIRFLOW_HOME}, not {home}")
    home.mkdir(parents=True, exist_ok=True)
    env = environment(home)
    os.environ.update(env)
    migrate(env, log)
    ensure_pools()
    return env


if __name__ == "__main__":
    ensure_pools()
    print("pools: " + ", ".join(f"{n}={s}" for n, s in POOLS.items()))
