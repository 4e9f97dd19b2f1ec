"""OpenLineage for Waybill's flows, through Airflow's OpenLineage provider.

Each flow task's outcome (the task callbacks in waybill.ops.callbacks) is reported as one
OpenLineage run event: the job is the flow, the inputs are the source system's streams or the hub
entities it reads, the outputs the hub entities or the target it writes, and a run facet carries
the run's counts. The provider's own configuration decides where events go (`[openlineage]
transport`, e.g. an HTTP backend such as Marquez, a file or the console) and whether they are sent
at all (nothing is sent while it is disabled or has no transport).

`waybill://<system>/<name>` is also registered as an Asset scheme (waybill.ops.provider) with
`to_openlineage`, so the DAGs' hub Assets appear as the same datasets in the provider's own events.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from waybill.core.logs import event, get_logger

log = get_logger("lineage")

PRODUCER = "https://github.com/waybill/waybill"


@dataclass(frozen=True)
class FlowLineage:
    """What a flow reads and writes, as waybill://<system>/<name> URIs."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def _uris(system: str, *names: str) -> tuple[str, ...]:
    return tuple(f"waybill://{system}/{name}" for name in names)


#: Per flow (DAG id): source system and streams, hub entities, target (README, "The DAGs").
FLOWS: dict[str, FlowLineage] = {
    "erp_sync": FlowLineage(_uris("erp", "customers", "orders", "invoices", "payments"),
                            _uris("hub", "customers", "orders", "invoices")),
    "wms_stock": FlowLineage(_uris("wms", "stock", "shipments"), _uris("hub", "stock", "shipments")),
    "tms_delivery": FlowLineage(_uris("tms", "events"), _uris("hub", "shipments")),
    "carrier_tracking": FlowLineage(_uris("carrier", "tracking"), _uris("hub", "shipments")),
    "edi_inbound": FlowLineage(_uris("partner", "inbox"), _uris("hub", "orders", "shipments")),
    "customer_insights": FlowLineage(_uris("hub", "orders", "invoices"), _uris("hub", "customer_facts")),
    "delivery_exceptions": FlowLineage(_uris("hub", "shipments", "customer_facts"), _uris("hub", "delivery_cases")),
    "crm_publish": FlowLineage(_uris("hub", "customers", "orders", "shipments", "customer_facts", "delivery_cases"),
                               _uris("crm", "records")),
    "finance_receivables": FlowLineage(_uris("hub", "invoices"), _uris("finance", "receivables")),
    "edi_outbound": FlowLineage(_uris("hub", "orders", "shipments", "invoices"), _uris("partner", "outbox")),
    "privacy_purge": FlowLineage(_uris("hub", "messages"), _uris("hub", "messages")),
}


def dataset(uri: str) -> Any:
    """An OpenLineage dataset: namespace waybill://<system>, name <name>."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    parts = urlsplit(uri)
    return Dataset(namespace=f"{parts.scheme}://{parts.netloc}", name=parts.path.strip("/"))


def to_openlineage(asset: Any, lineage_context: Any = None) -> Any:
    """The provider's converter for Assets of the waybill:// scheme (lineage_context unused)."""
    return dataset(str(asset.uri))


def run_event(flow: str, run_id: str, task: str, *, state: str, counts: Mapping[str, int] | None) -> Any:
    """The OpenLineage event of one flow task's outcome (state "success" or "failed")."""
    from airflow.providers.openlineage import conf
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState

    lineage = FLOWS.get(flow, FlowLineage((), ()))
    facets = {"waybill_counts": _counts_facet(counts)} if counts else {}
    return RunEvent(
        eventType=RunState.COMPLETE if state == "success" else RunState.FAIL,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=str(uuid.uuid5(uuid.NAMESPACE_URL, f"waybill:{flow}:{run_id}:{task}")), facets=facets),
        job=Job(namespace=conf.namespace(), name=flow),
        producer=PRODUCER,
        inputs=[InputDataset(namespace=d.namespace, name=d.name) for d in map(dataset, lineage.inputs)],
        outputs=[OutputDataset(namespace=d.namespace, name=d.name) for d in map(dataset, lineage.outputs)],
    )


def _counts_facet(counts: Mapping[str, int]) -> Any:
    """A custom run facet with the run's counts (waybill.flows.counts.FlowCounts names)."""
    import attr
    from openlineage.client.facet_v2 import RunFacet

    @attr.define
    class WaybillCountsRunFacet(RunFacet):
        counts: dict[str, int] = attr.field(factory=dict)

    return WaybillCountsRunFacet(counts=dict(counts), producer=PRODUCER)


def emit(flow: str, run_id: str, task: str, *, state: str, counts: Mapping[str, int] | None) -> bool:
    """Send the run's event through the OpenLineage provider; False when lineage is off (provider
    missing, disabled, or no transport). Never raises: lineage must not change a task's outcome."""
    try:
        from airflow.providers.openlineage import conf
        from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter
    except ImportError:
        return False
    try:
        if conf.is_disabled():
            return False
        OpenLineageAdapter().emit(run_event(flow, run_id, task, state=state, counts=counts))
    except Exception as err:  # a lineage backend that is down must not fail the flow
        event(log, "lineage_not_sent", flow=flow, run_id=run_id, error=type(err).__name__)
        return False
    return True
