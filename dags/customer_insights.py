"""DAG customer_insights: value facts per customer, computed in the hub for the CRM."""

from __future__ import annotations

from _wiring import CUSTOMER_FACTS, INVOICES, ORDERS, dag_args, scheduled, updates, xcom_counts
from airflow.sdk import AssetAny, dag, task

DOC = """
### Customer insights
Computes every customer's **value facts** from the hub: value tier (top 5% / next 15% / rest by
revenue share), lifetime value, churn warning when order frequency falls, overdue receivables and
aging. Changed facts are stored and queued for the CRM in the same transaction.

- From: the hub store (orders, invoices, open items). To: the hub store and its outbox (target `crm`).
- Runs when `hub_orders` or `hub_invoices` is updated; updates `hub_customer_facts` (triggers
  `crm_publish`). No external Connection.
- Pool `waybill_hub`.
"""


@dag(schedule=scheduled(AssetAny(ORDERS, INVOICES)), **dag_args(DOC, ["hub", "crm", "insights"]))
def customer_insights() -> None:
    @task(pool="waybill_hub", outlets=updates(CUSTOMER_FACTS))
    def compute() -> dict[str, int]:
        from waybill.flows import customer_insights as flow

        return xcom_counts(flow.run(), CUSTOMER_FACTS)

    compute()


customer_insights()
