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
