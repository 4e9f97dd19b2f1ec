"""Flow edi_inbound: pick up a partner's EDI files over SFTP, acknowledge them, store what they say.

Per complete file in the partner's inbox (waybill.connectors.sftp decides what is complete):
0. claim it: rename it on the server to a name of this worker's (SftpClient.claim), so two
   overlapping runs never read the same file; a file another run claimed is skipped, unless that
   claim is older than WAYBILL_CLAIM_SECONDS (its worker died) and then it is taken over;
1. download to WAYBILL_HOME/landing/<partner>/ and log the bytes as 'received' (committed), so a
   crash after this point cannot lose the file; a rerun finds the same logged message again;
2. read and validate every interchange with the EDI engine (duplicates through the hub's registry),
   map each message with the mapping of its set (mappings/), and apply 997/999/TA1/CONTRL that
   acknowledge our own interchanges to the outbound ledger;
3. send our 997/999/CONTRL (as the profile asks) under a name derived from the file's content, so
   a rerun never sends it twice;
4. apply the orders, events and stock levels in one transaction (waybill.store.store.apply); messages that
   fail validation or mapping are dead-lettered with their field path, the rest goes on;
5. quarantine a file that was refused as a whole (a local copy and an error note), then archive or
   delete the remote file.
The same content dropped again is recognised by its sha256 and only archived.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypedDict

from waybill.canonical import model
from waybill.connectors.sftp import RemoteFile, SftpClient, SftpError, unclaimed_name
from waybill.core.config import settings
from waybill.core.errors import RecordRejected
from waybill.core.files import write_private
from waybill.core.logs import event, get_logger
from waybill.edi.acks import ACK_TYPES, acknowledge, apply_acknowledgments
from waybill.edi.envelope import read_interchanges
from waybill.edi.errors import EdiError, Issue, Level
from waybill.edi.hooks import InterchangeRegistry
from waybill.edi.model import Interchange, Message, component, element
from waybill.edi.profiles import PartnerProfile
from waybill.edi.serializer import write_interchange
from waybill.edi.validator import Hook
from waybill.flows import replay, sync
from waybill.flows.counts import FlowCounts
from waybill.flows.partners import Partner, load_partner, partner_of
from waybill.mappings import edi_status, edi_stock, edifact_orders, x12_orders
from waybill.mappings.edi_fields import PartnerContext
from waybill.store import message_log
from waybill.store.edi_state import InboundKey, StoreControlNumbers, StoreLedger, StoreRegistry, register_inbound
from waybill.store.reads import edi as reads
from waybill.store.store import ApplyResult, Store, utcnow

log = get_logger("flows.edi_inbound")

STREAM = "edi"
#: AK502 / UCM code for a message we could not use: X12 5 (segments in error), EDIFACT 18 (unspecified).
_MAPPING_CODE = {"X12": "5", "EDIFACT": "18"}
#: AK502 / UCM code for a set the partner did not agree to send us.
_UNSUPPORTED_CODE = {"X12": "1", "EDIFACT": "18"}

#: A mapping of one message: an entity, or a list of entities and Rejects (records refused alone).
Mapper = Callable[[Message, Interchange, PartnerContext], "model.Entity | Sequence[model.Entity | model.Reject]"]

#: (standard, set) -> mapping of one message to canonical entities.
MAPPERS: dict[tuple[str, str], Mapper] = {
    ("X12", "850"): x12_orders.order_850,
    ("X12", "860"): x12_orders.order_860,
    ("X12", "940"): x12_orders.order_940,
    ("X12", "214"): edi_status.events_214,
    ("X12", "846"): edi_stock.stock_846,
    ("EDIFACT", "ORDERS"): edifact_orders.order_orders,
    ("EDIFACT", "INVRPT"): edi_stock.stock_invrpt,
    ("EDIFACT", "IFTSTA"): edi_status.events_iftsta,
}


@dataclass
class FileOutcome:
    """What reading one file gave: the message for the store, its interchanges and where each
    entity came from (for the acknowledgments, built once the store has said what it takes)."""

    inbound: model.InboundMessage
    acknowledged: int = 0  # our interchanges/groups acknowledged by this file
    interchanges: list[Interchange] = field(default_factory=list)
    #: id() of each entity mapped -> the interchange and message it came from
    origin: dict[int, tuple[Interchange, Message]] = field(default_factory=dict)


def read_file(raw: bytes, partner: Partner, *, registry: InterchangeRegistry | None = None,
              store: Store | None = None, customers: Store | None = None) -> FileOutcome:
    """Read, validate and map one file (nothing is sent or stored here; see `acknowledgments`).

    With a `store`, acknowledgments found in the file are applied to its outbound ledger. With
    `customers` (the hub), parties named by a GLN that the profile does not list are looked up among
    the hub's customers, and the purchase orders that 860s change among the partner's orders; an 860
    changes the order as an earlier message of the same file left it."""
    profile = partner.profile
    encoding = profile.encoding if profile.encoding == "cp037" else None
    out = FileOutcome(model.InboundMessage(raw))
    try:
        interchanges = list(read_interchanges(io.BytesIO(raw), encoding=encoding, registry=registry,
                                              on_message=Hook(profile.validation)))
    except EdiError as err:
        out.inbound.rejected_reason = f"not readable as EDI: {err}"
        return out
    if not interchanges:
        out.inbound.rejected_reason = "the file holds no interchange"
        return out
    if customers is not None:
        partner = _with_hub_orders(customers, _with_hub_glns(customers, partner, interchanges), interchanges)
    refused = []
    for ic in interchanges:
        who = f"interchange {ic.control_number} from {ic.sender}"
        if ic.sender != profile.partner.id or ic.receiver != profile.us.id:
            ic.issues.append(Issue(Level.INTERCHANGE, "006" if ic.standard == "X12" else "23",
                                   f"{ic.sender} -> {ic.receiver} is not partner {profile.id} to us"))
        if ic.issues or any(not g.accepted for g in ic.groups):
            refused.append(f"{who}: " + "; ".join(i.message for i in ic.issues + [
                i for g in ic.groups for i in g.issues]))
        for m in ic.messages:
            before = len(out.inbound.entities)
            _map_message(m, ic, partner, out.inbound, envelope_ok=not ic.issues)
            out.origin.update((id(e), (ic, m)) for e in out.inbound.entities[before:])
            partner = _with_orders(partner, out.inbound.entities[before:])
        if store is not None:
            out.acknowledged += _apply_acks(ic, store)
    out.interchanges = interchanges
    if len(refused) == len(interchanges):
        out.inbound.rejected_reason = " | ".join(refused)[:2000]
    return out


def _with_hub_glns(store: Store, partner: Partner, interchanges: list[Interchange]) -> Partner:
    """The partner with hub customers added for the GLNs its documents name (profile entries win)."""
    glns = {pid for ic in interchanges for m in ic.messages for seg in m.segments if seg[0] in ("N1", "NAD")
            for pid in [str(element(seg, 4)).strip() if seg[0] == "N1" else component(seg, 2)]
            if len(pid) == 13 and pid.isdigit()} - set(partner.context.parties)
    if not glns:
        return partner
    with store.engine.connect() as conn:
        found = reads.customers_by_gln(conn, glns)
    return replace(partner, context=replace(partner.context, parties={**found, **partner.context.parties}))


def _with_hub_orders(store: Store, partner: Partner, interchanges: list[Interchange]) -> Partner:
    """The partner with the hub's copies of the purchase orders its 860s change."""
    numbers = {str(element(seg, 3)).strip() for ic in interchanges for m in ic.messages if m.type == "860"
               for seg in m.segments[:3] if seg[0] == "BCH"} - {""}
    if not numbers:
        return partner
    with store.engine.connect() as conn:
        found = reads.partner_orders(conn, store.cipher, partner.system, numbers)
    return replace(partner, context=replace(partner.context, orders={**partner.context.orders, **found}))


