"""Fixtures of the Airflow tests: the parsed DAG folder and a private Airflow home."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Airflow reads its configuration once, on first import: give this test process a throwaway home
# before anything imports it (the tests that run DAGs use child processes with their own home).
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="waybill-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from waybill.ops.airflow_home import DAGS_FOLDER


@pytest.fixture(scope="session")
def dagbag():  # type: ignore[no-untyped-def]
    """Every DAG in dags/, parsed the way the dag-processor does (the folder on sys.path)."""
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(str(DAGS_FOLDER), bundle_path=Path(DAGS_FOLDER))
