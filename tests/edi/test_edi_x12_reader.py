"""X12 tokenizing: separators from the ISA, terminators, wrapping, several interchanges."""

from __future__ import annotations

import pytest

from waybill.edi.errors import EdiError
from waybill.edi.x12_reader import X12Reader

from .util import ISA, segments, x12


def test_x12_separators_come_from_the_isa():
    data = x12().replace("*", "|").replace("~", "\x85").replace(">", "}")
    reader = X12Reader(data.encode("latin-1"))
    segs = list(reader)
    assert [s[0] for s in segs] == ["ISA", "GS", "ST", "BEG", "N1", "PO1", "PO1", "CTT", "SE", "GE", "IEA"]
    assert reader.separators.element == "|" and reader.separators.segment == "\x85"
    assert reader.separators.component == "}"
    assert segs[5] == ["PO1", "1", "10", "EA", "2.5", "", "VP", "SKU-1"]


def test_x12_repetition_separator_only_from_version_00402():
    old = X12Reader(x12().encode())
    list(old)
    assert old.separators.repetition == ""
    new_isa = ISA.replace("*U*00401*", "*^*00501*")
    new = X12Reader(x12(isa=new_isa).encode())
    list(new)
    assert new.separators.repetition == "^"


def test_x12_multibyte_terminator_and_crlf_after_it():
    data = x12().replace("~", "\u2028\r\n").encode("utf-8")  # 3-byte UTF-8 terminator
    segs = list(X12Reader(data))
    assert segs[-1] == ["IEA", "1", "000000001"]
    assert len(segs) == 11


@pytest.mark.parametrize("width", [1, 7, 80])
def test_x12_hard_wrapped_anywhere_reads_the_same(width):
    flat = x12()
    wrapped = "\r\n".join(flat[i:i + width] for i in range(0, len(flat), width))
    assert segments(X12Reader, wrapped) == segments(X12Reader, flat)


def test_spaces_after_the_terminator_are_layout():
    assert segments(X12Reader, x12().replace("~", "~  ")) == segments(X12Reader, x12())


def test_several_interchanges_with_different_separators():
    second = x12().replace("*", "!").replace("~", "\n")
    segs = segments(X12Reader, x12() + second + x12())
    assert [s[0] for s in segs].count("ISA") == 3
    assert [s[0] for s in segs].count("IEA") == 3
    assert segs[11] [:3] == ["ISA", "00", " " * 10]


def test_x12_components_become_tuples():
    segs = segments(X12Reader, x12(["BEG*00*SA*PO-1**20260101", "MEA*PD*G*12.5*LB>2"]))
    assert segs[4][4] == ("LB", "2")


def test_truncated_isa_is_an_edi_error():
    with pytest.raises(EdiError, match="truncated"):
        list(X12Reader(b"ISA*00*    *00"))


@pytest.mark.parametrize("chunk_size", [3, 50, 1 << 20])
def test_newline_terminated_interchange_after_one_with_crlf_line_ends(chunk_size):
    first = x12().replace("~", "~\r\n")
    second = x12().replace("*", "!").replace("~", "\n")
    segs = segments(X12Reader, first + second + first, chunk_size)
    assert [s[0] for s in segs].count("IEA") == 3
    assert segs[11] == ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER         ", "ZZ",
                        "RECEIVER       ", "260101", "1200", "U", "00401", "000000001", "0", "P", ">"]
    assert segs[-11:] == segs[:11]
