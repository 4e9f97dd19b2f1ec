"""The partner and carrier side of the soak (tests/reliability/soak.py): the partners' SFTP servers,
the carriers' tracking APIs, the documents the partners drop between rounds, the parcels the
warehouse ships for their orders, and the end-state checks of the EDI and carrier flows.

Per seed: acme (X12) and eurotrade (EDIFACT) each get an SFTP simulator; FedEx, UPS and DHL each get
a REST tracking simulator (with the soak's faults) knowing every parcel handed to them. Each round
the partners drop new orders (now and then the same file again under another name), and every
partner order the ERP holds by then (written back by erp_sync) is shipped by the warehouse with a
tracked parcel and scanned by the TMS, and invoiced by the ERP, so the hub owes the partner a ship
notice, status messages (214, IFTSTA) and an invoice (810, INVOIC).
"""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from sim import dataset as gen
from sim import erp as erp_sim
from sim import rest_carriers
from sim import sftp as sftp_sim
from sim import tms as tms_sim
from sim import wms as wms_sim
from sim.faults import Faults
from tests.fixtures import partner_folders
from tests.fixtures.targets import set_conn
from waybill.canonical import model
from waybill.connectors import carrier_profile
from waybill.connectors.carrier_rest import TokenSource
from waybill.flows import carrier_tracking
from waybill.store import tables
from waybill.store.reads import crm as crm_reads
from waybill.store.reads import edi as edi_reads
from waybill.store.store import Store

PARTNERS = ("acme", "eurotrade")
#: the pause that proves an inbox file complete (the soak's files are written whole before a run)
SETTLE_SECONDS = 0.05
#: the carriers with a tracking simulator (DPD has no profile: its parcels are not tracked)
CARRIERS = {"FEDEX": "fedex", "UPS": "ups", "DHL": "dhl"}


@dataclass
class Exchange:
    """The partners' and carriers' simulators of one seed, and what was dropped and shipped."""

    seed: int
    rng: random.Random
    sftp: dict[str, sftp_sim.SftpSim] = field(default_factory=dict)
    carriers: dict[str, Any] = field(default_factory=dict)
    servers: list[Any] = field(default_factory=list)
    #: partner -> the purchase order numbers dropped in its inbox
    orders: dict[str, set[str]] = field(default_factory=dict)
    #: partner -> the interchange control numbers dropped
    controls: dict[str, set[str]] = field(default_factory=dict)
    #: ERP order names already shipped by the warehouse
    shipped: set[str] = field(default_factory=set)
    #: partner -> the numbers of the ERP invoices of its orders (an 810 or INVOIC each)
    invoiced: dict[str, set[str]] = field(default_factory=dict)
    files: int = 0

    def shutdown(self) -> None:
        for server in self.servers:
            with contextlib.suppress(Exception):
                server.shutdown()


def start(seed: int, folder: Path, rng: random.Random, data: gen.Dataset, faults: Faults,
          monkeypatch: pytest.MonkeyPatch, policy: dict[str, Any]) -> Exchange:
    """Start the partners' SFTP servers and the carriers' tracking APIs and point the Connections at them."""
    TokenSource.clear()  # tokens of the previous seed's simulators
    ex = Exchange(seed, rng)
    try:
        for pid in PARTNERS:
            server = sftp_sim.start(folder / "sftp" / pid, password="partner", seed=seed)
            ex.sftp[pid], ex.orders[pid], ex.controls[pid], ex.invoiced[pid] = server, set(), set(), set()
            ex.servers.append(server)
            set_conn(monkeypatch, f"waybill_partner_{pid}", conn_type="sftp", host="127.0.0.1", port=server.port,
                     login=pid, password="partner",
                     extra={"host_key": server.host_key_line, "settle_seconds": SETTLE_SECONDS})
        for code, name in CARRIERS.items():
            numbers = [s["tracking_number"] for s in data.shipments if s["carrier"] == code]
            server, api = rest_carriers.start(name, numbers, faults=faults, seed=seed)
            ex.carriers[code] = api
            ex.servers.append(server)
            secret = {"password": api.api_key} if name == "dhl" else {"login": api.tokens.client_id,
                                                                       "password": api.tokens.secret}
            set_conn(monkeypatch, f"waybill_carrier_{name}", conn_type="http", host="127.0.0.1", port=server.port,
                     extra=policy, **secret)
    except BaseException:
        ex.shutdown()
        raise
    return ex


