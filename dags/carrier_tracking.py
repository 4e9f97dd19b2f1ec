"""DAG carrier_tracking: tracking events from carrier SOAP services for open shipments."""

from __future__ import annotations

from _wiring import SHIPMENTS, dag_args, updates, xcom_counts
from airflow.sdk import dag, task

DOC = """
### Carrier tracking
Asks the carriers' **SOAP tracking services** (FedEx TrackService v16 contract, WSDL loaded from the
package) for the scans of every open shipment and stores them as delivery events in the hub.

- From: carrier SOAP service, Connection `waybill_carrier_fedex`. To: the hub store.
- Updates the Asset `hub_shipments`. Pool `waybill_carrier` (bounds concurrent SOAP calls).
"""


@dag(schedule="0 * * * *", **dag_args(DOC, ["carrier", "soap", "inbound"]))
def carrier_tracking() -> None:
    @task(pool="waybill_carrier", outlets=updates(SHIPMENTS))
    def track() -> dict[str, int]:
        from waybill.flows import carrier_tracking as flow

        return xcom_counts(flow.run(), SHIPMENTS)

    track()


carrier_tracking()
