"""The shared corpus (copied to tests/data/edi/corpus, sources in SOURCES.tsv): every valid file is
accepted and round-trips; every broken one is rejected with the error the standard prescribes.

Validation is full: envelopes, and content against the definitions generated from the published
sources (X12 004010 from EdiEngine, 005010 from pyx12's maps, UN/EDIFACT from the UNECE
directories). The files under "content" below were accepted when only hand-written definitions
(which lacked syntax notes and most structures) were applied; each comment cites the rule.
"""

from __future__ import annotations

import csv

import pytest

from waybill.edi.envelope import read_interchanges
from waybill.edi.errors import EdiError
from waybill.edi.serializer import write_interchange
from waybill.edi.validator import validate

from .util import CORPUS, codes

# file -> codes that must be among its issues, or the start of the EdiError message
BROKEN = {
    # ST02 repeated inside one group; two groups with GS06 5 in one interchange
    "bots_x12_850_fixed_x12_850tofixed_850_850-004010-02.x12": {"AK502:23", "AK905:6"},
    "bots_x12_850_fixed_x12_850tofixed_850_850-004010.17.x12": {"AK502:23", "AK905:6"},
    "bots_x12_to_xml_850-856-810-997_x12_inbound_850-004010-02.x12": {"AK502:23", "AK905:6"},
    "bots_x12_to_xml_850-856-810-997_x12_inbound_850-004010.17.x12": {"AK502:23", "AK905:6"},
    "bots_x12_to_xml_supplier_version_850-856-810-997_x12_inbound_850-004010-02.x12": {"AK502:23"},
    "bots_x12_to_xml_supplier_version_850-856-810-997_x12_inbound_850-004010.17.x12": {"AK502:23"},
    "bots_one-on-one_x12_xml_x122xml_x12_mailbag01.x12": {"AK502:23", "AK905:6"},
    "bots_x12_to_xml_one-on-one_835-837_x12_2_xml_835_01.x12": {"AK502:23"},
    "bots_x12_to_xml_one-on-one_835-837_x12_2_xml_837_02.x12": {"AK502:23"},
    "bots_x12_to_xml_one-on-one_835-837_x12_2_xml_837_01.x12": {"AK905:6"},
    # UNH 111425 twice in one interchange
    "bots_xml_enveloping_demo_xml_envelope_edifact_invoic01.edi": {"UCM:26"},
    # UNT counts 8 segments, the message has 7
    "pydifact_messages_v3_aperak.edi": {"UCM:29"},
    "pydifact_messages_v3_aperak_rejected.edi": {"UCM:29"},
    "pydifact_messages_v4_aperak.edi": {"UCM:29"},
    "pydifact_messages_v4_aperak_rejected.edi": {"UCM:29"},
    # no UNZ
    "pydifact_order.edi": {"UCI:13"},
    "pydifact_order2.edi": {"UCI:13"},
    # IATA/ANSI syntax identifiers are not UN/EDIFACT; UNB date without time; UNZ ref mismatch
    "pydifact_patient1.edi": {"UCI:2", "UCI:12", "UCI:28"},
    "pydifact_patient2.edi": {"UCI:2", "UCI:12", "UCI:28"},
    "pydifact_patient3.edi": {"UCI:2", "UCI:13", "UCM:13"},
    "pydifact_wikipedia_de.edi": {"UCI:28"},
    "pydifact_wikipedia_en.edi": {"UCI:2"},
    # --- content, against the published definitions ------------------------------------------
    # X12 004010 DTM: syntax note P0506 (DTM05 and DTM06 together); "DTM*175*19980615***19"
    # carries a century in DTM05 as 003040 did, without DTM06
    "bots_x12_850_fixed_x12_850tofixed_850_850-004010-03.x12": {"AK403:2"},
    "bots_x12_850_fixed_x12_850tofixed_850_850-004010-05.x12": {"AK403:2"},
    "bots_x12_850_fixed_x12_850tofixed_850_850-004010-07.x12": {"AK403:2"},
    "bots_x12_850_fixed_x12_850tofixed_850_850-004010-08.x12": {"AK403:2"},
    "bots_x12_850_fixed_x12_850tofixed_850_850-004010-09.x12": {"AK403:2"},
    "bots_x12_850_fixed_x12_850tofixed_850_850-004010.16.x12": {"AK403:2"},
    "bots_x12_to_xml_850-856-810-997_x12_inbound_850-004010-05.x12": {"AK403:2"},
    "bots_x12_to_xml_850-856-810-997_x12_inbound_850-004010-07.x12": {"AK403:2"},
    "bots_x12_to_xml_supplier_version_850-856-810-997_x12_inbound_850-004010-05.x12": {"AK403:2"},
    "bots_x12_to_xml_supplier_version_850-856-810-997_x12_inbound_850-004010-07.x12": {"AK403:2"},
    # X12 004010 IT1: syntax note P020304 (quantity, unit and unit price together); "IT1*1*7*EA"
    # has no IT104
    "bots_x12_to_xml_supplier_version_850-856-810-997_outfile_x12_outbound_810_810_3.x12": {"AK403:2"},
    # X12 004010 BFR: syntax note R0203 (BFR02 or BFR03 required); "BFR*00***PS" has neither
    "bots_one-on-one_x12_xml_x122xml_x12_830-004010UCS-01.x12": {"AK403:2"},
    # X12 004010 820: REF and DTM directly after ENT (table 2 loop ENT holds the NM1, ADX and RMR
    # loops; REF/DTM belong inside those loops), so they are out of place
    "bots_one-on-one_x12_xml_x122xml_x12_820-004010-01.x12": {"AK304:7"},
    "bots_one-on-one_x12_xml_x122xml_x12_820-004010-02.x12": {"AK304:7"},
    "bots_one-on-one_x12_xml_x122xml_x12_820-004010UCS-01.x12": {"AK304:7"},
    "bots_one-on-one_x12_xml_x122xml_x12_820-004010UCS-02.x12": {"AK304:7"},
    "bots_one-on-one_x12_xml_x122xml_x12_820-004010VICS-01.x12": {"AK304:7"},
    "bots_one-on-one_x12_xml_x122xml_x12_820-004010VICS-02.x12": {"AK304:7"},
    # X12 004010 278/837 without their mandatory HL loop and 835 without its mandatory BPR:
    # envelope-only test sets (ST, BHT, SE)
    "bots_one-on-one_x12_xml_x122xml_x12_testx12020.x12.txt": {"AK304:3"},
    "bots_one-on-one_x12_xml_x122xml_x12_testx12021.x12.txt": {"AK304:3"},
    # 005010X222A1 (837P guide): CLM05-2 facility code qualifier is required, and loop 2410
    # (LIN, drug identification) requires CTP
    "bots_x12_to_xml_one-on-one_835-837_outfile_xml_2_x12_837005010X222A1_3.x12": {"AK403:1", "AK304:3"},
    # not EDI at all: a fixed-record file
    "bots_preprocessing_edifact_xml_edifact_0T0000000004.edi": "not an EDI file",
    # EBCDIC without a profile allowing it (accepted with one, below)
    "bots_x12_850_fixed_x12_850tofixed_850ebcdic_ebcdic.x12": "the file is EBCDIC",
}
ENCODINGS = {"bots_x12_850_fixed_x12_850tofixed_850ebcdic_ebcdic.x12": "cp037"}