def drop_documents(ex: Exchange, products: list[dict[str, Any]], rnd: int) -> None:
    """Each partner drops one or two new orders; now and then a file dropped before comes again
    under a new name (a partner's resend: the hub must store and acknowledge it once)."""
    for pid in PARTNERS:
        inbox = ex.sftp[pid].root / "inbox"
        for n in range(ex.rng.randint(1, 2)):
            number = f"{pid[0].upper()}{ex.seed}R{rnd}N{n}"
            control = f"{ex.seed % 1000:03d}{rnd:03d}{n:03d}"
            lines = [(p, ex.rng.randint(1, 30)) for p in ex.rng.sample(products, ex.rng.randint(1, 3))]
            data = _x12_850(number, control, lines) if pid == "acme" else _orders(number, control, lines)
            (inbox / f"{number}.edi").write_bytes(data)
            ex.orders[pid].add(number)
            ex.controls[pid].add(control)
            ex.files += 1
        if rnd and ex.rng.random() < 0.3:  # the same content again, under another name
            archived = sorted((ex.sftp[pid].root / "archive").glob("*.edi"))
            if archived:
                again = ex.rng.choice(archived)
                (inbox / f"again-{rnd}-{again.name}").write_bytes(again.read_bytes())
                ex.files += 1


def _x12_850(number: str, control: str, lines: list[tuple[dict[str, Any], int]]) -> bytes:
    """A purchase order of acme's for the ERP's products (by SKU), sold to its party 33333."""
    body = [f"BEG*00*SA*{number}**20260501", "CUR*BY*USD", "N1*BY*ACME Retail*92*33333",
            "N1*ST*ACME DC East*UL*0614141000005", "N3*100 Dock Road", "N4*Newark*NJ*07114*US"]
    body += [f"PO1*{i}*{qty}*EA*{p['list_price']:.2f}**VN*{p['default_code']}" for i, (p, qty) in enumerate(lines, 1)]
    body += [f"CTT*{len(lines)}"]
    segs = ["ST*850*0001", *body, f"SE*{len(body) + 2}*0001"]
    text = (f"ISA*00*          *00*          *08*{'AAAAAAAAAA':<15}*ZZ*{'test22222':<15}*260501*0930*U*00401*"
            f"{control}*0*P*>~\nGS*PO*AAAAAAAAAA*test22222*20260501*0930*{int(control)}*X*004010~\n"
            + "".join(s + "~\n" for s in segs) + f"GE*1*{int(control)}~\nIEA*1*{control}~\n")
    return text.encode("latin-1")


def _orders(number: str, control: str, lines: list[tuple[dict[str, Any], int]]) -> bytes:
    """An EDIFACT ORDERS of eurotrade's for the ERP's products (by GTIN)."""
    body = [f"BGM+220+{number}+9", "DTM+137:20260501:102", "NAD+BY+8799999000000::9", "NAD+SU+8712345900007::9",
            "CUX+2:EUR:9"]
    for i, (p, qty) in enumerate(lines, 1):
        body += [f"LIN+{i}++{p['barcode']}:EN", f"QTY+21:{qty}", f"PRI+AAA:{p['list_price']:.2f}"]
    body += ["UNS+S", f"CNT+2:{len(lines)}"]
    text = (f"UNA:+.? 'UNB+UNOC:3+8799999000000:14+8712345900007:14+260501:0930+{control}'UNH+1+ORDERS:D:96A:UN'"
            + "".join(s + "'" for s in body) + f"UNT+{len(body) + 2}+1'UNZ+1+{control}'")
    return text.encode("latin-1")