def _with_orders(partner: Partner, entities: Sequence[model.Entity]) -> Partner:
    """The partner with the purchase orders just mapped (a later 860 of the same file changes them)."""
    mapped = {e.po_number: e for e in entities if isinstance(e, model.Order) and e.po_number
              and e.ref.external_id == f"850/{e.po_number}"}
    if not mapped:
        return partner
    return replace(partner, context=replace(partner.context, orders={**partner.context.orders, **mapped}))


def _map_message(m: Message, ic: Interchange, partner: Partner, inbound: model.InboundMessage, *,
                 envelope_ok: bool) -> None:
    """Map one message into `inbound`, or dead-letter it with the reason (and mark it for the ack)."""
    key = f"{ic.sender}/{ic.control_number}/{m.type}/{m.control_number}"
    if m.type in ACK_TYPES:
        return
    reason, path = None, None
    mapper = MAPPERS.get((ic.standard, m.type))
    if not envelope_ok:
        reason = "the interchange envelope was refused"
    elif m.issues:
        first = m.issues[0]
        reason = f"{first.qualified_code(ic.standard)} {first.message}"
        path = f"{m.type}/{m.control_number}/{first.segment_id or ''}[{first.segment_position}]"
    elif mapper is None or m.type not in partner.profile.inbound_sets:
        reason = (f"{ic.standard} {m.type} is not a set partner {partner.id} sends us" if mapper
                  else f"no mapping for {ic.standard} {m.type}")
        m.issues.append(Issue(Level.MESSAGE, _UNSUPPORTED_CODE[ic.standard], reason))
    else:
        try:
            result = mapper(m, ic, partner.context)
        except RecordRejected as err:
            reason, path = err.reason, err.field_path
        except (ValueError, ArithmeticError, LookupError) as err:  # a case the mapping did not foresee
            reason, path = f"mapping failed: {type(err).__name__}: {err}", f"{m.type}/{m.control_number}"
        else:
            for r in result if isinstance(result, Sequence) else [result]:
                if isinstance(r, model.Reject):
                    inbound.rejects.append(r)
                else:
                    inbound.entities.append(r)
            return
        m.issues.append(Issue(Level.MESSAGE, _MAPPING_CODE[ic.standard], reason))
    inbound.rejects.append(model.Reject(key, reason, path, _message_text(m, ic)))


