"""DAG tms_delivery: shipments and delivery events from the TMS into the hub."""

from __future__ import annotations

from _wiring import SHIPMENTS, dag_args, pull_params, run_options, scheduled, updates, xcom_counts
from airflow.sdk import dag, task

DOC = """
### TMS delivery
Pulls **shipments and delivery events** from the transport management system, maps each event to
a canonical status (a terminal status is never undone by a late earlier scan) and stores them in
the hub with the shipment's order references.

- From: TMS, Connection `waybill_tms`. To: the hub store.
- Updates the Asset `hub_shipments` (triggers `crm_publish` and `edi_outbound`). Pool `waybill_tms`.
- Trigger with Params: `full_refresh`, `since`, `dry_run` (see the README, "Running in Airflow").
"""


@dag(schedule=scheduled("*/10 * * * *"), **dag_args(DOC, ["tms", "inbound"], pull_params(since=True)))
def tms_delivery() -> None:
    @task(pool="waybill_tms", outlets=updates(SHIPMENTS))
    def sync() -> dict[str, int]:
        from waybill.flows import tms_delivery as flow

        return xcom_counts(flow.run(**run_options()), SHIPMENTS)

    sync()


tms_delivery()
