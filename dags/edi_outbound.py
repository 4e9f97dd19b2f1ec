"""DAG edi_outbound: acknowledgments, ship notices and invoices to EDI partners over SFTP."""

from __future__ import annotations

from _wiring import INVOICES, ORDERS, SHIPMENTS, dag_args, scheduled, xcom_counts
from airflow.sdk import AssetAny, dag, task

DOC = """
### EDI outbound
Builds the partners' **outbound EDI documents** from the hub outbox (X12 855/856/810 or EDIFACT
ORDRSP/DESADV/INVOIC per partner profile), with control numbers from the hub, and uploads each
under a temporary name followed by an atomic rename.

- From: the hub outbox (targets `edi:<partner>`). To: each partner's SFTP, Connection
  `waybill_partner_<id>`.
- Runs when `hub_orders`, `hub_shipments` or `hub_invoices` is updated. Pool `waybill_sftp`.
"""


@dag(schedule=scheduled(AssetAny(ORDERS, SHIPMENTS, INVOICES)), **dag_args(DOC, ["edi", "sftp", "outbound"]))
def edi_outbound() -> None:
    @task(pool="waybill_sftp")
    def send() -> dict[str, int]:
        from waybill.flows import edi_outbound as flow

        return xcom_counts(flow.run())

    send()


edi_outbound()