def _message_text(m: Message, ic: Interchange) -> bytes:
    """The message's own segments as text, for its dead-letter record."""
    seps = ic.separators
    return "".join(
        seps.element.join(v if isinstance(v, str) else seps.component.join(v) for v in seg) + seps.segment
        for seg in m.segments).encode("latin-1", "replace")


def _apply_acks(ic: Interchange, store: Store) -> int:
    """Apply acknowledgments of our interchanges; unknown ones are logged, not fatal."""
    if not ic.ta1 and not any(m.type in ACK_TYPES for m in ic.messages):
        return 0
    unknown = apply_acknowledgments(ic, StoreLedger(store))
    for key in unknown:
        event(log, "ack-unknown", sender=ic.sender, level=key.level, control=key.control_number)
    total = len(ic.ta1) + sum(1 for m in ic.messages if m.type in ACK_TYPES)
    return total - len(unknown)


def refuse(outcome: FileOutcome, refused: list[tuple[model.Entity, RecordRejected]]) -> None:
    """Mark the messages whose records the store refused: their acknowledgment says rejected
    (AK5*R, UCM 4...), never accepted, and their interchange is not registered as received."""
    for entity, err in refused:
        found = outcome.origin.get(id(entity))
        if found is None:
            continue
        ic, m = found
        if not m.issues:
            where = f" at {err.field_path}" if err.field_path else ""
            reason = f"the hub refused it: {err.reason}{where}"
            m.issues.append(Issue(Level.MESSAGE, _MAPPING_CODE[ic.standard], reason))


def acknowledgments(outcome: FileOutcome, profile: PartnerProfile, store: Store) -> list[bytes]:
    """Our 997/999/CONTRL (+TA1) for each interchange of the file, as the profile asks."""
    return [ack for ic in outcome.interchanges if (ack := _acknowledgment(ic, profile, store)) is not None]


def stored_interchanges(outcome: FileOutcome, partner: str) -> list[InboundKey]:
    """The interchanges of the file to register as received: envelope accepted and something in
    it taken (a refused one keeps its control number free for the corrected resend)."""
    return [InboundKey(partner, ic.standard, ic.sender, ic.receiver, ic.control_number)
            for ic in outcome.interchanges
            if not ic.issues and (not ic.messages or any(not m.issues for m in ic.messages))]


def _acknowledgment(ic: Interchange, profile: PartnerProfile, store: Store) -> bytes | None:
    """Our 997/999/CONTRL (+TA1) for `ic`, as the profile asks; none for acknowledgments themselves."""
    if profile.sends_ack == "none":
        return None
    kind = profile.sends_ack if ic.standard == "X12" else None
    ack = acknowledge(ic, control_numbers=StoreControlNumbers(store), partner_id=profile.id,
                      separators=profile.separators, kind=kind)
    if ack is None:  # acknowledgments are not acknowledged
        return None
    return write_interchange(ack, line_end=profile.line_end).encode(profile.encoding, "replace")


