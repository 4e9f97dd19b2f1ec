"""Flows: the work of each Airflow DAG, callable without Airflow.

Each flow module exposes `run(store, *, <its options>) -> FlowCounts` (waybill.flows.counts) that
does one pass of the flow. DAG files in dags/ only wire these and hand `FlowCounts.as_dict()` to
XCom.
"""
