"""DAG finance_receivables: the receivables feed (open items and aging) to finance."""

from __future__ import annotations

from airflow.sdk import dag, task

from _wiring import INVOICES, dag_args

DOC = """
### Finance receivables
Sends the **receivables view** (open invoice items, amount open, due date, days overdue, aging
bucket) from the hub to the finance system, with an idempotency key per change, and records payments
applied there.

- From: the hub (invoices, payments, outbox target `finance`). To: finance REST API, Connection
  `waybill_finance`.
- Runs when `hub_invoices` is updated. Pool `waybill_finance`.
"""


@dag(schedule=[INVOICES], **dag_args(DOC, ["finance", "outbound"]))
def finance_receivables() -> None:
    @task(pool="waybill_finance")
    def publish() -> dict[str, int]:
        from hub.flows import finance_receivables as flow

        return flow.run()

    publish()


finance_receivables()
