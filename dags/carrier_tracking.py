"""DAG carrier_tracking: tracking events from the carriers' tracking services for open shipments."""

from __future__ import annotations

from _wiring import SHIPMENTS, dag_args, scheduled, updates, xcom_counts
from airflow.sdk import dag, task

DOC = """
### Carrier tracking
Asks each carrier's **tracking service** for the scans of every open shipment (chosen by the
shipment's carrier code through the carrier's profile) and stores them as delivery events in the hub.
REST: FedEx Track API, UPS Tracking API (OAuth2), DHL Unified Tracking (API key); SOAP through zeep
with the WSDL shipped with the profile. Delivered parcels are never asked for again.

- From: Connections `waybill_carrier_fedex`, `waybill_carrier_ups`, `waybill_carrier_dhl` (one per
  profile; a carrier without a Connection is skipped). To: the hub store.
- Updates the Asset `hub_shipments`. Pool `waybill_carrier`; each carrier's rate limit is its own pool
  in the connector.
"""


@dag(schedule=scheduled("0 * * * *"), **dag_args(DOC, ["carrier", "rest", "soap", "inbound"]))
def carrier_tracking() -> None:
    @task(pool="waybill_carrier", outlets=updates(SHIPMENTS))
    def track() -> dict[str, int]:
        from waybill.flows import carrier_tracking as flow

        return xcom_counts(flow.run(), SHIPMENTS)

    track()


carrier_tracking()
