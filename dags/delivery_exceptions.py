"""DAG delivery_exceptions: delivery problems found in the hub become CRM Cases."""

from __future__ import annotations

from _wiring import CUSTOMER_FACTS, DELIVERY_CASES, SHIPMENTS, dag_args, scheduled, xcom_counts
from airflow.sdk import AssetAny, dag, task

DOC = """
### Delivery exceptions
Applies the **proactive exception rules** to every open shipment: a failed delivery attempt or
exception, no scan for too long while in transit, an ETA later than the order's promised date, a
parcel going back to the sender; thresholds and rules per customer value tier (A first). Each
problem of a shipment is one case, opened once, updated when it changes and closed on delivery;
changed cases are queued for the CRM (Salesforce `Case`, upsert by external id, linked to the
Account, the Order and the Shipment) in the same transaction.

- From: the hub store (shipments, events, value tiers). To: the hub store and its outbox (target `crm`).
- Runs when `hub_shipments` or `hub_customer_facts` is updated; updates `hub_delivery_cases`
  (triggers `crm_publish`). No external Connection. Rules: `WAYBILL_EXCEPTION_RULES` (TOML).
- Pool `waybill_hub`.
"""


@dag(schedule=scheduled(AssetAny(SHIPMENTS, CUSTOMER_FACTS)), **dag_args(DOC, ["hub", "crm", "tracking"]))
def delivery_exceptions() -> None:
    @task(pool="waybill_hub", outlets=[DELIVERY_CASES])
    def evaluate() -> dict[str, int]:
        from waybill.flows import delivery_exceptions as flow

        return xcom_counts(flow.run())

    evaluate()


delivery_exceptions()
