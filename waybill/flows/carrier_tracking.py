"""Flow carrier_tracking: track the hub's open shipments with each carrier's tracking service.

Each open shipment (a tracking number, no terminal status) is tracked by the profile of its
carrier code (waybill.connectors.carrier_profile: one TOML file per carrier; a retired profile is
used only when named). REST profiles go through waybill.connectors.carrier_rest, SOAP profiles
through waybill.connectors.carrier (zeep, the WSDL shipped with the profile). The carriers are
tracked concurrently, a thread each. Numbers are sent in the batches the carrier allows, in the
carrier's rate-limit pool; a delivered, returned or cancelled parcel is never asked for again.
Replies are stored in groups of APPLY_EVERY while the next group's calls are made.

Each reply is logged with its raw bytes (the request too, under stream "track-request") and applied
as one message, so its events, the shipments' new status and the CRM's outbox rows commit
together. A number the carrier faults on or does not know is dead-lettered with the carrier's
reason; the other numbers of its batch go on. A reply that cannot be read (hostile XML, an HTML
error page, garbage, JSON of another shape) is a dead letter of its request, naming the carrier
and the batch's numbers; the later batches go on. Carrier codes without a profile, and carriers whose
Connection is not configured, are skipped and logged.

The carrier's mapping module (the profile's `mapping`) builds the requests (build_request) and
reads the replies (map_reply): adding a carrier is a profile plus that one module.
"""

from __future__ import annotations

import contextvars
import dataclasses
import importlib
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, cast

from sqlalchemy import Connection

from waybill.canonical import model
from waybill.connectors import carrier_profile
from waybill.connectors.carrier import CarrierTracker, Exchange, Service
from waybill.connectors.carrier_profile import Profile
from waybill.connectors.carrier_rest import Call, RestTracker
from waybill.connectors.connection import ConnectionInfo
from waybill.connectors.http import HttpPolicy
from waybill.core.errors import ConfigError
from waybill.core.logs import event, get_logger
from waybill.flows import replay, sync
from waybill.flows.counts import FlowCounts
from waybill.store import fits, message_log
from waybill.store.reads import logistics
from waybill.store.store import Store, utcnow

log = get_logger("flows.carrier_tracking")
STREAM = "track"
#: Replies stored per transaction (each its own message): one-number carriers answer many small replies.
APPLY_EVERY = 50


class CarrierMapping(Protocol):
    """What a carrier's mapping module provides (waybill.mappings.ups is one). build_request takes
    the numbers (REST: returns a Call's fields) or the numbers and the credentials (SOAP: returns
    the operation's keyword arguments)."""

    build_request: Any

    def map_reply(self, system: str, raw: bytes) -> model.InboundMessage: ...


class Tracker(Protocol):
    """What the flow needs of a connector: CarrierTracker (SOAP) and RestTracker (REST) are two."""

    carrier: str
    system: str

    def track(self, numbers: Sequence[str]) -> Iterator[Exchange]: ...


def mapping_module(profile: Profile) -> CarrierMapping:
    """The mapping module the profile names; ConfigError when it is missing or incomplete."""
    try:
        module = importlib.import_module(profile.mapping)
    except ModuleNotFoundError:
        raise ConfigError(f"carrier {profile.name!r}: mapping module {profile.mapping} not found") from None
    missing = [n for n in ("build_request", "map_reply") if not hasattr(module, n)]
    if missing:
        raise ConfigError(f"carrier {profile.name!r}: mapping module {profile.mapping} lacks {', '.join(missing)}")
    return cast(CarrierMapping, module)


def tracker_for(carrier: str, *, policy: HttpPolicy | None = None, conn: ConnectionInfo | None = None) -> Tracker:
    """The connector of the carrier's profile `carrier`, with its mapping module's request builder
    (on `conn`, or the profile's Connection)."""
    profile = carrier_profile.load(carrier)
    mapping = mapping_module(profile)
    if profile.protocol == "soap":
        assert profile.wsdl is not None  # a SOAP profile always has one (carrier_profile.parse)
        return CarrierTracker(profile.name, Service(profile.wsdl, profile.operation, profile.batch_size,
                                                    mapping.build_request), conn=conn, policy=policy,
                              http_basic=profile.auth.kind == "http_basic")
    build = mapping.build_request
    return RestTracker(profile, lambda numbers: Call(**build(numbers)), conn=conn, policy=policy)


def map_reply(system: str, raw: bytes) -> model.InboundMessage:
    """The replay mapper of every carrier: the profile's mapping module for system carrier:<name>."""
    return mapping_module(carrier_profile.load(system.split(":", 1)[1])).map_reply(system, raw)


replay.register("carrier", STREAM, f"{__name__}:map_reply")


def run(store: Store | None = None, *, carrier: str | None = None, tracker: Tracker | None = None) -> FlowCounts:
    """Track every open shipment once: of every carrier code with an active profile, or of the
    profile `carrier` (or `tracker`'s) only. Counts: tracking numbers asked for (received), new
    events (stored), events and replies already held (unchanged), numbers dead-lettered (dead),
    replies refused (rejected) and outbox rows for the shipments' changes (queued)."""
    store = store or Store.open()
    name = tracker.carrier if tracker else carrier
    if name is not None:
        return _track(store, carrier_profile.load(name), tracker)
    return _concurrently(store, open_trackers(store))


