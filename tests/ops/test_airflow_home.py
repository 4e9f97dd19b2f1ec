"""Pools and pausing through Airflow's CLI on a fresh metadata database (no ORM writes)."""

from __future__ import annotations

import inspect
import json
import subprocess
from pathlib import Path

import pytest

from waybill.ops import airflow_home

pytestmark = pytest.mark.slow


def test_nothing_writes_airflows_metadata_through_its_orm() -> None:
    source = inspect.getsource(airflow_home)
    for orm in ("airflow.models", "create_session", "airflow.utils.session", "session.query"):
        assert orm not in source, orm


def test_pools_created_resized_and_dags_unpaused_through_the_cli(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "airflow"
    home.mkdir()
    for key, value in airflow_home.environment(home).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True")
    airflow_home.migrate({}, tmp_path / "migrate.log")

    def listed(*args: str) -> list[dict[str, object]]:
        """The JSON list Airflow prints last (warnings may come before it)."""
        out = airflow_home.airflow_cli(*args, "-o", "json", what="listing")
        return list(json.loads(out.strip().splitlines()[-1]))

    def pools() -> dict[str, int]:
        listed_pools = listed("pools", "list")
        return {str(p["pool"]): int(str(p["slots"])) for p in listed_pools}

    airflow_home.ensure_pools()
    assert {k: v for k, v in pools().items() if k in airflow_home.POOLS} == airflow_home.POOLS
    airflow_home.ensure_pools({"waybill_erp": 5})
    assert pools()["waybill_erp"] == 5 and pools()["waybill_wms"] == airflow_home.POOLS["waybill_wms"]

    assert airflow_home.unpause(["customer_insights"]) == []  # no DAG in the database yet: no error
    subprocess.run([airflow_home.airflow_bin(), "dags", "reserialize"], check=True, capture_output=True, timeout=300)
    assert airflow_home.unpause(["customer_insights", "crm_publish"]) == ["crm_publish", "customer_insights"]
    dags = listed("dags", "list")
    paused = {d["dag_id"]: str(d["is_paused"]).lower() == "true" for d in dags}
    assert not paused["customer_insights"] and not paused["crm_publish"]
    assert paused["erp_sync"], "only the DAGs named are unpaused"


def test_a_failing_cli_call_says_what_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2://nobody@127.0.0.1:1/none")
    with pytest.raises(airflow_home.ConfigError, match="creating the pools failed"):
        airflow_home.ensure_pools()
