"""Inbound mappings through the flow's reader (no SFTP): 940, 214 and 846 documents written with our
own serializer, INVRPT, and what the store makes of them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from waybill.canonical.model import Batch, Customer, DeliveryEvent, InboundMessage, Order, Ref, Shipment, StockLevel
from waybill.core.errors import ConfigError
from waybill.edi.hooks import MemoryControlNumbers
from waybill.edi.profiles import ProfileError
from waybill.edi.serializer import OutboundMessage, build_interchange, write_interchange
from waybill.flows.edi_inbound import acknowledgments, read_file
from waybill.flows.partners import load_partner
from waybill.store.reads import edi as reads


def x12(set_id: str, functional_id: str, segments: list[list]) -> bytes:
    p = load_partner("acme").profile
    ic = build_interchange("X12", p.partner, p.us, [OutboundMessage(set_id, "004010", segments, functional_id)],
                           partner_id="acme-test", control_numbers=MemoryControlNumbers(),
                           separators=p.separators, now=dt.datetime(2026, 11, 20, 8, 0))
    return write_interchange(ic, line_end="\n").encode()


STATUS_214 = [
    ["B10", "PRO123", "SHP-77", "UPSN"],
    ["LX", "1"], ["AT7", "AF", "NS", "", "", "20261118", "0930"], ["MS1", "Newark", "NJ", "US"],
    # AT703 and AT704 come in pairs (004010 AT7 syntax note P0304)
    ["LX", "2"], ["AT7", "", "", "AB", "NS", "20261121", "1700"],
    ["LX", "3"], ["AT7", "D1", "NS", "", "", "20261120", "1415"], ["MS1", "Boston", "MA", "US"],
    ["LX", "4"], ["AT7", "ZZ", "NS", "", "", "20261120", "1500"],
]


def test_214_events_estimate_only_and_unknown_code() -> None:
    out = read_file(x12("214", "QM", STATUS_214), load_partner("acme")).inbound
    assert out.rejected_reason is None
    events = [e for e in out.entities if isinstance(e, DeliveryEvent)]
    assert [(e.status, e.substatus, e.raw_code, e.estimate_only) for e in events] == [
        ("in_transit", "picked_up", "AF", False), ("in_transit", None, "AB", True), ("delivered", None, "D1", False)]
    assert events[0].tracking_number == "PRO123" and events[0].place == "Newark, NJ, US"
    assert events[1].eta == dt.datetime(2026, 11, 21, 17, 0)
    [reject] = out.rejects
    assert "unknown shipment status code 'ZZ'" in reject.reason and reject.field_path.endswith("AT7[4]/AT701")


def test_214_moves_the_shipment_and_a_resent_file_changes_nothing(store) -> None:
    store.apply(Batch("wms", "shipments", [InboundMessage(b"s", entities=[
        Shipment(Ref("wms", "SHP-77"), "1", "UPS", tracking_number="PRO123")])]))
    partner = load_partner("acme")
    first = store.apply(Batch("edi:acme", "edi", [read_file(x12("214", "QM", STATUS_214), partner).inbound]))
    again = read_file(x12("214", "QM", STATUS_214).replace(b"NS*", b"NS*", 1), partner).inbound
    again.raw += b"\n"  # another file (other bytes) carrying the same statuses
    second = store.apply(Batch("edi:acme", "edi", [again]))
    with store.engine.connect() as conn:
        ref = Ref("wms", "SHP-77")
        row = reads.shipment_view(conn, store.cipher, reads.shipment_ids(conn, [ref])[ref]).status
    assert row.status == "delivered" and row.place == "Boston, MA, US"
    assert first.inserted == 3 and first.dead == 1
    assert second.inserted == 0 and second.unchanged == 3


def test_940_is_a_fulfilment_order() -> None:
    segs = [["W05", "N", "DO-5521", "PO-88"], ["N1", "ST", "ACME DC East", "UL", "0614141000005"],
            ["N3", "100 Dock Road"], ["N4", "Newark", "NJ", "07114", "US"], ["G62", "10", "20261125"],
            ["LX", "1"], ["W01", "12", "EA", "", "UP", "012345678905", "VN", "SKU-1"],
            ["LX", "2"], ["W01", "3", "CA", "", "VN", "SKU-2"], ["W76", "15"]]
    out = read_file(x12("940", "OW", segs), load_partner("acme")).inbound
    [order] = out.entities
    assert isinstance(order, Order) and not out.rejects
    assert (order.ref, order.kind, order.po_number, order.requested_date) == (
        Ref("edi:acme", "940/DO-5521"), "fulfilment", "PO-88", dt.date(2026, 11, 25))
    assert order.ship_to.gln == "0614141000005" and order.ship_to.city == "Newark"
    assert [(x.sku, x.gtin, x.quantity, x.uom) for x in order.lines] == [
        ("SKU-1", "00012345678905", 12, "EA"), ("SKU-2", None, 3, "CA")]


def test_846_stock_levels(store) -> None:
    segs = [["BIA", "00", "MM", "INV-1", "20261120", "0800"], ["N1", "WH", "East DC", "92", "DC-EAST"],
            ["LIN", "", "UP", "012345678905", "VN", "SKU-1"], ["QTY", "17", "120", "EA"], ["QTY", "33", "100", "EA"],
            ["LIN", "", "VN", "SKU-2"], ["QTY", "33", "7", "EA"]]
    out = read_file(x12("846", "IB", segs), load_partner("acme")).inbound
    levels = [e for e in out.entities if isinstance(e, StockLevel)]
    assert [(s.item, s.location, s.on_hand, s.allocated, s.available) for s in levels] == [
        ("SKU-1", "DC-EAST", 120, 20, 100), ("SKU-2", "DC-EAST", 7, 0, 7)]
    store.apply(Batch("edi:acme", "edi", [out]))
    with store.engine.connect() as conn:
        assert [s.available for s in reads.stock_levels_from(conn, "edi:acme") if s.item == "SKU-1"] == [100]


def test_invrpt_stock_levels() -> None:
    p = load_partner("eurotrade").profile
    segs = [["BGM", "35", "R-1", "9"], ["DTM", ("137", "20261120", "102")], ["NAD", "WH", ("8712345000011", "", "9")],
            ["LIN", "1", "", ("8712345004002", "EN")], ["QTY", ("145", "40")], ["QTY", ("1", "35")],
            ["LIN", "2", "", ("ABC-9", "SA")], ["LOC", "14", "DC2"], ["QTY", ("145", "0")]]
    ic = build_interchange("EDIFACT", p.partner, p.us, [OutboundMessage("INVRPT", "D96A", segs)],
                           partner_id="euro-test", control_numbers=MemoryControlNumbers(), separators=p.separators)
    out = read_file(write_interchange(ic).encode(), load_partner("eurotrade")).inbound
    assert not out.rejects, out.rejects
    assert [(s.item, s.location, s.on_hand, s.available, s.gtin) for s in out.entities] == [
        ("08712345004002", "8712345000011", 40, 35, "08712345004002"),
        ("ABC-9", "DC2", 0, 0, None)]


def test_set_not_agreed_is_refused_in_the_ack(store) -> None:
    """A 810 from acme is a set we do not take in: dead-lettered, and its 997 says rejected (AK502 1)."""
    raw = x12("810", "IN", [["BIG", "20261120", "I-1"], ["TDS", "100"]])
    out = read_file(raw, load_partner("acme"), store=store)
    [reject] = out.inbound.rejects
    assert reject.reason == "no mapping for X12 810"
    assert b"AK5*R*1" in acknowledgments(out, load_partner("acme").profile, store)[0]


def test_buyer_found_by_gln_among_hub_customers(store, tmp_path, monkeypatch) -> None:
    """A profile that lists no parties: the buyer's GLN finds the hub customer that has it."""
    text = (Path(__file__).resolve().parents[2] / "partners" / "eurotrade.toml").read_text()
    (tmp_path / "eurotrade.toml").write_text(text.split("[hub.parties]")[0])
    monkeypatch.setenv("WAYBILL_PARTNERS", str(tmp_path))
    store.apply(Batch("erp", "customers", [InboundMessage(b"c", entities=[
        Customer(Ref("erp", "res.partner/2"), "Eurotrade GmbH", "1", gln="8799999000000")])]))
    raw = (Path(__file__).resolve().parents[1] / "data" / "partners" /
           "bots_one-on-one_edifact_order_xml_edifactorder2xml_edi_orders02.edi").read_bytes()
    partner = load_partner("eurotrade")
    assert not read_file(raw, partner).inbound.entities  # without the hub: nobody to bill
    orders = read_file(raw, partner, customers=store).inbound.entities
    assert orders and {o.customer for o in orders} == {Ref("erp", "res.partner/2")}


