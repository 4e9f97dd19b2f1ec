"""X12 envelope checks: every error class with its TA105/AK905/AK502 code and its location."""

from __future__ import annotations

import pytest

from waybill.edi.errors import Level

from .util import ISA, codes, only, x12


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


def test_duplicate_transaction_set_control_number_in_a_group():
    body = "ST*850*0001~BEG*00*SA*1**20260101~PO1*1*1*EA~SE*4*0001~"
    data = ISA + "GS*PO*S*R*20260101*1200*1*X*004010~" + body * 2 + "GE*2*1~IEA*1*000000001~"
    ic = only(data)
    assert "AK502:23" in codes(ic)


def test_isb_ise_and_ta1_may_stand_between_isa_and_gs():
    service = "ISB*1~ISE*260102*1300~TA1*000000005*260101*1200*A*000~"
    ic = only(x12(isa=ISA.replace("*00401*", "*00402*")).replace("~GS*", "~" + service + "GS*", 1))
    assert ic.accepted, codes(ic)
    assert [s[0] for s in ic.service] == ["ISB", "ISE"] and ic.ta1[0][1] == "000000005"
    from waybill.edi.serializer import write_interchange
    assert service in write_interchange(ic)