def corpus_files() -> list[str]:
    with open(CORPUS / "SOURCES.tsv", newline="") as file:
        return [row["file"] for row in csv.DictReader(file, delimiter="\t")]


def test_every_copied_file_has_a_source_line():
    listed = set(corpus_files())
    present = {p.name for p in CORPUS.iterdir() if p.name != "SOURCES.tsv"}
    assert listed == present
    assert set(BROKEN) <= present


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_are_rejected_with_the_right_error(name):
    expected = BROKEN[name]
    if isinstance(expected, str):
        with pytest.raises(EdiError, match=expected):
            list(read_interchanges(CORPUS / name, on_message=validate))
        return
    interchanges = list(read_interchanges(CORPUS / name, on_message=validate))
    found = {code for ic in interchanges for code in codes(ic)}
    assert expected <= found, found
    assert not all(ic.accepted for ic in interchanges)


@pytest.mark.parametrize("name", sorted(set(corpus_files()) - (set(BROKEN) - set(ENCODINGS))))
def test_valid_files_are_accepted_and_round_trip(name):
    encoding = ENCODINGS.get(name)
    interchanges = list(read_interchanges(CORPUS / name, encoding=encoding, on_message=validate))
    assert interchanges
    for ic in interchanges:
        assert ic.accepted, (ic.control_number, codes(ic))
        text = write_interchange(ic)
        [again] = list(read_interchanges(text.encode("latin-1")))
        assert again.header == ic.header
        assert [g.header for g in again.groups] == [g.header for g in ic.groups]
        assert [m.segments for m in again.messages] == [m.segments for m in ic.messages]
        assert again.accepted
