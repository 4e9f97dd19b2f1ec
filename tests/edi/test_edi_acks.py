"""Acknowledgments out (997, 999, TA1, CONTRL) and in (matched to our outbound interchanges)."""

from __future__ import annotations

import datetime as dt

from waybill.edi.acks import acknowledge, apply_acknowledgments, contrl, ta1, x12_functional_acks
from waybill.edi.hooks import AckStatus, MemoryControlNumbers, MemoryLedger, OutboundKey
from waybill.edi.serializer import write_interchange

from .util import ISA, PO_BODY, edifact, read, x12

NOW = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)


def bodies(ack):
    return [[s[0] for s in m.segments] for m in ack.messages]


def test_997_accepts_a_valid_interchange():
    [ic] = read(x12())
    [ack] = x12_functional_acks(ic)
    assert ack.type == "997" and ack.functional_id == "FA"
    assert ack.segments == [["AK1", "PO", "1"], ["AK2", "850", "0001"], ["AK5", "A"],
                            ["AK9", "A", "1", "1", "1"]]


def test_997_reports_segment_and_element_errors():
    [ic] = read(x12(["BEG*00*SA*PO-1**20261301", "ZZZ*1", *PO_BODY[1:]]))
    [ack] = x12_functional_acks(ic)
    assert ["AK3", "BEG", "2", "", "8"] in ack.segments
    assert ["AK4", "5", "", "8", "20261301"] in ack.segments
    assert ["AK3", "ZZZ", "3", "", "1"] in ack.segments
    assert ack.segments[-2] == ["AK5", "R", "5"]
    assert ack.segments[-1] == ["AK9", "R", "1", "1", "0"]


def test_997_partial_acceptance_and_envelope_codes():
    body = "ST*850*0001~BEG*00*SA*1**20260101~PO1*1*1*EA~SE*4*0001~"
    bad = "ST*850*0002~BEG*00*SA*1**20260101~PO1*1*1*EA~SE*9*0002~"
    data = ISA + "GS*PO*S*R*20260101*1200*7*X*004010~" + body + bad + "GE*2*7~IEA*1*000000001~"
    [ic] = read(data)
    [ack] = x12_functional_acks(ic)
    assert ["AK5", "R", "4"] in ack.segments
    assert ack.segments[-1] == ["AK9", "P", "2", "2", "1"]


def test_999_uses_ik_segments_and_names_the_guide():
    [ic] = read(x12(["BEG*00*SA*PO-1**20261301", *PO_BODY[1:]], gs_version="004010"))
    [ack] = x12_functional_acks(ic, "999")
    tags = [s[0] for s in ack.segments]
    assert tags == ["AK1", "AK2", "IK3", "IK4", "IK5", "AK9"]
    assert ack.version == "005010X231A1"
    out = acknowledge(ic, control_numbers=MemoryControlNumbers(), partner_id="p", kind="999", now=NOW)
    text = write_interchange(out)
    assert "ST*999*0001*005010X231A1~" in text
    [again] = read(text)
    assert again.accepted and again.messages[0].validated


def test_ta1_for_interchange_errors_and_when_requested():
    [ok] = read(x12())
    assert ta1(ok) == ["TA1", "000000001", "260101", "1200", "A", "000"]
    [bad] = read(x12(iea="IEA*1*000000002"))
    assert ta1(bad)[4:] == ["R", "001"]
    out = acknowledge(bad, control_numbers=MemoryControlNumbers(), partner_id="p", now=NOW)
    assert out.ta1 == [ta1(bad)]
    assert "TA1*000000001*260101*1200*R*001~" in write_interchange(out)
    [plain] = read(x12())
    assert acknowledge(plain, control_numbers=MemoryControlNumbers(), partner_id="p").ta1 == []


def test_ack_interchange_goes_back_to_the_sender_with_fresh_control_numbers():
    numbers = MemoryControlNumbers()
    [ic] = read(x12())
    first = acknowledge(ic, control_numbers=numbers, partner_id="p", now=NOW)
    second = acknowledge(ic, control_numbers=numbers, partner_id="p", now=NOW)
    assert (first.sender, first.receiver) == ("RECEIVER", "SENDER")
    assert first.control_number != second.control_number
    [parsed] = read(write_interchange(first))
    assert parsed.accepted and parsed.messages[0].type == "997"