# --- the flow ----------------------------------------------------------------------------------


class FileRef(TypedDict):
    """One complete inbox file as the listing saw it; small enough for XCom."""

    name: str
    size: int
    mtime: int


def ready(partner: str, store: Store | None = None) -> list[FileRef]:
    """The partner's complete inbox files: a DAG maps one `run(partner=, files=[ref])` over them.
    Files whose names are refused are recorded as rejected messages (see `record_refused_names`)."""
    p = load_partner(partner)
    with SftpClient.from_conn_id(p.conn_id, p.system) as client:
        lease = store.cfg.claim_seconds if store else settings().claim_seconds
        files = [FileRef(name=f.name, size=f.size, mtime=f.mtime) for f in client.ready_files(lease)]
        refused = client.refused
    if refused:
        own = store is None
        store = store or Store.open()
        try:
            record_refused_names(store, p, refused)
        finally:
            if own:
                store.engine.dispose()
    return files


#: the message-log stream of inbox file names refused (unsafe names are never downloaded)
NAMES_STREAM = "edi-name"


def record_refused_names(store: Store, partner: Partner, refused: dict[str, int]) -> int:
    """Record each refused inbox file name once as a rejected message (`waybill messages --state
    rejected`), so an engineer sees the file the partner thinks was delivered; returns how many are new."""
    new = 0
    for name, size in refused.items():
        raw = name.encode("utf-8", "backslashreplace")
        with store.engine.connect() as conn:
            if message_log.processed_copy(conn, partner.system, NAMES_STREAM, message_log.sha256(raw)) is not None:
                continue
        reason = f"inbox file {name!r} ({size} bytes) refused: not a plain file name; it stays in the inbox"
        store.apply(model.Batch(partner.system, NAMES_STREAM, [
            model.InboundMessage(raw, key=name.encode("ascii", "backslashreplace").decode(), rejected_reason=reason)]))
        new += 1
    return new


def run(store: Store | None = None, *, partner: str, files: list[FileRef] | None = None,
        client: SftpClient | None = None) -> FlowCounts:
    """Process the partner's complete files: exactly `files` when given (as `ready` listed them, the
    inbox is not listed again), else every complete file in the inbox.

    Counts: received (files), stored (rows written), unchanged (rows and duplicate files that changed
    nothing), rejected (files refused as a whole), dead (records dead-lettered), queued (outbox rows
    for the targets), acks (acknowledgments sent to the partner). A file whose download fails, that
    changed since it was listed or that is gone is left for the next run."""
    store = store or Store.open()
    p = load_partner(partner)
    counts = FlowCounts()
    own = client is None
    client = client or SftpClient.from_conn_id(p.conn_id, p.system)
    try:
        if files is None:
            listed = client.ready_files(store.cfg.claim_seconds)
            counts.rejected += record_refused_names(store, p, client.refused)
        else:
            listed = [RemoteFile(**ref) for ref in files]
        for f in listed:
            try:
                counts += process_file(store, p, client, f)
            except SftpError as err:  # still being written, or the server went away: next run
                event(log, "edi-file-skipped", partner=p.id, name=f.name, reason=str(err))
    finally:
        if own:
            client.close()
    counts += sync.redrive(store)
    event(log, "edi-inbound", partner=p.id, **counts.as_dict())
    return counts


