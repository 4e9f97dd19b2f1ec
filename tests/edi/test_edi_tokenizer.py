"""Chunked input shared by the readers: chunk boundaries, BOM and padding, EBCDIC."""

from __future__ import annotations

import pytest

from waybill.edi.edifact_reader import EdifactReader
from waybill.edi.errors import EdiError
from waybill.edi.x12_reader import X12Reader

from .util import edifact, segments, x12


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 64])
def test_chunk_boundaries_do_not_matter(chunk_size):
    data = x12() + "\n" + x12().replace("*", "|")
    assert segments(X12Reader, data, chunk_size) == segments(X12Reader, data)
    text = edifact(["FTX+AAI+++a?'b?+c?:d??", "BGM+220+X+9"])
    assert segments(EdifactReader, text, chunk_size) == segments(EdifactReader, text)


def test_bom_whitespace_and_dos_eof_are_ignored():
    plain = segments(X12Reader, x12())
    decorated = b"\xef\xbb\xbf \r\n" + x12().encode() + b"\r\n  \x1a"
    assert list(X12Reader(decorated)) == plain


def test_ebcdic_is_an_error_unless_asked_for():
    data = x12().encode("cp037")
    with pytest.raises(EdiError, match="EBCDIC"):
        from waybill.edi.envelope import read_interchanges
        list(read_interchanges(data))
    from waybill.edi.envelope import read_interchanges
    [interchange] = list(read_interchanges(data, encoding="cp037"))
    assert interchange.accepted and interchange.messages[0].type == "850"
