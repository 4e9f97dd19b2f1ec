"""DAG wms_stock: stock levels and outbound shipments from the WMS into the hub."""

from __future__ import annotations

from _wiring import SHIPMENTS, STOCK, dag_args, pull_params, run_options, scheduled, updates, xcom_counts
from airflow.sdk import dag, task

DOC = """
### WMS stock
Pulls **stock levels** (item x location: on hand, allocated, available, as of) and **outbound
shipments** (packages, SSCC, carrier, tracking number, order references) from the warehouse
management system's REST API incrementally and stores them in the hub; an older version never
overwrites a newer one.

- From: WMS, Connection `waybill_wms`. To: the hub store.
- Updates the Assets `hub_stock` and `hub_shipments`. Pool `waybill_wms`.
- Trigger with Params: `streams`, `full_refresh`, `since`, `dry_run` (see the README, "Running in Airflow").
"""


#: waybill.flows.wms_stock.STREAMS (not imported: the DAG file parses without loading its flow)
STREAMS = ("stock", "shipments")


@dag(schedule=scheduled("*/30 * * * *"), **dag_args(DOC, ["wms", "inbound"], pull_params(streams=STREAMS, since=True)))
def wms_stock() -> None:
    @task(pool="waybill_wms", outlets=updates(STOCK, SHIPMENTS))
    def sync() -> dict[str, int]:
        from waybill.flows import wms_stock as flow

        return xcom_counts(flow.run(**run_options()), STOCK, SHIPMENTS)

    sync()


wms_stock()
