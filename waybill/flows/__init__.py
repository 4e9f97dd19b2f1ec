"""Flows: the work of each Airflow DAG, callable without Airflow.

Each flow module exposes `run(store: Store | None = None, **options) -> dict[str, int]` that does one
pass of the flow and returns its counts, small enough for XCom: received, stored, published,
rejected, dead, unchanged, and where a flow has them pages, duplicates, delivered, retry. DAG files
in dags/ only wire these.
"""