def _concurrently(store: Store, trackers: list[tuple[Profile, Tracker]]) -> FlowCounts:
    """Track each carrier in a thread of its own (each keeps to its own rate-limit pool, so one
    carrier's limit or slowness does not hold the others back); the counts added up. A carrier's
    error is raised once the other carriers are done."""
    counts = FlowCounts()
    if not trackers:
        return counts
    with ThreadPoolExecutor(max_workers=len(trackers), thread_name_prefix="track") as pool:
        # each thread runs in a copy of this context, so log lines keep the run's bound fields
        futures = [pool.submit(contextvars.copy_context().run, _track, store, profile, tracker)
                   for profile, tracker in trackers]
    errors: list[BaseException] = []
    for future in futures:
        error = future.exception()
        if error is None:
            counts += future.result()
        else:
            errors.append(error)
    if errors:
        raise errors[0]
    return counts


def open_trackers(store: Store) -> list[tuple[Profile, Tracker]]:
    """The active profile and connector of every carrier code with open shipments in the hub;
    codes without a profile and carriers whose Connection is not configured are logged and left out."""
    profiles = carrier_profile.load_all()
    with store.engine.connect() as conn:
        codes = logistics.open_carrier_codes(conn)
    chosen: dict[str, Profile] = {}
    for code in codes:
        profile = carrier_profile.for_code(code, profiles)
        if profile is None:
            event(log, "carrier-without-profile", carrier=code)
        else:
            chosen[profile.name] = profile
    out: list[tuple[Profile, Tracker]] = []
    for profile in chosen.values():
        try:
            out.append((profile, tracker_for(profile.name)))
        except ConfigError as err:
            event(log, "carrier-not-configured", system=profile.system, error=str(err))
    return out


def _track(store: Store, profile: Profile, tracker: Tracker | None) -> FlowCounts:
    mapping = mapping_module(profile)
    tracker = tracker or tracker_for(profile.name)
    with store.engine.connect() as conn:
        numbers = logistics.open_numbers(conn, profile.codes or (profile.name,))
    counts = FlowCounts()
    # The next group's calls run while this one is stored (read_ahead); each reply stays its own message.
    for group in sync.read_ahead(_groups(tracker.track(numbers), APPLY_EVERY)):
        mapped = [(e, _inbound(tracker, mapping, e)) for e in group]
        unreadable = 0
        with store.begin() as conn:
            for exchange, inbound in mapped:
                request = message_log.log(conn, store.vault, system=tracker.system, stream=f"{STREAM}-request",
                                          raw=exchange.request, key=_key(exchange), state="processed", now=utcnow())
                if isinstance(inbound, str):
                    _dead_request(conn, store, tracker, exchange, request=request, why=inbound)
                    unreadable += 1
        result = store.apply(model.Batch(tracker.system, STREAM,
                                         [m for _, m in mapped if isinstance(m, model.InboundMessage)]))
        # A reply's stored rows are its new events; the shipments' status moves they cause are not
        # counted again.
        received = sum(len(e.numbers) for e in group)
        counts += dataclasses.replace(sync.counts_of(result, received), stored=result.inserted,
                                      dead=result.dead + unreadable)
    event(log, "tracked", system=tracker.system, open=len(numbers), **counts.as_dict())
    return counts


def _groups(exchanges: Iterator[Exchange], size: int) -> Iterator[list[Exchange]]:
    """The exchanges in lists of up to `size`, as they come."""
    group: list[Exchange] = []
    for exchange in exchanges:
        group.append(exchange)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def _inbound(tracker: Tracker, mapping: CarrierMapping, exchange: Exchange) -> model.InboundMessage | str:
    """The reply as a message to apply, or why it cannot be read (the request is then a dead letter)."""
    if exchange.fault is None:
        try:
            msg = mapping.map_reply(tracker.system, exchange.reply)
        except (ValueError, TypeError, LookupError, AttributeError) as err:
            # a reply is outside input: JSON or XML of an unexpected shape trips the mapping on
            # whatever it meets first, and concerns that one reply only
            return f"{type(err).__name__}: {err}"
        return msg.rejected_reason if msg.rejected_reason else msg
    if exchange.bad_reply:
        return exchange.fault
    number = exchange.numbers[0]
    reject = model.Reject(f"{tracker.system}:{number}", f"{tracker.system} refused the number: {exchange.fault}",
                          "reply", exchange.reply)
    return model.InboundMessage(exchange.reply, _key(exchange), rejects=[reject])


def _dead_request(conn: Connection, store: Store, tracker: Tracker, exchange: Exchange, *, request: int,
                  why: str) -> None:
    """Dead-letter one request whose reply cannot be read: the reply as received, under the logged
    request (so two identical error pages for two batches are two dead letters), naming the carrier
    and every number asked for. The numbers stay open: the next run asks for them again."""
    numbers = ", ".join(exchange.numbers)
    reason = (f"{tracker.system} answered a request for {len(exchange.numbers)} tracking number(s) with a reply "
              f"that cannot be read ({why}); numbers: {numbers}")
    message_log.log(conn, store.vault, system=tracker.system, stream=STREAM, raw=exchange.reply,
                    key=f"{tracker.system}:{','.join(exchange.numbers)}", state="dead", now=utcnow(),
                    reason=fits.label(reason), field_path="reply", parent_id=request)
    event(log, "dead-lettered", severity=logging.WARNING, system=tracker.system, stream=STREAM,
          record=_key(exchange), reason=why)


def _key(exchange: Exchange) -> str:
    return f"{STREAM}:{','.join(exchange.numbers)}"[:300]
