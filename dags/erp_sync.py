"""DAG erp_sync: customers, orders and invoices from the ERP into the hub."""

from __future__ import annotations

from _wiring import CUSTOMERS, INVOICES, ORDERS, dag_args, pull_params, run_options, scheduled, updates, xcom_counts
from airflow.sdk import dag, task

DOC = """
### ERP sync
Pulls **customers, sales orders, invoices and payments** from the ERP (Odoo JSON-2 or XML-RPC,
chosen by the Connection) incrementally from the hub's cursor, maps them to the canonical model and
stores each page with its cursor and outbox rows in one transaction.

- From: ERP, Connection `waybill_erp`. To: the hub store.
- Updates the Assets `hub_customers`, `hub_orders`, `hub_invoices` (they trigger `crm_publish`,
  `finance_receivables`, `customer_insights`).
- Pool `waybill_erp`. Rejected records are dead-lettered: `waybill messages --state dead`.
- Trigger with Params: `streams`, `full_refresh`, `since`, `dry_run` (see the README, "Running in Airflow").
"""


#: waybill.flows.erp_sync.STREAMS (not imported: the DAG file parses without loading its flow)
STREAMS = ("customers", "orders", "invoices", "payments")


@dag(schedule=scheduled("*/15 * * * *"), **dag_args(DOC, ["erp", "inbound"], pull_params(streams=STREAMS, since=True)))
def erp_sync() -> None:
    @task(pool="waybill_erp", outlets=updates(CUSTOMERS, ORDERS, INVOICES))
    def sync() -> dict[str, int]:
        from waybill.flows import erp_sync as flow

        return xcom_counts(flow.run(**run_options()), CUSTOMERS, ORDERS, INVOICES)

    sync()


erp_sync()