def process_file(store: Store, partner: Partner, client: SftpClient, f: RemoteFile) -> FlowCounts:
    """Steps 1-5 of the module docstring for one remote file; safe to repeat after a crash."""
    system = partner.system
    landing = store.cfg.home / "landing" / partner.id
    claimed = client.claim(f, store.cfg.claim_seconds)
    if claimed is None:  # another run has it, or picked it up since it was listed
        event(log, "edi-file-gone", partner=partner.id, name=f.name)
        return FlowCounts()
    f = claimed
    name = unclaimed_name(f.name)  # the partner's name: the message key, the landing and quarantine copies
    try:
        raw = client.download(f, landing)
    except FileNotFoundError:  # taken over by another run, which thought this one dead
        event(log, "edi-file-gone", partner=partner.id, name=name)
        return FlowCounts()
    except SftpError:  # changed while downloading: back under its name for the next run
        client.release(f)
        raise
    digest = message_log.sha256(raw)
    with store.engine.connect() as conn:
        earlier = message_log.received_copy(conn, system, STREAM, digest)
    mid = earlier or store.receive(system, STREAM, raw, key=name)
    if _processed_copy(store, system, digest, mid) is not None:
        store.apply(model.Batch(system, STREAM, [model.InboundMessage(raw, key=name, message_id=mid)]))
        counts = FlowCounts(received=1, unchanged=1)
        event(log, "edi-duplicate-file", partner=partner.id, name=name, sha256=digest)
    else:
        outcome = read_file(raw, partner, registry=StoreRegistry(store, mid, partner.id), store=store,
                            customers=store)
        inbound = outcome.inbound
        inbound.key, inbound.message_id = name, mid
        batch = model.Batch(system, STREAM, [inbound])
        # What the store refuses, found in a transaction rolled back, marks its messages rejected in
        # the acknowledgments; they go out before the data is committed, so a crash in between
        # resends them under the same names (never twice) instead of losing them.
        verdict = store.apply(batch, dry_run=True)
        refuse(outcome, verdict.refused)
        acks = _send_acks(client, partner, digest, acknowledgments(outcome, partner.profile, store))
        keys = stored_interchanges(outcome, partner.id)
        result = store.apply(batch, then=lambda conn, _r: register_inbound(conn, keys, mid, utcnow()))
        _check_verdict(partner, name, verdict, result)
        counts = FlowCounts(received=1, stored=result.inserted + result.updated, unchanged=result.unchanged,
                            rejected=result.rejected, dead=result.dead, queued=result.outbox, acks=acks)
        event(log, "edi-file", partner=partner.id, name=name, sha256=digest, acks_sent=acks,
              acknowledged_ours=outcome.acknowledged, **result.counts())
        if inbound.rejected_reason:
            _quarantine(store, partner, name, raw, reason=inbound.rejected_reason)
    client.done_with(f.name)
    (landing / name).unlink(missing_ok=True)
    return counts


def _check_verdict(partner: Partner, name: str, verdict: ApplyResult, result: ApplyResult) -> None:
    """Log records the store refused although the acknowledgment (built from the dry run) accepted
    them: only a concurrent change of the hub between the two can do that."""
    expected = {id(e) for e, _ in verdict.refused}
    late = sum(1 for e, _ in result.refused if id(e) not in expected)
    if late:
        event(log, "edi-refused-after-ack", partner=partner.id, name=name, records=late)


def _send_acks(client: SftpClient, partner: Partner, digest: str, acks: list[bytes]) -> int:
    """Upload acknowledgments under names made from the file's content: a rerun sends none twice."""
    sent = 0
    for i, ack in enumerate(acks, 1):
        name = f"ack_{digest[:16]}_{i}.{'x12' if partner.profile.standard == 'X12' else 'edi'}"
        if not client.exists(name):
            client.upload(name, ack)
            sent += 1
    return sent


def _processed_copy(store: Store, system: str, digest: str, mid: int) -> int | None:
    with store.engine.connect() as conn:
        earlier = message_log.processed_copy(conn, system, STREAM, digest)
    return earlier if earlier != mid else None


def _quarantine(store: Store, partner: Partner, name: str, raw: bytes, *, reason: str) -> None:
    """Keep a refused file with a note saying why, for the integration engineer."""
    folder = store.cfg.home / "quarantine" / partner.id
    write_private(folder / name, raw)
    write_private(folder / f"{name}.error.txt", f"partner {partner.id}, file {name}\n{reason}\n".encode())
    event(log, "edi-quarantined", partner=partner.id, name=name, reason=reason[:300])


def remap(system: str, raw: bytes) -> model.InboundMessage:
    """Replay mapper: the same reading and mapping as the flow, without registry or acknowledgments.

    Replay hands mappers no store, so GLNs are looked up in the store the environment configures."""
    store = Store.open()
    try:
        return read_file(raw, partner_of(system), customers=store).inbound
    finally:
        store.engine.dispose()


replay.register("edi", STREAM, "waybill.flows.edi_inbound:remap")
