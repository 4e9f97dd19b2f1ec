"""Writing: per-partner separators, control numbers from counters, counts, escaping."""

from __future__ import annotations

import datetime as dt

import pytest

from waybill.edi.errors import EdiError
from waybill.edi.hooks import MemoryControlNumbers
from waybill.edi.model import EDIFACT_DEFAULT, Separators
from waybill.edi.serializer import OutboundMessage, Party, build_interchange, write_interchange

from .util import read

NOW = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
US, THEM = Party("WAYBILL", "ZZ"), Party("ACME", "08")
SHIP_NOTICE = OutboundMessage("856", "004010", [
    ["BSN", "00", "SH1", "20260102", "0304"], ["HL", "1", "", "S"], ["TD1", "CTN", "1"],
    ["HL", "2", "1", "O"], ["PRF", "PO-1"], ["HL", "3", "2", "I"], ["LIN", "", "VP", "SKU-1"],
    ["SN1", "", "5", "EA"], ["MEA", "PD", "G", "1.5", ("LB",)], ["CTT", "3"]], "SH")


PIPES = Separators("|", "}", "\n", "^")


def build(messages, numbers, seps=PIPES, version="00501"):
    return build_interchange("X12", US, THEM, messages, partner_id="acme", control_numbers=numbers,
                             separators=seps, interchange_version=version, now=NOW)


def test_x12_interchange_with_partner_separators_counts_and_numbers():
    numbers = MemoryControlNumbers(start=41)
    out = build([SHIP_NOTICE, SHIP_NOTICE], numbers)
    text = write_interchange(out)
    assert text.startswith("ISA|00|          |00|          |ZZ|WAYBILL        |08|ACME           "
                           "|260102|0304|^|00501|000000041|0|P|}\n")
    assert "ST|856|0041\n" in text and "ST|856|0042\n" in text and "SE|12|0042\n" in text
    assert text.endswith("GE|2|41\nIEA|1|000000041\n")
    [parsed] = read(text)
    assert parsed.accepted, parsed.messages[0].issues
    assert parsed.separators.repetition == "^"


def test_control_numbers_are_never_reused():
    numbers = MemoryControlNumbers()
    seen = set()
    for _ in range(5):
        out = build([SHIP_NOTICE], numbers)
        seen.add(out.control_number)
    assert len(seen) == 5


def test_messages_are_grouped_by_functional_id_and_version():
    invoice = OutboundMessage("810", "004010", [["BIG", "20260102", "INV-1"], ["TDS", "100"]], "IN")
    out = build([SHIP_NOTICE, invoice, SHIP_NOTICE], MemoryControlNumbers())
    assert [(g.functional_id, g.message_count) for g in out.groups] == [("SH", 2), ("IN", 1)]
    [parsed] = read(write_interchange(out))
    assert parsed.accepted


def test_x12_value_holding_a_separator_cannot_be_written():
    bad = OutboundMessage("856", "004010", [["BSN", "00", "A|B", "20260102", "0304"]], "SH")
    with pytest.raises(EdiError, match="separator"):
        write_interchange(build([bad], MemoryControlNumbers()))


def test_edifact_values_are_escaped_and_read_back():
    message = OutboundMessage("ORDERS", "D96A", [
        ["BGM", "220", "PO:1+2'3?", "9"], ["DTM", ("137", "20260102", "102")],
        ["NAD", "BY", ("5412345000013", "", "9")], ["UNS", "S"]])
    out = build_interchange("EDIFACT", US, THEM, [message], partner_id="acme",
                            control_numbers=MemoryControlNumbers(), separators=EDIFACT_DEFAULT,
                            now=NOW)
    text = write_interchange(out)
    assert "BGM+220+PO?:1?+2?'3??+9'" in text
    assert text.startswith("UNA:+.? 'UNB+UNOC:3+WAYBILL:ZZ+ACME:08+260102:0304+1'")
    [parsed] = read(text)
    assert parsed.accepted
    assert parsed.messages[0].segments[1] == ["BGM", "220", "PO:1+2'3?", "9"]


def test_text_encoding_follows_the_syntax_identifier():
    from waybill.edi.serializer import text_encoding

    from .util import edifact, x12

    [utf8] = read(edifact(["BGM+220+Müller+9"], syntax="UNOY:4").encode("utf-8"))
    assert text_encoding(utf8) == "utf-8"
    [[latin], [plain]] = read(edifact()), read(x12())
    assert text_encoding(latin) == "latin-1" and text_encoding(plain) == "latin-1"
    again = read(write_interchange(utf8).encode(text_encoding(utf8)))
    assert again[0].messages[0].segments[1][2] == "Müller"
