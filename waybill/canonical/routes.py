"""Which target gets which canonical change: the outbox rows written for every changed entity.

Targets: crm (customer 360 updates), erp (orders that partners sent, written back), edi (outbound
documents to partners). Finance gets a snapshot feed per run, not a change stream.
"""

from __future__ import annotations

#: entity -> targets that receive its changes, optionally only from some source systems.
ROUTES: dict[str, tuple[tuple[str, frozenset[str] | None], ...]] = {
    "customer": (("crm", None),),
    "customer_fact": (("crm", None),),
    # Orders that partners sent go to the ERP and are answered to the partner (855/ORDRSP).
    "order": (("crm", None), ("erp", frozenset({"edi"})), ("edi", frozenset({"edi"}))),
    "shipment": (("crm", None), ("edi", None)),
    "invoice": (("edi", frozenset({"erp"})),),
    # Delivery problems become the CRM's Cases (waybill.flows.delivery_exceptions).
    "delivery_case": (("crm", None),),
}


def targets(entity: str, system: str) -> list[str]:
    """The targets of a change to `entity` that came from `system` (edi:PARTNER counts as edi)."""
    family = system.split(":", 1)[0]
    return [t for t, only in ROUTES.get(entity, ()) if only is None or family in only]
