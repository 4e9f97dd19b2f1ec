"""DAG crm_publish: customers, orders, deliveries and value facts from the hub outbox to the CRM."""

from __future__ import annotations

from _wiring import CUSTOMER_FACTS, CUSTOMERS, DELIVERY_CASES, ORDERS, SHIPMENTS, dag_args, scheduled, xcom_counts
from airflow.sdk import AssetAny, dag, task

DOC = """
### CRM publish
Delivers the hub's pending **outbox rows for the CRM** (customers, orders, delivery status, value
facts: the customer 360; Cases of delivery problems) by upsert on external id, each with its
idempotency key; a permanent rejection is dead-lettered with the CRM's error, a transient one stays
pending for the next run.

- From: the hub outbox (target `crm`). To: CRM (Salesforce-style REST), Connection `waybill_crm`.
- Runs when `hub_customers`, `hub_orders`, `hub_shipments`, `hub_customer_facts` or
  `hub_delivery_cases` is updated.
- Pool `waybill_crm`. Dead deliveries: `waybill status` (outbox) and `waybill messages --state dead`.
"""


@dag(schedule=scheduled(AssetAny(CUSTOMERS, ORDERS, SHIPMENTS, CUSTOMER_FACTS, DELIVERY_CASES)),
     **dag_args(DOC, ["crm", "outbound"]))
def crm_publish() -> None:
    @task(pool="waybill_crm")
    def publish() -> dict[str, int]:
        from waybill.flows import crm_publish as flow

        return xcom_counts(flow.run())

    publish()


crm_publish()