def test_contrl_reports_interchange_message_segment_and_element():
    [ic] = read(edifact(unt_count=4))
    message = contrl(ic)
    assert message.type == "CONTRL"
    assert message.segments[0][:5] == ["UCI", "REF1", ("SENDER", "14"), ("RECEIVER", "14"), "7"]
    assert message.segments[1] == ["UCM", "1", ("ORDERS", "D", "96A", "UN"), "4", "29"]
    out = acknowledge(ic, control_numbers=MemoryControlNumbers(), partner_id="p", now=NOW)
    [parsed] = read(write_interchange(out))
    assert parsed.accepted and parsed.messages[0].type == "CONTRL"
    [good] = read(edifact())
    assert contrl(good).segments[0][4] == "7"


def test_inbound_997_updates_our_outbound_interchange_state():
    ledger = MemoryLedger()
    ours = OutboundKey("X12", "SENDER", "RECEIVER", "group", "1")
    ledger.expect(ours, ["0001"])
    [received] = read(x12())
    ack = acknowledge(received, control_numbers=MemoryControlNumbers(), partner_id="p", now=NOW)
    [inbound] = read(write_interchange(ack))
    unknown = apply_acknowledgments(inbound, ledger)
    assert unknown == []
    assert ledger.state[ours] == AckStatus("A", {"0001": "A"}, "1")


def test_inbound_ack_for_an_unknown_interchange_is_reported():
    [received] = read(x12())
    ack = acknowledge(received, control_numbers=MemoryControlNumbers(), partner_id="p", now=NOW)
    [inbound] = read(write_interchange(ack))
    assert apply_acknowledgments(inbound, MemoryLedger()) == [
        OutboundKey("X12", "SENDER", "RECEIVER", "group", "1")]


def test_inbound_ta1_and_contrl():
    ledger = MemoryLedger()
    key = OutboundKey("X12", "SENDER", "RECEIVER", "interchange", "000000001")
    ledger.expect(key, [])
    [bad] = read(x12(iea="IEA*1*000000002"))
    [inbound] = read(write_interchange(acknowledge(bad, control_numbers=MemoryControlNumbers(),
                                                   partner_id="p", now=NOW)))
    apply_acknowledgments(inbound, ledger)
    assert ledger.state[key].status == "R"
    edi_key = OutboundKey("EDIFACT", "SENDER", "RECEIVER", "interchange", "REF1")
    ledger.expect(edi_key, ["1"])
    [orders] = read(edifact())
    [contrl_ic] = read(write_interchange(acknowledge(orders, control_numbers=MemoryControlNumbers(),
                                                     partner_id="p", now=NOW)))
    apply_acknowledgments(contrl_ic, ledger)
    assert ledger.state[edi_key] == AckStatus("A", {"1": "A"})


def test_contrl_puts_each_groups_messages_after_its_ucf():
    message = edifact(una="")[edifact(una="").index("UNH"):edifact(una="").index("UNZ")]
    group = ("UNG+ORDERS+SENDER+RECEIVER+260101:1200+{ref}+UN+D:96A'" + message + "UNE+1+{ref}'")
    text = ("UNB+UNOC:3+SENDER:14+RECEIVER:14+260101:1200+REF1'" + group.format(ref="G1")
            + group.format(ref="G2").replace("UNT+10+1", "UNT+9+1") + "UNZ+2+REF1'")
    [ic] = read(text)
    body = contrl(ic).segments
    assert [s[0] for s in body] == ["UCI", "UCF", "UCM", "UCF", "UCM"]
    assert body[3][:2] == ["UCF", "G2"] and body[4][3:] == ["4", "29"]
    [parsed] = read(write_interchange(acknowledge(ic, control_numbers=MemoryControlNumbers(),
                                                  partner_id="p", now=NOW)))
    # CONTRL is a syntax message (ISO 9735-5), not in the UNECE trade directories: envelope only
    assert parsed.accepted and not parsed.messages[0].validated


