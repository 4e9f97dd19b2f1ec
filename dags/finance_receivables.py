"""DAG finance_receivables: the receivables feed (open items and aging) to finance."""

from __future__ import annotations

from _wiring import INVOICES, dag_args, scheduled, xcom_counts
from airflow.sdk import dag, task

DOC = """
### Finance receivables
Writes the **AR open-items feed** for finance: one CSV (customer ids in the hub, ERP and CRM, name,
invoice number and dates, currency, original and open amounts, days overdue, aging bucket, last
payment date) plus a control file (row count, totals per currency, sha256), for the cut-off
yesterday (UTC).

- From: the hub (invoices and payments). To: finance's folder or SFTP server, Connection
  `waybill_finance` (extra `path` for a folder; host and `host_key` for SFTP). Files are written
  under a temporary name and renamed; a cut-off already delivered is not sent again, a
  half-delivered one is completed. A cut-off's feed waits (retry, nothing written) until `erp_sync`
  has read the ERP's invoices and payments to their end after that day.
- Runs when `hub_invoices` is updated. Pool `waybill_finance`.
"""


@dag(schedule=scheduled([INVOICES]), **dag_args(DOC, ["finance", "outbound"]))
def finance_receivables() -> None:
    @task(pool="waybill_finance")
    def publish() -> dict[str, int]:
        from waybill.flows import finance_receivables as flow

        return xcom_counts(flow.run())

    publish()


finance_receivables()
