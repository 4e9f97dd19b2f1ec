"""What every Waybill DAG shares: the hub Assets, default task
arguments (owner, retries, callbacks, retry policy), the common DAG settings and how a flow's
counts go to XCom. The pools the tasks name are defined in waybill.ops.airflow_home.POOLS.

Not a DAG file (listed in .airflowignore); the DAG files import it from the dags folder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, ExceptionRetryPolicy, RetryAction, RetryRule

from waybill.ops.callbacks import on_failure, on_success

if TYPE_CHECKING:
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


def dag_args(doc_md: str, tags: list[str]) -> dict[str, Any]:
    """Keyword arguments every Waybill DAG takes: docs, tags, one run at a time, no catch-up."""
    return {
        "doc_md": doc_md,
        "tags": ["waybill", *tags],
        "start_date": START,
        "catchup": False,
        "max_active_runs": 1,  # a flow's cursor moves in one run at a time
        "default_args": DEFAULT_ARGS,
    }


def xcom_counts(result: FlowCounts | Mapping[str, int]) -> dict[str, int]:
    """A flow run's counts as its task returns them to XCom (and the success callback records them
    in the hub): every FlowCounts name in order. A flow that still returns a plain dict gives the
    counts of it that FlowCounts knows."""
    from waybill.flows.counts import FlowCounts  # here: DAG files parse without loading flow modules

    counts = result if isinstance(result, FlowCounts) else FlowCounts.from_dict(dict(result))
    return counts.as_dict()