def test_iftsta_events_use_the_partner_code_table() -> None:
    p = load_partner("eurotrade").profile
    segs = [["BGM", "23", "ST-1", "9"], ["DTM", ("137", "20261120", "102")],
            ["CNI", "1", "CONS-1"], ["STS", "1", "6"], ["RFF", ("CN", "JD0146000033")],
            ["DTM", ("334", "202611200930", "203")], ["LOC", "14", ("NLAMS", "", "", "Amsterdam")],
            ["STS", "1", "21"], ["RFF", ("CN", "JD0146000033")], ["DTM", ("334", "202611211415", "203")],
            ["CNI", "2", "CONS-2"], ["STS", "1", "99"], ["DTM", ("334", "202611211500", "203")]]
    ic = build_interchange("EDIFACT", p.partner, p.us, [OutboundMessage("IFTSTA", "D96A", segs)],
                           partner_id="t", control_numbers=MemoryControlNumbers(), separators=p.separators)
    out = read_file(write_interchange(ic).encode(), load_partner("eurotrade")).inbound
    assert [(e.tracking_number, e.status, e.occurred_at, e.place) for e in out.entities] == [
        ("JD0146000033", "in_transit", dt.datetime(2026, 11, 20, 9, 30), "Amsterdam"),
        ("JD0146000033", "delivered", dt.datetime(2026, 11, 21, 14, 15), None)]
    [reject] = out.rejects
    assert reject.key.startswith("CONS-2/99") and reject.field_path == "IFTSTA/1/STS[3]/STS02"


