"""Replay: map a logged message again and apply it, after a fix (of the mapping, of a missing
reference, of a partner's data). Replaying a dead record applies that record only, mapped again
from the bytes of the message it came in; the store's apply is idempotent and a replayed record is
settled, so replaying twice changes nothing the second time.

Mappers are registered per (system family, stream): a function raw bytes -> InboundMessage. The
system family is the part before ':' (edi:ACME -> edi), so one mapper serves every partner.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from waybill.canonical import model
from waybill.core.errors import WaybillError
from waybill.store import message_log, reconcile
from waybill.store.message_log import LoggedMessage, MessageFilter
from waybill.store.store import ApplyResult, Store, record_key, utcnow

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


@dataclass(frozen=True)
class Plan:
    """What one replay does: map message `source` again and apply only its records `records` (its
    dead records' keys), or all of it when `records` is None (a message refused as a whole, or a
    processed one reprocessed on purpose)."""

    source: LoggedMessage
    records: tuple[LoggedMessage, ...] | None


@dataclass
class Outcome:
    """A replay done (or, dry, what it would do): the message, the record keys and the counts."""

    message_id: int
    records: list[str]
    result: ApplyResult
    dry_run: bool

    @property
    def failed(self) -> bool:
        return bool(self.result.dead or self.result.rejected)


def plan_for(conn: Connection, message_id: int, *, reprocess: bool = False) -> Plan | None:
    """The replay of message `message_id`: a dead record replays that record only (mapped again
    from its message's bytes); a processed message replays its dead records; a rejected message
    replays whole. None when there is nothing left to replay (already replayed: safe to run twice).
    `reprocess` applies a processed message whole again (after a mapping change)."""
    logged = message_log.get(conn, message_id)
    if logged is None:
        raise ReplayError(f"message {message_id} does not exist")
    if logged.state == "replayed":
        return None
    if logged.state == "dead":
        assert logged.parent_id is not None  # dead-letter rows are records of a logged message
        source = message_log.get(conn, logged.parent_id)
        assert source is not None
        return Plan(source, (logged,))
    if logged.state == "rejected":
        return Plan(logged, None)
    if logged.state == "processed":
        if reprocess:
            return Plan(logged, None)
        dead = tuple(r for r in message_log.children(conn, logged.id) if r.state == "dead")
        return Plan(logged, dead) if dead else None
    raise ReplayError(f"message {message_id} is {logged.state}; only dead records and rejected or processed "
                      "messages can be replayed")


def plans_for(conn: Connection, where: MessageFilter) -> list[Plan]:
    """The replays of every dead record the filter matches, one per message they came from."""
    dead = message_log.find(conn, where=replace(where, state="dead"), limit=None)
    by_source: dict[int, list[LoggedMessage]] = {}
    for record in sorted(dead, key=lambda r: r.id):
        assert record.parent_id is not None
        by_source.setdefault(record.parent_id, []).append(record)
    sources = {i: message_log.get(conn, i) for i in by_source}
    return [Plan(s, tuple(by_source[i])) for i, s in sources.items() if s is not None]


def run_plan(store: Store, plan: Plan, *, dry_run: bool = False) -> Outcome:
    """Map the plan's message again and apply it (or only its failed records); dry, roll back and
    report what would have changed."""
    source = plan.source
    with store.engine.connect() as conn:
        try:
            raw = message_log.raw_of(conn, store.cipher, source.id)
        except message_log.RawUnavailable as err:  # purged by retention or erasure
            raise ReplayError(str(err)) from None
        last_before = message_log.last_id(conn)
    inbound = mapper_for(source.system, source.stream)(source.system, raw)
    inbound.raw, inbound.key = raw, source.key
    keys = [r.key for r in plan.records] if plan.records is not None else []
    if plan.records is not None:
        _only_failed(store, inbound, keys, source)
    result = store.apply(model.Batch(source.system, source.stream, [inbound]), replay_of=source.id, dry_run=dry_run)
    if not dry_run:
        with store.begin() as conn:
            # The replayed dead records are settled; this attempt logged its own if any failed again.
            ids = None if plan.records is None else [r.id for r in plan.records]
            message_log.settle_dead(conn, source.id, up_to=last_before, now=utcnow(), ids=ids)
    return Outcome(source.id, keys, result, dry_run)


def _only_failed(store: Store, inbound: model.InboundMessage, keys: list[str], source: LoggedMessage) -> None:
    """Keep of a message mapped again only its records that failed (`keys`): by their record key; a
    mapper whose dead-letter keys name the source record differently from the entity it makes now
    (after a fix) is matched the other way round: what the hub does not hold as it is yet."""
    wanted = set(keys) | {f"{source.system}:{k}" for k in keys}
    rejects = [r for r in inbound.rejects if r.key in wanted]
    entities = [e for e in inbound.entities if record_key(e) in wanted]
    found = {r.key for r in rejects} | {record_key(e) for e in entities}
    if any(k not in found and f"{source.system}:{k}" not in found for k in keys):
        with store.engine.connect() as conn:
            held = reconcile.held(conn, store.cipher, inbound.entities, utcnow())
        entities = [e for e, h in zip(inbound.entities, held, strict=True) if not h or record_key(e) in wanted]
    if not entities and not rejects:
        raise ReplayError(f"message {source.id} mapped again holds none of the records {', '.join(keys)}")
    inbound.entities, inbound.rejects = entities, rejects


def replay(store: Store, message_id: int, *, reprocess: bool = False) -> ApplyResult:
    """Replay message `message_id` (see plan_for); an empty result when there is nothing to replay."""
    with store.engine.connect() as conn:
        plan = plan_for(conn, message_id, reprocess=reprocess)
    return run_plan(store, plan).result if plan else ApplyResult()
