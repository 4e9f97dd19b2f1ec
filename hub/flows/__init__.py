"""Flows: the work of each Airflow DAG, callable without Airflow.

Each flow module exposes `run(store: Store | None = None, **options) -> dict[str, int]` that does one
pass of the flow and returns its counts (keys among received, stored, published, rejected, dead,
unchanged), small enough for XCom. DAG files in dags/ only wire these.
"""
