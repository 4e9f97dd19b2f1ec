"""Flow carrier_tracking: track the hub's open shipments with a carrier's SOAP service.

Open shipments are those of the carrier with a tracking number and no terminal status. They are
tracked in the batches the service allows; each reply is logged with its raw XML (the request too,
under stream "track-request") and applied as one message, so its events, the shipments' new status
and the CRM's outbox rows commit together. A number the carrier faults on or does not know is
dead-lettered with the carrier's reason; the other numbers of its batch go on.
"""

from __future__ import annotations

from sqlalchemy import func, select

from waybill.canonical import model
from waybill.connectors.carrier import CarrierTracker, Exchange, mapping_module
from waybill.core.logs import event, get_logger
from waybill.flows import replay
from waybill.store import message_log
from waybill.store.schema import shipment
from waybill.store.store import Store, utcnow

log = get_logger("flows.carrier_tracking")
STREAM = "track"


def map_reply(system: str, raw: bytes) -> model.InboundMessage:
    """The replay mapper of every carrier: mappings.<carrier>.map_reply for system carrier:<name>."""
    return mapping_module(system.split(":", 1)[1]).map_reply(system, raw)


replay.register("carrier", STREAM, f"{__name__}:map_reply")


def open_numbers(store: Store, carrier: str) -> list[str]:
    """Tracking numbers of the carrier's shipments that are not yet delivered, returned or cancelled."""
    q = (select(shipment.c.tracking_number).distinct()
         .where(func.lower(shipment.c.carrier) == carrier.lower(), shipment.c.tracking_number.is_not(None),
                shipment.c.status.not_in(model.TERMINAL_STATUSES))
         .order_by(shipment.c.tracking_number))
    with store.engine.connect() as conn:
        return [n for (n,) in conn.execute(q)]


def run(store: Store | None = None, carrier: str = "fedex", tracker: CarrierTracker | None = None,
        **_options: object) -> dict[str, int]:
    """Track every open shipment of `carrier` once; counts of numbers, events and dead letters."""
    store = store or Store.open()
    tracker = tracker or CarrierTracker(carrier)
    numbers = open_numbers(store, carrier)
    counts = {"received": 0, "stored": 0, "unchanged": 0, "dead": 0, "rejected": 0, "published": 0}
    for exchange in tracker.track(numbers):
        counts["received"] += len(exchange.numbers)
        with store.begin() as conn:
            message_log.log(conn, store.archive, system=tracker.system, stream=f"{STREAM}-request",
                            raw=exchange.request, key=_key(exchange), state="processed", now=utcnow())
        result = store.apply(model.Batch(tracker.system, STREAM, [_inbound(tracker, exchange)]))
        counts["stored"] += result.inserted
        counts["unchanged"] += result.unchanged + result.duplicates
        counts["dead"] += result.dead
        counts["rejected"] += result.rejected
        counts["published"] += result.outbox
    event(log, "tracked", system=tracker.system, open=len(numbers), **counts)
    return counts


def _inbound(tracker: CarrierTracker, exchange: Exchange) -> model.InboundMessage:
    if exchange.fault is None:
        return tracker.mapping.map_reply(tracker.system, exchange.reply)
    number = exchange.numbers[0]
    reject = model.Reject(f"{tracker.system}:{number}", f"SOAP fault from {tracker.system}: {exchange.fault}",
                          "Envelope.Body.Fault", exchange.reply)
    return model.InboundMessage(exchange.reply, _key(exchange), rejects=[reject])


def _key(exchange: Exchange) -> str:
    return f"{STREAM}:{','.join(exchange.numbers)}"[:300]