def ship_partner_orders(ex: Exchange, erp: erp_sim.ErpSim, wms: wms_sim.WmsSim, tms: tms_sim.TmsSim,
                        rnd: int) -> None:
    """The warehouse ships every partner order the ERP holds and has not shipped yet, with a parcel
    of a tracked carrier, the TMS scans it and the ERP invoices it: the hub then owes a ship notice,
    status messages and an invoice."""
    partner_of = {n: pid for pid, numbers in ex.orders.items() for n in numbers}
    for order in sorted(erp.models["sale.order"].rows.values(), key=lambda r: r["id"]):
        if order.get("client_order_ref") not in partner_of or order["name"] in ex.shipped:
            continue
        ex.shipped.add(order["name"])
        ex.invoiced[partner_of[order["client_order_ref"]]].add(_invoice(erp, order, rnd))
        code = ex.rng.choice(sorted(CARRIERS))
        number = {"UPS": f"1Z{ex.rng.randrange(16**16):016X}", "DHL": f"{ex.rng.randrange(10**10):010d}",
                  "FEDEX": f"{ex.rng.randrange(10**11, 10**12)}"}[code]
        api = ex.carriers[code]
        api.parcels.update(rest_carriers.generate(ex.seed + rnd, [number]))
        body = f"34006381{ex.rng.randrange(10**9):09d}"
        sid = f"SHP-{order['name']}"
        when = f"2026-05-0{rnd + 1} 09:00:00"
        wms.update("shipments", (sid,), {
            "id": sid, "order_refs": [order["name"]], "customer_ref": order["partner_id"][0]
            if isinstance(order["partner_id"], list) else order["partner_id"],
            "carrier": code, "service": "standard", "tracking_number": number,
            "packages": [{"sscc": body + gen.check_digit(body), "weight_kg": 4.2}],
            "ship_date": f"2026-05-0{rnd + 1}", "eta": f"2026-05-0{rnd + 3} 12:00:00"}, when)
        tms.scan("DEP", f"2026-05-0{rnd + 1} 10:00:00", shipment_ref=sid, location="Venlo")


def _invoice(erp: erp_sim.ErpSim, order: dict[str, Any], rnd: int) -> str:
    """The ERP invoices what it ships of `order` (every line); returns the invoice's number."""
    number = f"INV/2026/P{order['id']:05d}"
    erp.invoice(order["id"], number, day=f"2026-05-0{rnd + 1}", due="2026-06-30")
    return number


@dataclass
class Found:
    """What the partner and carrier checks found."""

    compared: int = 0
    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)
    #: the partners' documents by type (856, 214, 810, DESADV, IFTSTA, INVOIC...)
    documents: Counter[str] = field(default_factory=Counter)

    def missing(self, what: str, n: int) -> None:
        if n:
            self.lost += n
            self.problems.append(f"{n} {what} missing")

    def twice(self, what: str, counts: Counter[Any]) -> None:
        extra = sum(n - 1 for n in counts.values() if n > 1)
        if extra:
            self.duplicated += extra
            self.problems.append(f"{what} more than once: {sorted(k for k, n in counts.items() if n > 1)[:3]}")


def compare(ex: Exchange | None, store: Store, erp: erp_sim.ErpSim, crm_cases: set[str]) -> Found:
    """The end state of the partner and carrier flows (with `ex`): every order dropped is in the hub
    once and in the ERP once, every interchange registered once and acknowledged once, every
    outbound document in the partner's folder once, every carrier scan stored once; and in any
    seed: one case per shipment and problem, and the CRM's cases are the hub's."""
    found = Found()
    with store.engine.connect() as c:
        events = Counter((r.source, r.event_id) for r in tables.rows(c, "delivery_event"))
        cases = Counter((r.shipment_id, r.problem) for r in tables.rows(c, "delivery_case"))
        hub_cases = set(map(str, crm_reads.cases(c)))
        if ex is not None:
            _partners(ex, c, store, erp, found)
            _carriers(ex, c, events, found)
    found.twice("delivery events", events)
    found.twice("cases per shipment and problem", cases)
    found.compared += len(hub_cases)
    found.missing("cases in the CRM", len(hub_cases - crm_cases))
    if crm_cases - hub_cases:
        found.duplicated += len(crm_cases - hub_cases)
        found.problems.append(f"CRM cases the hub does not hold: {sorted(crm_cases - hub_cases)[:3]}")
    return found


