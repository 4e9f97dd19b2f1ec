"""What every Waybill DAG shares: the hub Assets, default task
arguments (owner, retries, callbacks, retry policy), the common DAG settings (with the DAG-level
alert callbacks of waybill.ops.alerts) and how a flow's counts go to XCom and to the Assets. The
pools the tasks name are defined in waybill.ops.airflow_home.POOLS.

Not a DAG file (listed in .airflowignore); the DAG files import it from the dags folder.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, AssetAlias, ExceptionRetryPolicy, Param, RetryAction, RetryRule, get_current_context
from airflow.sdk.definitions.asset import BaseAsset
from airflow.sdk.definitions.timetables.assets import AssetOrTimeSchedule
from airflow.sdk.definitions.timetables.trigger import DeltaTriggerTimetable

from waybill.ops.alerts import on_dag_failure, on_dag_success
from waybill.ops.callbacks import on_failure, on_success

if TYPE_CHECKING:
    from pydantic import JsonValue

    from waybill.flows.counts import FlowCounts

OWNER = "integration"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# Assets: the hub's data sets. Each successful inbound run updates the ones it writes, and the
# flows that feed on them (publish, insights) are scheduled by them.
CUSTOMERS = Asset(name="hub_customers", uri="waybill://hub/customers")
ORDERS = Asset(name="hub_orders", uri="waybill://hub/orders")
STOCK = Asset(name="hub_stock", uri="waybill://hub/stock")
SHIPMENTS = Asset(name="hub_shipments", uri="waybill://hub/shipments")
INVOICES = Asset(name="hub_invoices", uri="waybill://hub/invoices")
CUSTOMER_FACTS = Asset(name="hub_customer_facts", uri="waybill://hub/customer_facts")
DELIVERY_CASES = Asset(name="hub_delivery_cases", uri="waybill://hub/delivery_cases")

#: the suffix of the alias through which a task updates an Asset (see `updates`)
CHANGED = "_changed"


def updates(*assets: Asset) -> list[AssetAlias]:
    """A task's outlets for the Assets it updates: one alias each, so that an event is emitted only
    by a run that changed something (xcom_counts adds it), never by one that found nothing new."""
    return [AssetAlias(name=a.name + CHANGED) for a in assets]

# Connection problems and permanent HTTP rejections do not heal by retrying: fail at once.
# Transient HTTP errors already spent the connector's own retries: wait longer before a new try.
RETRY_POLICY = ExceptionRetryPolicy(rules=[
    RetryRule("waybill.core.errors.ConfigError", RetryAction.FAIL, reason="configuration: fix the Connection"),
    RetryRule("waybill.connectors.http.PermanentHTTPError", RetryAction.FAIL, reason="rejected by the target"),
    RetryRule("waybill.connectors.http.TransientHTTPError", RetryAction.RETRY, dt.timedelta(minutes=5),
              reason="target still unavailable after the connector's retries"),
])

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=15),
    "execution_timeout": dt.timedelta(minutes=30),
    "retry_policy": RETRY_POLICY,
    "on_failure_callback": on_failure,
    "on_success_callback": on_success,
}


def scheduled(usual: Any) -> Any:
    """A DAG's schedule: `usual` (a cron expression, Assets, or Assets or a time), unless
    WAYBILL_SCHEDULE_SECONDS is set (a scheduled run in a test, a soak under Airflow): then every
    that many seconds, and a DAG fed by Assets runs on them or every that many seconds, so each
    flow cycles several times in minutes. Read when the DAG file is parsed."""
    seconds = os.environ.get("WAYBILL_SCHEDULE_SECONDS")
    if not seconds:
        return usual
    every = DeltaTriggerTimetable(dt.timedelta(seconds=float(seconds)))
    if isinstance(usual, AssetOrTimeSchedule):
        return AssetOrTimeSchedule(timetable=every, assets=usual.asset_condition)
    if isinstance(usual, BaseAsset) or (isinstance(usual, list) and usual and isinstance(usual[0], BaseAsset)):
        return AssetOrTimeSchedule(timetable=every, assets=usual)
    return every


def dag_args(doc_md: str, tags: list[str], params: dict[str, Param] | None = None) -> dict[str, Any]:
    """Keyword arguments every Waybill DAG takes: docs, tags, one run at a time, no catch-up, and
    the Params a user may set when triggering it."""
    return {
        "params": params or {},
        "doc_md": doc_md,
        "tags": ["waybill", *tags],
        "start_date": START,
        "catchup": False,
        "max_active_runs": 1,  # a flow's cursor moves in one run at a time
        "default_args": DEFAULT_ARGS,
        # the run as a whole: an alert when it failed or dead-lettered new records past the threshold
        "on_failure_callback": on_dag_failure,
        "on_success_callback": on_dag_success,
    }


def pull_params(*, streams: Sequence[str] = (), since: bool = False) -> dict[str, Param]:
    """The Params of a DAG that pulls from a source, set at trigger time ("Trigger DAG w/ config"):
    which streams, a full refresh, changed since a time (sources that can start at a time), a dry run."""
    params = {
        "full_refresh": Param(False, type="boolean",
                              description="read the streams from their start, not from their cursors"),
        "dry_run": Param(False, type="boolean",
                         description="map and check everything, write nothing: the counts say what would change"),
    }
    if streams:
        params["streams"] = Param(list(streams), type="array", items={"type": "string", "enum": list(streams)},
                                  description="the streams to read (default: all)")
    if since:
        params["since"] = Param(None, type=["null", "string"],
                                description="read what changed since this time (ISO 8601, UTC), not from the cursors")
    return params


def run_options() -> dict[str, Any]:
    """The running DAG's Params as its flow's keyword options (what pull_params declared)."""
    params = get_current_context()["params"]
    options: dict[str, Any] = {name: bool(params[name]) for name in ("full_refresh", "dry_run") if name in params}
    if params.get("streams"):
        options["streams"] = tuple(params["streams"])
    if params.get("since"):
        options["since"] = dt.datetime.fromisoformat(params["since"])
    return options


def xcom_counts(counts: FlowCounts, *updated: Asset) -> dict[str, int]:
    """A flow run's counts as its task returns them to XCom (and the success callback records them
    in the hub): every FlowCounts name in order. When the run changed something, each Asset of
    `updated` (declared as the task's outlets with `updates`) gets an event carrying the counts in
    its extra."""
    if updated and counts.changed:
        events = get_current_context()["outlet_events"]
        extra: dict[str, JsonValue] = dict(counts.as_dict())
        for asset in updated:
            events[AssetAlias(name=asset.name + CHANGED)].add(asset, extra=extra)
    return counts.as_dict()
