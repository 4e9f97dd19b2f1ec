"""Replay: map a logged message again and apply it, after a fix (of the mapping, of a missing
reference, of a partner's data). The store's apply is idempotent, so replaying a whole message
writes only what was not stored before.

Mappers are registered per (system family, stream): a function raw bytes -> InboundMessage. The
system family is the part before ':' (edi:ACME -> edi), so one mapper serves every partner.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from waybill.canonical import model
from waybill.core.errors import WaybillError
from waybill.store import message_log
from waybill.store.store import ApplyResult, Store, utcnow

Mapper = Callable[[str, bytes], model.InboundMessage]

#: (system family, stream) -> "module:function" of the mapper, imported on first use.
MAPPERS: dict[tuple[str, str], str] = {}


class ReplayError(WaybillError):
    pass


def register(family: str, stream: str, target: str) -> None:
    """Name the mapper of a stream, as "package.module:function" taking (system, raw)."""
    MAPPERS[(family, stream)] = target


def mapper_for(system: str, stream: str) -> Mapper:
    key = (system.split(":", 1)[0], stream)
    if key not in MAPPERS:
        _import_flows()  # flows register their mappers when imported
    target = MAPPERS.get(key)
    if target is None:
        raise ReplayError(f"no mapper registered for {system}/{stream}")
    module, name = target.split(":")
    mapper: Mapper = getattr(importlib.import_module(module), name)
    return mapper


def _import_flows() -> None:
    import waybill.flows

    for info in pkgutil.iter_modules(waybill.flows.__path__):
        importlib.import_module(f"waybill.flows.{info.name}")


def replay(store: Store, message_id: int) -> ApplyResult:
    """Re-map and apply message `message_id` (a dead record replays its parent message)."""
    with store.engine.connect() as conn:
        logged = message_log.get(conn, message_id)
        if logged is None:
            raise ReplayError(f"message {message_id} does not exist")
        if logged.state not in ("dead", "rejected", "processed"):
            raise ReplayError(f"message {message_id} is {logged.state}; only dead, rejected or processed "
                              "messages can be replayed")
        source_id = logged.parent_id or logged.id
        source = message_log.get(conn, source_id)
        assert source is not None
        try:
            raw = message_log.raw_of(conn, store.cipher, source_id)
        except message_log.RawUnavailable as err:  # purged by retention or erasure
            raise ReplayError(str(err)) from None
        last_before = message_log.last_id(conn)
    inbound = mapper_for(source.system, source.stream)(source.system, raw)
    inbound.raw, inbound.key = raw, source.key
    result = store.apply(model.Batch(source.system, source.stream, [inbound]), replay_of=source_id)
    with store.begin() as conn:
        # Dead records of the earlier attempts are settled; this attempt logged its own if any.
        message_log.settle_dead(conn, source_id, up_to=last_before, now=utcnow())
    return result
