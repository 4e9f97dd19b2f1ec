"""Flow carrier_tracking: track the hub's open shipments with a carrier's SOAP service.

Open shipments are those of the carrier with a tracking number and no terminal status. They are
tracked in the batches the service allows; each reply is logged with its raw XML (the request too,
under stream "track-request") and applied as one message, so its events, the shipments' new status
and the CRM's outbox rows commit together. A number the carrier faults on or does not know is
dead-lettered with the carrier's reason; the other numbers of its batch go on.

The carrier's mapping module (the Connection's extra `mapping`, default waybill.mappings.<name>)
gives the connector its Service (WSDL, OPERATION, BATCH_SIZE, build_request) and reads the
replies (map_reply).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

from waybill.canonical import model
from waybill.connectors import carrier as connector
from waybill.connectors.carrier import CarrierTracker, Exchange
from waybill.connectors.http import HttpPolicy
from waybill.core.errors import ConfigError
from waybill.core.logs import event, get_logger
from waybill.flows import replay, sync
from waybill.flows.counts import FlowCounts
from waybill.store import message_log
from waybill.store.reads import logistics
from waybill.store.store import Store, utcnow

log = get_logger("flows.carrier_tracking")
STREAM = "track"


class CarrierMapping(Protocol):
    """What a carrier's mapping module provides (waybill.mappings.fedex is one)."""

    WSDL: str
    OPERATION: str
    BATCH_SIZE: int

    def build_request(self, numbers: Sequence[str], creds: Mapping[str, str]) -> dict[str, Any]: ...

    def map_reply(self, system: str, raw: bytes) -> model.InboundMessage: ...


_MAPPING_NAMES = ("WSDL", "OPERATION", "BATCH_SIZE", "build_request", "map_reply")


def mapping_module(carrier: str) -> CarrierMapping:
    """The mapping module of `carrier`: its Connection's extra `mapping`, else waybill.mappings.<carrier>.

    The Connection is read if configured: replay runs without one, too."""
    try:
        extra = connector.connection(carrier).extra
    except ConfigError:
        extra = {}
    name = extra.get("mapping") or f"waybill.mappings.{carrier}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError:
        raise ConfigError(f"carrier {carrier!r}: mapping module {name} not found") from None
    missing = [n for n in _MAPPING_NAMES if not hasattr(module, n)]
    if missing:
        raise ConfigError(f"carrier {carrier!r}: mapping module {name} lacks {', '.join(missing)}")
    return cast(CarrierMapping, module)


def service(mapping: CarrierMapping) -> connector.Service:
    """The carrier's service as the connector calls it, from the carrier's mapping module."""
    return connector.Service(mapping.WSDL, mapping.OPERATION, mapping.BATCH_SIZE, mapping.build_request)


def tracker_for(carrier: str, *, policy: HttpPolicy | None = None) -> CarrierTracker:
    """The tracker of `carrier`, with the service its mapping module describes."""
    return CarrierTracker(carrier, service(mapping_module(carrier)), policy=policy)


def map_reply(system: str, raw: bytes) -> model.InboundMessage:
    """The replay mapper of every carrier: mappings.<carrier>.map_reply for system carrier:<name>."""
    return mapping_module(system.split(":", 1)[1]).map_reply(system, raw)


replay.register("carrier", STREAM, f"{__name__}:map_reply")


def run(store: Store | None = None, *, carrier: str = "fedex", tracker: CarrierTracker | None = None) -> FlowCounts:
    """Track every open shipment of `carrier` once: tracking numbers asked for (received), new
    events (stored), events and replies already held (unchanged), numbers dead-lettered (dead),
    replies refused (rejected) and outbox rows for the shipments' changes (queued)."""
    store = store or Store.open()
    mapping = mapping_module(tracker.carrier if tracker else carrier)
    tracker = tracker or CarrierTracker(carrier, service(mapping))
    with store.engine.connect() as conn:
        numbers = logistics.open_numbers(conn, carrier)
    counts = FlowCounts()
    for exchange in tracker.track(numbers):
        with store.begin() as conn:
            message_log.log(conn, store.vault, system=tracker.system, stream=f"{STREAM}-request",
                            raw=exchange.request, key=_key(exchange), state="processed", now=utcnow())
        result = store.apply(model.Batch(tracker.system, STREAM, [_inbound(tracker, mapping, exchange)]))
        # A reply's stored rows are its new events; the shipments' status moves they cause are not
        # counted again.
        counts += dataclasses.replace(sync.counts_of(result, len(exchange.numbers)), stored=result.inserted)
    event(log, "tracked", system=tracker.system, open=len(numbers), **counts.as_dict())
    return counts


def _inbound(tracker: CarrierTracker, mapping: CarrierMapping, exchange: Exchange) -> model.InboundMessage:
    if exchange.fault is None:
        return mapping.map_reply(tracker.system, exchange.reply)
    number = exchange.numbers[0]
    reject = model.Reject(f"{tracker.system}:{number}", f"SOAP fault from {tracker.system}: {exchange.fault}",
                          "Envelope.Body.Fault", exchange.reply)
    return model.InboundMessage(exchange.reply, _key(exchange), rejects=[reject])


def _key(exchange: Exchange) -> str:
    return f"{STREAM}:{','.join(exchange.numbers)}"[:300]
