"""End to end over a real OpenSSH server: partners drop an X12 850 and EDIFACT ORDERS from the
corpus; the orders appear in the hub; 997 and CONTRL come back; a ship notice (856) and an invoice
(810) for the 850, a DESADV and an INVOIC for an ORDERS go out and pass our own EDI engine; the
partner's 997 for them closes the loop."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from waybill.canonical.model import Batch, InboundMessage, Invoice, InvoiceLine, Ref, Shipment
from waybill.edi.acks import acknowledge
from waybill.edi.envelope import read_interchanges
from waybill.edi.hooks import MemoryControlNumbers, OutboundKey
from waybill.edi.model import component, element
from waybill.edi.serializer import write_interchange
from waybill.edi.validator import validate
from waybill.flows import edi_inbound, edi_outbound
from waybill.store import message_log
from waybill.store.edi_state import StoreLedger
from waybill.store.reads import edi as reads

pytestmark = [pytest.mark.sftp, pytest.mark.e2e]

DATA = Path(__file__).resolve().parents[1] / "data" / "partners"
X12_850 = "bots_x12_850_fixed_x12_850tofixed_850_850-004010-01.x12"
ORDERS = "bots_one-on-one_edifact_order_xml_edifactorder2xml_edi_orders02.edi"


def read_folder(folder: Path) -> dict[str, list]:
    return {p.name: list(read_interchanges(p.read_bytes(), on_message=validate)) for p in sorted(folder.iterdir())}


def order_of(store, system: str, external_id: str):
    """The order `external_id` that `system` sent, as the hub holds it."""
    with store.engine.connect() as conn:
        [order] = [o for o in reads.orders_from(conn, store.cipher, system) if o.ref.external_id == external_id]
    return order


def customer_name(store, system: str, external_id: str) -> str:
    order = order_of(store, system, external_id)
    with store.engine.connect() as conn:
        return reads.customer_names(conn, [order.customer])[order.customer]


def test_partner_exchange_end_to_end(store, partners: Path, sshd, monkeypatch) -> None:
    (partners / "inbox" / "po_850.x12").write_bytes((DATA / X12_850).read_bytes())
    acme = edi_inbound.run(store, partner="acme")
    eurotrade_root = partners.parent / "eurotrade"
    for name in ("inbox", "outbox", "archive"):
        (eurotrade_root / name).mkdir(parents=True)
    (eurotrade_root / "inbox" / "orders.edi").write_bytes((DATA / ORDERS).read_bytes())
    sshd.root = eurotrade_root
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_PARTNER_EUROTRADE", sshd.connection())
    euro = edi_inbound.run(store, partner="eurotrade")

    # orders in the hub, with the customer named by the partner's ids and the lines of the documents
    raw = (DATA / ORDERS).read_text()
    numbers = set(re.findall(r"BGM\+[^+']*\+([^+']+)", raw)) - {"12345678901"}  # its only order has no lines
    with store.engine.connect() as conn:
        stored = {o.po_number for o in reads.orders_from(conn, store.cipher, "edi:eurotrade")}
        dead = {m.reason: m.field_path for m in message_log.find(conn, state="dead")}
    # two real-world faults in the corpus file are dead-lettered with their reason, the rest is stored
    assert dead == {"the order has no LIN lines": "ORDERS/I1L0401100000T", "unknown currency 'NLG'": "order.currency"}
    assert acme.stored == 1 and euro.dead == 2
    assert stored == numbers and euro.stored == len(numbers)
    assert customer_name(store, "edi:acme", "850/91393058") == "ACME Retail"
    assert customer_name(store, "edi:eurotrade", "ORDERS/123") == "Eurotrade GmbH"
    lines = [(line.gtin, line.quantity) for line in order_of(store, "edi:eurotrade", "ORDERS/123").lines]
    assert [(g, int(q)) for g, q in lines] == [("08712345004002", 50), ("08712345005009", 10), ("08712345006006", 5)]

    # acknowledgments in the partners' folders: a 997 for acme, one CONTRL per interchange for eurotrade
    [(_, [ack997])] = read_folder(partners / "outbox").items()
    assert ack997.accepted and [m.type for m in ack997.messages] == ["997"] and ack997.messages[0].validated
    contrls = [ic for ics in read_folder(eurotrade_root / "outbox").values() for ic in ics]
    assert len(contrls) == raw.count("UNB+") and all(ic.accepted and ic.messages[0].type == "CONTRL" for ic in contrls)
    actions = sorted(component(next(s for s in ic.messages[0].segments if s[0] == "UCM"), 3) for ic in contrls)
    # the order without lines (mapping) and the one in NLG (store) are refused, the rest accepted
    assert actions == ["4", "4"] + ["7"] * (len(contrls) - 2)

    # the warehouse ships the 850's order and the ERP invoices it: 856 and 810 go to acme
    order_ref = Ref("edi:acme", "850/91393058")
    ship = Shipment(Ref("wms", "SHP-77"), "2026-11-20", "UPS", tracking_number="1Z999AA10123456784",
                    sscc="003456789012345675", order_refs=(order_ref,), ship_date=dt.date(2026, 11, 20), packages=2)
    inv = Invoice(Ref("erp", "INV-501"), Ref("erp", "res.partner/1"), "2026-11-21", "INV-501", dt.date(2026, 11, 21),
                  dt.date(2026, 12, 21), "USD", Decimal("576.00"), Decimal("576.00"), order=order_ref,
                  lines=(InvoiceLine(1, Decimal(48), Decimal(12), Decimal(576), sku="17920108", description="KAK"),))
    # ... and the same for one of eurotrade's orders: DESADV and INVOIC
    euro_ref = Ref("edi:eurotrade", "ORDERS/123")
    euro_ship = Shipment(Ref("wms", "SHP-78"), "2026-11-20", "DHL", tracking_number="JD0146000033",
                         sscc="387123450000000014", order_refs=(euro_ref,), ship_date=dt.date(2026, 11, 20))
    euro_inv = Invoice(Ref("erp", "INV-502"), Ref("erp", "res.partner/2"), "2026-11-21", "INV-502",
                       dt.date(2026, 11, 21), dt.date(2026, 12, 21), "EUR", Decimal("130.00"), Decimal("130.00"),
                       order=euro_ref,
                       lines=(InvoiceLine(1, Decimal(65), Decimal(2), Decimal(130), sku="8712345004002"),))
    store.apply(Batch("wms", "shipments", [InboundMessage(b"shipments", entities=[ship, euro_ship])]))
    store.apply(Batch("erp", "invoices", [InboundMessage(b"invoices", entities=[inv, euro_inv])]))
    out = edi_outbound.run(store)
    assert out.published == 5 and out.dead == 0  # acme also gets an 855 for its order
    assert edi_outbound.run(store).received == 0  # delivered rows are not sent again
    euro_docs = [ic for n, ics in read_folder(eurotrade_root / "outbox").items() if not n.startswith("ack_")
                 for ic in ics]
    assert sorted(ic.messages[0].type for ic in euro_docs) == ["DESADV", "INVOIC"]
    assert all(ic.accepted and ic.messages[0].validated for ic in euro_docs)

    sent = {n: ics for n, ics in read_folder(partners / "outbox").items() if not n.startswith("ack_")}
    docs = {ic.messages[0].type: ic for ics in sent.values() for ic in ics}
    assert sorted(docs) == ["810", "855", "856"]
    for ic in docs.values():
        assert ic.accepted and ic.messages[0].validated, [i.message for m in ic.messages for i in m.issues]
        assert (ic.sender, ic.receiver) == ("test22222", "AAAAAAAAAA")
    segs = docs["856"].messages[0].segments
    assert [element(s, 3) for s in segs if s[0] == "HL"][:3] == ["S", "O", "P"]
    assert ["MAN", "GM", "003456789012345675"] in segs and ["PRF", "91393058"] in segs
    assert ["TDS", "57600"] in docs["810"].messages[0].segments

    # acme acknowledges our 856: the ledger moves from sent to accepted
    ic856 = docs["856"]
    key = OutboundKey("X12", "test22222", "AAAAAAAAAA", "group", ic856.groups[0].control_number)
    assert StoreLedger(store).state(key) == "sent"
    theirs = acknowledge(ic856, control_numbers=MemoryControlNumbers(start=500), partner_id="acme-side")
    (partners / "inbox" / "ack_from_acme.x12").write_text(write_interchange(theirs))
    assert edi_inbound.run(store, partner="acme").acks == 0
    assert StoreLedger(store).state(key) == "A"
