"""DAG edi_inbound: partner EDI files from SFTP into the hub, one mapped task per picked-up file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from _wiring import ORDERS, SHIPMENTS, dag_args, scheduled, updates, xcom_counts
from airflow.sdk import dag, get_current_context, task

from waybill.ops.triggers import inbox_schedule

if TYPE_CHECKING:
    from waybill.flows.edi_inbound import FileRef

DOC = """
### EDI inbound
Lists every partner's SFTP inbox and processes **each complete file in its own mapped task**
(`process_file[partner/file]`): download to the landing folder, archive, parse X12 or EDIFACT,
validate envelopes and control numbers, store the documents (850 orders, 856 notices, 214 status),
and send the acknowledgment (997/999, TA1 or CONTRL). A duplicate interchange or file is recognised
and skipped; a rejected one gets a negative acknowledgment and a dead-letter record.

- From: each partner's SFTP, Connection `waybill_partner_<id>`. To: the hub store.
- Updates the Assets `hub_orders`, `hub_shipments`. Pool `waybill_sftp`.
- Runs when the triggerer sees a complete file in an inbox (Asset `partner_inboxes`, no worker
  slot held while waiting), and hourly as a safety net.
"""


@dag(schedule=scheduled(inbox_schedule()), **dag_args(DOC, ["edi", "sftp", "inbound"]))
def edi_inbound() -> None:
    @task(pool="waybill_sftp")
    def list_files() -> list[dict[str, Any]]:
        """One small reference per complete file, through XCom: {"partner": id, "file": FileRef}."""
        from waybill.flows import edi_inbound as flow
        from waybill.flows.partners import partner_ids

        return [{"partner": p, "file": ref} for p in partner_ids() for ref in flow.ready(p)]

    @task(pool="waybill_sftp", outlets=updates(ORDERS, SHIPMENTS), map_index_template="{{ partner }}/{{ file }}")
    def process_file(partner: str, file: FileRef) -> dict[str, int]:
        """Exactly the file the listing saw (name, size, mtime); the inbox is not listed again."""
        from waybill.flows import edi_inbound as flow

        # names the mapped task in the UI; the context is a TypedDict that does not declare our keys
        cast("dict[str, object]", get_current_context()).update(partner=partner, file=file["name"])
        return xcom_counts(flow.run(partner=partner, files=[file]), ORDERS, SHIPMENTS)

    process_file.expand_kwargs(list_files())


edi_inbound()
