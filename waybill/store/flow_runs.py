"""Flow runs as the Airflow callbacks record them (waybill.ops.callbacks): what `waybill status`
and `waybill demo` show."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, select

from waybill.store.schema import flow_run


@dataclass(frozen=True)
class FlowRun:
    """One recorded task outcome of a flow run; `counts` are what a successful task returned."""

    flow: str
    run_id: str
    state: str  # success, failed
    detail: str | None
    counts: dict[str, int] | None
    at: dt.datetime


def record(conn: Connection, run: FlowRun) -> None:
    conn.execute(flow_run.insert().values(
        flow=run.flow, run_id=run.run_id, state=run.state, detail=run.detail,
        counts=json.dumps(run.counts) if run.counts else None, at=run.at))


def recent(conn: Connection, limit: int | None = 20) -> list[FlowRun]:
    """The last `limit` recorded outcomes (None: all), newest first."""
    q = select(flow_run).order_by(flow_run.c.id.desc()).limit(limit)
    return [_run(r) for r in conn.execute(q)]


def of_run(conn: Connection, flow: str, run_id: str) -> list[FlowRun]:
    """The recorded outcomes of one run of a flow, in the order they were recorded."""
    q = select(flow_run).where(flow_run.c.flow == flow, flow_run.c.run_id == run_id).order_by(flow_run.c.id)
    return [_run(r) for r in conn.execute(q)]


def _run(row: Row[Any]) -> FlowRun:
    counts: dict[str, int] | None = json.loads(row.counts) if row.counts else None
    return FlowRun(row.flow, row.run_id, row.state, row.detail, counts, row.at)


def since(conn: Connection, start: dt.datetime) -> list[FlowRun]:
    """The outcomes recorded from `start` on, oldest first."""
    q = select(flow_run).where(flow_run.c.at >= start).order_by(flow_run.c.id)
    return [_run(r) for r in conn.execute(q)]