def test_profile_status_codes_must_be_canonical(tmp_path, monkeypatch) -> None:
    text = (Path(__file__).resolve().parents[2] / "partners" / "eurotrade.toml").read_text()
    (tmp_path / "eurotrade.toml").write_text(text.replace('"21" = "delivered"', '"21" = "done"'))
    monkeypatch.setenv("WAYBILL_PARTNERS", str(tmp_path))
    with pytest.raises(ConfigError, match="status_codes"):
        load_partner("eurotrade")


def test_cancellation_purpose_cancels_the_order() -> None:
    raw = (Path(__file__).resolve().parents[1] / "data" / "partners" /
           "bots_x12_850_fixed_x12_850tofixed_850_850-004010-01.x12").read_bytes()
    [order] = read_file(raw.replace(b"BEG*00*SA", b"BEG*01*SA"), load_partner("acme")).inbound.entities
    assert order.status == "cancelled"


@pytest.mark.parametrize("change, message", [
    (('customer = "erp:res.partner/1"', 'customer = "erp"'), r"acme\.toml: hub\.customer: ref 'erp'"),
    (('"33333" = "erp:res.partner/1"', '"33333" = "edi:acme"'), r"acme\.toml: hub\.parties\.33333: ref"),
    (('currency = "USD"', 'currency = "dollars"'), r"acme\.toml: hub\.currency must be an ISO 4217 code"),
    (('currency = "USD"', 'currency = "USD"\nsender = "x"'), r"acme\.toml: hub\.sender is not a key of \[hub\]"),
    (('id = "acme"', 'id = "acme2"'), r"acme\.toml: id must be the file's name 'acme'"),
    (('send = "997"', 'send = "CONTRL"'), r"acme\.toml: acks\.send"),
])
def test_bad_profiles_name_the_file_and_the_key(change, message, tmp_path, monkeypatch) -> None:
    text = (Path(__file__).resolve().parents[2] / "partners" / "acme.toml").read_text()
    old, new = change
    (tmp_path / "acme.toml").write_text(text.replace(old, new, 1))
    monkeypatch.setenv("WAYBILL_PARTNERS", str(tmp_path))
    with pytest.raises(ProfileError, match=message):
        load_partner("acme")


def test_a_partner_without_a_profile_is_a_configuration_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WAYBILL_PARTNERS", str(tmp_path))
    with pytest.raises(ConfigError, match="no profile at"):
        load_partner("nobody")
