"""Airflow callbacks that record each flow task's outcome in the hub, where `waybill status` shows it.

They run inside the task process (Airflow 3 task runner) with the task's context. A failure records
the task, the try number and the error's message; a success records the counts the flow returned.
Recording must never turn a task's outcome around, so a hub that cannot be reached is only logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from waybill.core.logs import event, get_logger

log = get_logger("airflow")

#: longest error text kept in the flow_run row (the full trace stays in the Airflow task log)
DETAIL_MAX = 500


def on_failure(context: Mapping[str, Any]) -> None:
    """Record a failed task try: `<task>[map index] try N: <error type>: <message>`."""
    error = context.get("exception")
    reason = f"{type(error).__name__}: {error}" if error is not None else "failed"
    _record(context, "failed", f"{_task_label(context)}: {reason}"[:DETAIL_MAX], None)


def on_success(context: Mapping[str, Any]) -> None:
    """Record a successful task with the counts it returned (its XCom return value: the
    FlowCounts names, see dags/_wiring.xcom_counts)."""
    ti = context["ti"]
    counts = ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index if ti.map_index >= 0 else None)
    _record(context, "success", _task_label(context), counts if isinstance(counts, dict) else None)


def _task_label(context: Mapping[str, Any]) -> str:
    ti = context["ti"]
    index = f"[{ti.map_index}]" if ti.map_index >= 0 else ""
    return f"{ti.task_id}{index} try {ti.try_number}"


def _record(context: Mapping[str, Any], state: str, detail: str, counts: dict[str, int] | None) -> None:
    from waybill.ops import lineage
    from waybill.store.store import Store  # here, not at the top: DAG files import this module and must parse fast

    ti = context["ti"]
    lineage.emit(ti.dag_id, context["run_id"], _task_label(context), state=state, counts=counts)
    try:
        Store.open().record_flow_run(ti.dag_id, context["run_id"], state, detail=detail, counts=counts)
    except Exception as err:  # the task's own outcome stands; the gap is visible in the log
        event(log, "flow_run_not_recorded", dag=ti.dag_id, run_id=context["run_id"], state=state,
              error=type(err).__name__)
