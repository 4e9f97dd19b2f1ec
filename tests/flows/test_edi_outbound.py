"""The outbound flow against a real OpenSSH server: redelivery never sends twice, rows that concern
no partner are settled, rows that cannot be mapped are dead with the reason; replay after a fix."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from waybill.canonical.model import Batch, DeliveryEvent, InboundMessage, Invoice, Ref, Shipment
from waybill.connectors.sftp import SftpClient
from waybill.edi.envelope import read_interchanges
from waybill.edi.validator import validate
from waybill.flows import edi_inbound, edi_outbound, replay
from waybill.flows.counts import FlowCounts
from waybill.flows.partners import partners_dir
from waybill.store import message_log, outbox
from waybill.store.reads import edi as reads

pytestmark = pytest.mark.sftp

DATA = Path(__file__).resolve().parents[1] / "data" / "partners"
X12_850 = "bots_x12_850_fixed_x12_850tofixed_850_850-004010-01.x12"
ORDER = Ref("edi:acme", "850/91393058")


@pytest.fixture
def acme_order(store, partners: Path) -> Path:
    (partners / "inbox" / "po.x12").write_bytes((DATA / X12_850).read_bytes())
    edi_inbound.run(store, partner="acme")
    assert edi_outbound.run(store).published == 1  # the 855 answering the order
    for p in (partners / "outbox").iterdir():
        p.unlink()  # keep only what each test's outbound run sends
    return partners


def ship(store, ext: str, order_refs: tuple[Ref, ...]) -> None:
    s = Shipment(Ref("wms", ext), "1", "UPS", tracking_number=f"1Z{ext}", order_refs=order_refs,
                 ship_date=dt.date(2026, 11, 20))
    store.apply(Batch("wms", "shipments", [InboundMessage(ext.encode(), entities=[s])]))


def outbox_states(store) -> dict[str, str]:
    with store.engine.connect() as conn:
        rows = reads.deliveries(conn)
    return {f"{r.entity}:{r.state}": r.reason for r in rows}


def test_redelivery_after_a_crash_sends_once(store, acme_order: Path, monkeypatch) -> None:
    ship(store, "S1", (ORDER,))
    real = edi_outbound._settle

    def crash(*_a, **_k):  # the worker dies after the upload, before the row is marked delivered
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr(edi_outbound, "_settle", crash)
    with pytest.raises(KeyboardInterrupt):
        edi_outbound.run(store)
    monkeypatch.setattr(edi_outbound, "_settle", real)
    assert edi_outbound.run(store).published == 1
    assert len(list((acme_order / "outbox").iterdir())) == 1
    assert outbox_states(store) == {"order:delivered": None, "shipment:delivered": None}


def test_rows_for_no_partner_are_settled_and_unmappable_rows_are_dead(store, acme_order: Path) -> None:
    ship(store, "S2", (Ref("erp", "SO-1"),))  # a shipment of an ERP order: nothing to tell partners
    with store.engine.connect() as conn:
        order_id = reads.order_ids(conn, [ORDER])[ORDER]
    inv = Invoice(Ref("erp", "INV-0"), Ref("erp", "res.partner/1"), "1", "INV-0", dt.date(2026, 11, 21),
                  dt.date(2026, 12, 21), "USD", Decimal(0), Decimal(0), order=ORDER)  # no lines
    store.apply(Batch("erp", "invoices", [InboundMessage(b"inv", entities=[inv])]))
    counts = edi_outbound.run(store)
    assert counts == FlowCounts(received=2, published=0, dead=1, unchanged=1, retry=0)
    states = outbox_states(store)
    assert "the invoice has no lines" in states["invoice:dead"] and "edi:acme" in states["invoice:dead"]
    assert order_id and not any((acme_order / "outbox").iterdir())


def test_dead_record_replays_after_the_profile_is_fixed(store, partners: Path, tmp_path: Path,
                                                        monkeypatch) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (partners_dir() / "acme.toml").read_text()
    (profiles / "acme.toml").write_text(text.replace('customer = "erp:res.partner/1"\n', "").replace(
        '"33333" = "erp:res.partner/1"', '"44444" = "erp:res.partner/1"'))
    monkeypatch.setenv("WAYBILL_PARTNERS", str(profiles))
    (partners / "inbox" / "po.x12").write_bytes((DATA / X12_850).read_bytes())
    assert edi_inbound.run(store, partner="acme").dead == 1
    with store.engine.connect() as conn:
        [dead] = message_log.find(conn, state="dead")
    (profiles / "acme.toml").write_text(text)  # the integration engineer adds the buyer's id
    result = replay.replay(store, dead.id)
    assert result.inserted == 1
    with store.engine.connect() as conn:
        assert [o.ref.external_id for o in reads.orders_from(conn, store.cipher, "edi:acme")] == ["850/91393058"]
        assert message_log.get(conn, dead.id).state == "replayed"


def test_outbound_uses_given_clients(store, acme_order: Path, sshd) -> None:
    """One client per partner can be handed in (a DAG task keeps its connection open)."""
    ship(store, "S3", (ORDER,))
    client = SftpClient.from_conn_id("waybill_partner_acme", "edi:acme")
    with client:
        assert edi_outbound.run(store, clients={"acme": client}).published == 1
    assert [p.name.split("_")[0] for p in (acme_order / "outbox").iterdir()] == ["856"]


def test_fulfilment_shipment_gets_a_945_and_orders_an_855_where_subscribed(store, acme_order: Path) -> None:
    segs_940 = (b"ISA*00*          *00*          *08*AAAAAAAAAA     *ZZ*test22222      *261120*0800*U*00401*"
                b"000000777*0*P*>~GS*OW*AAAAAAAAAA*test22222*20261120*0800*77*X*004010~ST*940*0001~"
                b"W05*N*DO-9*PO-9~N1*ST*East*UL*0614141000005~G62*10*20261125~LX*1~W01*4*EA**VN*SKU-1~"
                b"SE*7*0001~GE*1*77~IEA*1*000000777~")
    (acme_order / "inbox" / "so.x12").write_bytes(segs_940)
    assert edi_inbound.run(store, partner="acme").stored == 1
    for p in (acme_order / "outbox").iterdir():
        p.unlink()
    ship(store, "S4", (Ref("edi:acme", "940/DO-9"),))
    counts = edi_outbound.run(store)
    sent = sorted(p.name.split("_")[0] for p in (acme_order / "outbox").iterdir())
    assert sent == ["855", "945"] and counts.published == 2


def test_status_change_after_the_856_goes_out_as_a_214(store, acme_order: Path) -> None:
    ship(store, "S5", (ORDER,))
    assert edi_outbound.run(store).published == 1  # first notice: the 856
    scan = DeliveryEvent("tms-1", "delivered", "DEL", dt.datetime(2026, 11, 22, 14, 5), "tms",
                         tracking_number="1ZS5", place="Boston, MA, US")
    store.apply(Batch("tms", "events", [InboundMessage(b"scan", entities=[scan])]))
    assert edi_outbound.run(store).published == 1
    files = sorted((acme_order / "outbox").iterdir())
    assert [p.name.split("_")[0] for p in files] == ["214", "856"]
    [ic] = read_interchanges(files[0].read_bytes(), on_message=validate)
    segs = ic.messages[0].segments
    assert ic.accepted and ic.messages[0].validated
    assert ["AT7", "D1", "NS", "", "", "20261122", "1405"] in segs and ["MS1", "Boston", "MA", "US"] in segs
    assert ["L11", "91393058", "PO"] in segs


def test_refused_host_key_keeps_rows_pending(store, acme_order: Path, sshd, monkeypatch) -> None:
    ship(store, "S6", (ORDER,))
    ship(store, "S7", (ORDER,))
    impostor = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcx/0kYhFuwMJvE9eStFA2qo3ETTHvvc0nX2C0krP8c"
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_PARTNER_ACME", sshd.connection(host_key=impostor))
    counts = edi_outbound.run(store)
    assert counts == FlowCounts(received=2, published=0, dead=0, unchanged=0, retry=2)
    with store.engine.connect() as conn:
        rows = [r for r in reads.deliveries(conn) if r.entity == "shipment"]
    assert [r.state for r in rows] == ["pending", "pending"] and "host key" in rows[0].reason
    assert [r.attempts for r in rows] == [1, 0]  # the second row was not tried against a refused server
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_PARTNER_ACME", sshd.connection())
    assert edi_outbound.run(store).published == 2


def test_a_status_change_for_an_edifact_partner_is_an_iftsta() -> None:
    """What was dead-lettered before ("IFTSTA not written yet") now goes out, from the same
    delivery event as the 214."""
    from waybill.canonical.views import ShipmentDocument, ShipmentStatus
    from waybill.flows.partners import load_partner

    shipment = Shipment(Ref("wms", "S9"), "1", "DHL", tracking_number="JD01", order_refs=(ORDER,))
    status = ShipmentStatus("in_transit", "X6", dt.datetime(2026, 11, 21, 9, 30), "Venlo, LI, NL")
    subject = ShipmentDocument(shipment, status)
    now = dt.datetime(2026, 11, 21, 10, 0)
    edifact = edi_outbound.document(edi_outbound.Outgoing(load_partner("eurotrade"), subject, True), now)
    x12 = edi_outbound.document(edi_outbound.Outgoing(load_partner("acme"), subject, True), now)
    assert (edifact.type, x12.type) == ("IFTSTA", "214")
    assert ["STS", "1", "31"] in edifact.segments  # 31: en route


def test_a_change_that_leaves_the_status_as_it_was_sends_no_second_214(store, acme_order: Path) -> None:
    """Each version of a shipment queues a row, but a partner hears of a status once: a row whose 214
    would repeat the last one sent (same status, time and place) is settled without sending."""
    ship(store, "S6", (ORDER,))
    assert edi_outbound.run(store).published == 1  # the 856
    scan = DeliveryEvent("tms-6", "in_transit", "DEP", dt.datetime(2026, 11, 21, 10, 0), "tms",
                         tracking_number="1ZS6", place="Venlo")
    store.apply(Batch("tms", "events", [InboundMessage(b"scan", entities=[scan])]))
    # the same status at the same time from another source: only the carrier's code changes
    same = DeliveryEvent("ups-6", "in_transit", "OR", dt.datetime(2026, 11, 21, 10, 0), "ups",
                         tracking_number="1ZS6", place="Venlo")
    store.apply(Batch("ups", "events", [InboundMessage(b"ups", entities=[same])]))
    assert edi_outbound.run(store) == FlowCounts(received=2, published=1, unchanged=1)
    ship(store, "S6", (ORDER,))  # unchanged: no row
    s = Shipment(Ref("wms", "S6"), "2", "UPS", tracking_number="1ZS6", order_refs=(ORDER,),
                 ship_date=dt.date(2026, 11, 20), packages=2)  # a change the 214 does not carry
    store.apply(Batch("wms", "shipments", [InboundMessage(b"S6 v2", entities=[s])]))
    assert edi_outbound.run(store) == FlowCounts(received=1, unchanged=1)
    assert sorted(p.name.split("_")[0] for p in (acme_order / "outbox").iterdir()) == ["214", "856"]


def test_a_row_waits_while_an_earlier_row_of_its_shipment_is_held(store, acme_order: Path) -> None:
    """Another worker holding the shipment's first row: the later row neither sends a second 856
    nor a 214 before it; it waits, and once the first row is delivered it goes out as a 214."""
    ship(store, "S7", (ORDER,))
    with store.begin() as conn:
        [held] = outbox.claim(conn, edi_outbound.TARGET, worker="other", now=dt.datetime.now(dt.UTC).replace(
            tzinfo=None), lease=dt.timedelta(minutes=10))
    scan = DeliveryEvent("tms-7", "delivered", "DEL", dt.datetime(2026, 11, 22, 9, 0), "tms",
                         tracking_number="1ZS7")
    store.apply(Batch("tms", "events", [InboundMessage(b"scan", entities=[scan])]))
    assert edi_outbound.run(store) == FlowCounts(received=1, retry=1)
    assert not any((acme_order / "outbox").iterdir())
    with store.begin() as conn:
        outbox.release(conn, [held.id], "other")
    assert edi_outbound.run(store).published == 2
    assert sorted(p.name.split("_")[0] for p in (acme_order / "outbox").iterdir()) == ["214", "856"]
