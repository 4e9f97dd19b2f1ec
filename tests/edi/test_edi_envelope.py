"""Envelope checks: every error class with the standard's code and its location."""

from __future__ import annotations

import pytest

from waybill.edi.envelope import read_interchanges
from waybill.edi.errors import EdiError, Level
from waybill.edi.hooks import MemoryRegistry

from .util import ISA, codes, edifact, read, x12


def only(data: str, **kwargs):
    [interchange] = read(data, **kwargs)
    return interchange


def test_a_valid_interchange_is_accepted_with_its_parts():
    ic = only(x12())
    assert ic.accepted and codes(ic) == []
    assert (ic.standard, ic.sender, ic.receiver, ic.control_number) == ("X12", "SENDER", "RECEIVER", "000000001")
    assert [g.functional_id for g in ic.groups] == ["PO"]
    [message] = ic.messages
    assert (message.type, message.control_number, message.validated) == ("850", "0001", True)
    assert len(message.segments) == 7


@pytest.mark.parametrize("data, code, segment_id, element", [
    (x12(se_count=6), "AK502:4", "SE", 1),
    (x12().replace("SE*7*0001", "SE*7*0002"), "AK502:3", "SE", 2),
    (x12(ge="GE*2*1"), "AK905:5", None, None),
    (x12(ge="GE*1*9"), "AK905:4", None, None),
    (x12(iea="IEA*2*000000001"), "TA105:021", "IEA", 1),
    (x12(iea="IEA*1*000000009"), "TA105:001", "IEA", 2),
    (x12(st="01"), "AK502:7", "ST", 2),
])
def test_x12_counts_and_control_numbers(data, code, segment_id, element):
    ic = only(data)
    assert not ic.accepted
    issues = [i for i in ic.issues + ic.groups[0].issues + ic.messages[0].issues
              if i.qualified_code("X12") == code]
    assert issues, codes(ic)
    assert issues[0].segment_id == segment_id and issues[0].element_position == element
    assert issues[0].message


def test_x12_missing_trailers():
    text = x12()
    ic = only(text[: text.index("SE*")])
    assert {"AK502:2", "AK905:3", "TA105:023"} <= set(codes(ic))


def test_x12_transaction_set_outside_a_group_and_segments_outside_messages():
    ic = only(ISA + "ST*850*0001~BEG*00*SA*1**20260101~SE*3*0001~IEA*0*000000001~")
    assert "TA105:024" in codes(ic)
    ic = only(x12().replace("GS*", "N1*ST*X~GS*", 1))
    issue = next(i for i in ic.issues if i.code == "024")
    assert issue.segment_id == "N1" and issue.segment_position == 2


@pytest.mark.parametrize("old, new, code, element", [
    ("*SENDER         *", "*SENDER        *", "TA105:006", 6),
    ("*260101*", "*261301*", "TA105:014", 9),
    ("*1200*", "*2500*", "TA105:015", 10),
    ("*000000001*0*P", "*000000001*0*X", "TA105:020", 15),
    ("*000000001*0*P", "*000000001*5*P", "TA105:019", 14),
    ("*00401*", "*0040A*", "TA105:017", 12),
])
def test_isa_widths_and_values(old, new, code, element):
    ic = only(x12(isa=ISA.replace(old, new)))
    issue = next(i for i in ic.issues if i.qualified_code("X12") == code)
    assert issue.segment_id == "ISA" and issue.element_position == element and issue.level == Level.INTERCHANGE


def test_duplicate_interchange_is_recognised_through_the_registry():
    registry = MemoryRegistry()
    assert only(x12(), registry=registry).accepted
    again = only(x12(), registry=registry)
    assert codes(again) == ["TA105:025"]
    other = ISA.replace("*000000001*", "*000000002*")
    assert only(x12(isa=other, iea="IEA*1*000000002"), registry=registry).accepted


def test_duplicate_transaction_set_control_number_in_a_group():
    body = "ST*850*0001~BEG*00*SA*1**20260101~PO1*1*1*EA~SE*4*0001~"
    data = ISA + "GS*PO*S*R*20260101*1200*1*X*004010~" + body * 2 + "GE*2*1~IEA*1*000000001~"
    ic = only(data)
    assert "AK502:23" in codes(ic)


def test_data_outside_any_interchange_and_non_edi_are_edi_errors():
    with pytest.raises(EdiError, match="expected an ISA"):
        read(x12() + "GS*PO~")
    with pytest.raises(EdiError, match="not an EDI file"):
        read("hello, world")
    with pytest.raises(EdiError):
        read(b"")


@pytest.mark.parametrize("data, code, element", [
    (edifact(unt_count=5), "UCM:29", 1),
    (edifact().replace("UNT+10+1", "UNT+10+2"), "UCM:28", 2),
    (edifact(unz="UNZ+2+REF1"), "UCI:29", 1),
    (edifact(unz="UNZ+1+REF2"), "UCI:28", 2),
    (edifact(syntax="UNOQ:3"), "UCI:2", 1),
    (edifact().replace("260101:1200", "261399:1200"), "UCI:12", 4),
])
def test_edifact_counts_references_and_syntax(data, code, element):
    ic = only(data)
    issue = next(i for i in ic.issues + ic.messages[0].issues if i.qualified_code("EDIFACT") == code)
    assert issue.element_position == element


def test_edifact_groups_are_counted():
    group = ("UNG+ORDERS+SENDER+RECEIVER+260101:1200+G1+UN+D:96A'"
             + edifact(una="")[edifact(una="").index("UNH"):edifact(una="").index("UNZ")]
             + "UNE+1+G1'")
    text = "UNB+UNOC:3+SENDER:14+RECEIVER:14+260101:1200+REF1'" + group + "UNZ+1+REF1'"
    ic = only(text)
    assert ic.accepted and ic.groups[0].functional_id == "ORDERS"
    broken = only(text.replace("UNE+1+G1", "UNE+3+G2"))
    assert {"UCF:29", "UCF:28"} <= set(codes(broken))


def test_edifact_missing_unz_and_duplicate_message_reference():
    text = edifact()
    assert "UCI:13" in codes(only(text[: text.index("UNZ")]))
    message = text[text.index("UNH"):text.index("UNZ")]
    doubled = text.replace(message, message * 2).replace("UNZ+1", "UNZ+2")
    assert "UCM:26" in codes(only(doubled))


def test_utf8_syntax_identifier_decodes_values():
    text = edifact(["BGM+220+Müller+9"], syntax="UNOY:4", msg_type="ORDERS:D:96A:UN")
    [ic] = list(read_interchanges(text.encode("utf-8")))
    assert ic.messages[0].segments[1][2] == "Müller"


def test_streaming_mode_drops_messages_but_keeps_counts():
    seen = []
    [ic] = list(read_interchanges(x12().encode(), keep_messages=False,
                                  on_message=lambda m, i: seen.append(m.type)))
    assert ic.messages == [] and ic.message_count == 1 and seen == ["850"]