def _partners(ex: Exchange, c: Connection, store: Store, erp: erp_sim.ErpSim, found: Found) -> None:
    hub_orders = {pid: {o.po_number for o in edi_reads.orders_from(c, store.cipher, f"edi:{pid}")} for pid in PARTNERS}
    registered = Counter((r.partner, r.control_number) for r in tables.rows(c, "interchange")
                         if r.direction == "in" and r.level == "interchange")
    erp_refs = Counter(r.get("client_order_ref") for r in erp.models["sale.order"].rows.values())
    hub_numbers = Counter(r.po_number for r in tables.rows(c, "orders"))  # the ERP's copy must be the same order
    for pid in PARTNERS:
        found.compared += len(ex.orders[pid])
        found.missing(f"{pid} orders in the hub", len(ex.orders[pid] - hub_orders[pid]))
        found.missing(f"{pid} orders in the ERP", len(ex.orders[pid] - set(erp_refs)))
        found.twice(f"{pid} orders in the ERP", Counter({n: erp_refs[n] for n in ex.orders[pid]}))
        found.twice(f"{pid} orders in the hub", Counter({n: hub_numbers[n] for n in ex.orders[pid]}))
        found.missing(f"{pid} interchanges in the registry",
                      len(ex.controls[pid] - {n for (p, n) in registered if p == pid}))
        found.twice(f"{pid} interchanges in the registry",
                    Counter({k: n for k, n in registered.items() if k[0] == pid}))
        sent = partner_folders.outbox(ex.sftp[pid].root / "outbox")
        found.compared += len(sent.documents)
        invoices = Counter(json.loads(body)[0][2] for kind, body in sent.documents.elements()
                           if kind in ("810", "INVOIC"))
        found.compared += len(ex.invoiced[pid])
        found.missing(f"{pid} invoices (810, INVOIC)", len(ex.invoiced[pid] - set(invoices)))
        found.twice(f"{pid} invoices (810, INVOIC)", invoices)
        found.documents.update(kind for kind, _ in sent.documents.elements())
        found.missing(f"{pid} acknowledgments", len(ex.controls[pid] - set(sent.acks)))
        found.twice(f"{pid} acknowledgments", sent.acks)
        found.twice(f"{pid} outbound documents", sent.documents)
        found.missing(f"{pid} outbound documents (none sent)", 0 if sent.documents else 1)


def _carriers(ex: Exchange, c: Connection, events: Counter[tuple[str, str]], found: Found) -> None:
    """Every parcel whose reply the hub took: all its scans stored (a carrier's reply holds a
    parcel's whole story; a parcel closed by the TMS before the carrier was asked is never tracked,
    rightly)."""
    tracked = {r.tracking_number: r.carrier for r in tables.rows(c, "shipment") if r.tracking_number}
    # the numbers whose reply the hub took (the keys of the logged replies; a run killed before its
    # reply was stored asked in vain, and the parcel may be closed by the TMS since)
    asked = {n for r in tables.rows(c, "message") if r.stream == "track" and r.state in ("processed", "duplicate")
             for n in r.key.partition(":")[2].split(",")}
    for code, api in ex.carriers.items():
        source = f"carrier:{CARRIERS[code]}"
        truth = _scans(CARRIERS[code], sorted(n for n in asked if tracked.get(n) == code and n in api.parcels))
        held = {(s, e) for (s, e) in events if s == source}
        found.compared += len(truth)
        found.missing(f"{code} scans", len(truth - held))
        if truth - held:
            found.problems.append(f"{code} scans missing: {sorted(truth - held)[:4]}")


def _scans(carrier: str, numbers: list[str]) -> set[tuple[str, str]]:
    """The events the carrier's simulator reports for `numbers` now, asked afresh: (source, event id)."""
    tracker = carrier_tracking.tracker_for(carrier)
    mapping = carrier_tracking.mapping_module(carrier_profile.load(carrier))
    out = set()
    for exchange in tracker.track(numbers):
        if exchange.fault is None:
            message = mapping.map_reply(tracker.system, exchange.reply)
            out |= {(e.source, e.event_id) for e in message.entities if isinstance(e, model.DeliveryEvent)}
    return out


def products(data: gen.Dataset) -> list[dict[str, Any]]:
    """The ERP's products with a SKU and a GTIN (partners order by either)."""
    return [p for p in data.erp["product.product"] if p.get("default_code") and p.get("barcode")]