def test_ak4_without_a_bad_value_has_no_trailing_separator():
    [ic] = read(x12(["BEG*00*SA**PO-1*20260101", *PO_BODY[1:]]))  # BEG03 (mandatory) empty
    [ack] = x12_functional_acks(ic)
    assert ["AK4", "3", "", "1"] in ack.segments
    text = write_interchange(acknowledge(ic, control_numbers=MemoryControlNumbers(), partner_id="p",
                                         now=NOW))
    assert "AK4*3**1~" in text and "AK4*3**1*~" not in text


def test_acknowledgments_are_never_acknowledged():
    [received] = read(x12())
    ack = acknowledge(received, control_numbers=MemoryControlNumbers(), partner_id="p", now=NOW)
    assert ack is not None
    for kind in ("997", "999"):
        [inbound] = read(write_interchange(acknowledge(
            received, control_numbers=MemoryControlNumbers(), partner_id="p", kind=kind, now=NOW)))
        assert acknowledge(inbound, control_numbers=MemoryControlNumbers(), partner_id="p") is None
    ta1_only = ISA.replace("*0*P*", "*1*P*") + "TA1*000000007*260101*1200*A*000~IEA*0*000000001~"
    [inbound] = read(ta1_only)
    assert inbound.accepted and inbound.ta1
    assert acknowledge(inbound, control_numbers=MemoryControlNumbers(), partner_id="p") is None
    [orders] = read(edifact())
    [contrl_ic] = read(write_interchange(acknowledge(orders, control_numbers=MemoryControlNumbers(),
                                                     partner_id="p", now=NOW)))
    assert acknowledge(contrl_ic, control_numbers=MemoryControlNumbers(), partner_id="p") is None


def test_a_group_of_acknowledgments_beside_other_groups_gets_no_997():
    fa = "GS*FA*S*R*20260101*1200*2*X*004010~ST*997*0001~AK1*PO*5~AK9*A*1*1*1~SE*4*0001~GE*1*2~"
    po = x12()
    text = po.replace("GE*1*1~IEA*1*", "GE*1*1~" + fa + "IEA*2*")
    [ic] = read(text)
    assert ic.accepted
    acks = x12_functional_acks(ic)
    assert [a.segments[0] for a in acks] == [["AK1", "PO", "1"]]


def test_contrl_uci_accepts_the_interchange_when_only_a_message_is_rejected():
    [ic] = read(edifact(unt_count=4))  # the interchange is fine, its message is not
    body = contrl(ic).segments
    assert body[0] == ["UCI", "REF1", ("SENDER", "14"), ("RECEIVER", "14"), "7"]
    assert body[1][:4] == ["UCM", "1", ("ORDERS", "D", "96A", "UN"), "4"]
    [bad] = read(edifact(unz="UNZ+1+REF2"))
    assert contrl(bad).segments[0][4] == "4"


def test_test_indicator_is_echoed():
    numbers = MemoryControlNumbers()
    [x12_test] = read(x12(isa=ISA.replace("*0*P*", "*0*T*")))
    assert x12_test.test
    out = acknowledge(x12_test, control_numbers=numbers, partner_id="p", now=NOW)
    assert out.test and out.header[15] == "T"
    [production] = read(x12())
    assert acknowledge(production, control_numbers=numbers, partner_id="p", now=NOW).header[15] == "P"
    text = edifact().replace("+REF1'UNH", "+REF1++++++1'UNH")
    [edifact_test] = read(text)
    assert edifact_test.test
    out = acknowledge(edifact_test, control_numbers=numbers, partner_id="p", now=NOW)
    assert out.test and out.header[11] == "1"
    [again] = read(write_interchange(out))
    assert again.test and again.accepted


def test_999_names_the_guide_of_st03_in_ak203():
    body = ["BEG*00*SA*PO-1**20260101", *PO_BODY[1:]]
    text = x12(body, gs_version="005010").replace("ST*850*0001~", "ST*850*0001*005010X220A1~")
    [ic] = read(text)
    [ack] = x12_functional_acks(ic, "999")
    assert ["AK2", "850", "0001", "005010X220A1"] in ack.segments
    [plain] = read(x12(gs_version="005010"))
    [ack] = x12_functional_acks(plain, "999")
    assert ["AK2", "850", "0001"] in ack.segments
