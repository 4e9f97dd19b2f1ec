"""EDIFACT envelope checks: counts, references, syntax identifiers and groups with their CONTRL codes."""

from __future__ import annotations

import re

import pytest

from waybill.edi.envelope import read_interchanges

from .util import codes, edifact, only


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


@pytest.mark.parametrize("syntax, date, accepted", [
    ("UNOC:3", "260101", True),
    ("UNOC:3", "20260101", False),  # 0017 is n6 in syntax versions 1-3
    ("UNOC:4", "20260101", True),
    ("UNOC:4", "260101", False),  # and n8 in version 4
    ("UNOY:3", "260101", False),  # UNOY is a syntax 4 character set (UNSL 0001)
    ("UNOY:4", "20260101", True),
    ("UNOL:4", "20260101", True),
    ("UNOC:5", "20260101", False),
    ("UNOC:", "260101", False),  # 0002 is mandatory
])
def test_unb_syntax_identifier_and_date_follow_the_syntax_version(syntax, date, accepted):
    ic = only(re.sub(r"\+\d{6,8}:1200\+", f"+{date}:1200+", edifact(syntax=syntax), count=1))
    envelope = [i.qualified_code("EDIFACT") for i in ic.issues]
    assert (envelope == []) is accepted, envelope
    assert accepted or set(envelope) <= {"UCI:2", "UCI:12"}


@pytest.mark.parametrize("version, changes, code, element", [
    ("1", [("+REF1'", "+REF1REF1REF1REF1'")], "UCI:39", 5),  # 0020 is an..14 (UNZ 0020 too: reported once)
    ("2", [("RECEIVER:14", "RECEIVER:14:ROUTE:SUB")], "UCI:16", 3),  # S003 0046 is from version 4
    ("3", [("UNOC:3", "UNOC:3:4")], "UCI:16", 1),  # S001 0080 is from syntax version 4 only
    ("3", [("UNZ+1+REF1", "UNZ+1+REF1+X")], "UCI:16", 3),  # UNZ has two elements
    ("4", [("UNH+1+", "UNH+123456789012345+"), ("+1'UNZ", "+123456789012345'UNZ")], "UCM:39", 1),  # 0062 an..14
])
def test_service_segment_elements_follow_their_syntax_version(version, changes, code, element):
    """Service segments are checked against their syntax version's layout (StAEDI's envelope
    schemas): lengths, and elements or components that the version does not have."""
    data = edifact(syntax=f"UNOC:{version}")
    for old, new in changes:
        data = data.replace(old, new)
    ic = only(data)
    issues = ic.issues + [i for m in ic.messages for i in m.issues]
    assert [(i.qualified_code("EDIFACT"), i.element_position) for i in issues] == [(code, element)], issues


@pytest.mark.parametrize("change", [("UNOC:4", "UNOC:4:4"), ("RECEIVER:14", "RECEIVER:14:ROUTE:SUB")])
def test_an_element_of_syntax_version_4_is_accepted_there(change):
    assert only(edifact(syntax="UNOC:4").replace(*change, 1)).accepted
