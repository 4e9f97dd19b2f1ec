"""EDIFACT tokenizing: UNA, defaults, the release character, composites."""

from __future__ import annotations

from waybill.edi.edifact_reader import EdifactReader

from .util import edifact, segments


def test_edifact_una_and_release_character():
    text = edifact(["FTX+AAI+++Price?: 5?+3 ?'each?'??"], una="UNA:+,? '")
    segs = segments(EdifactReader, text)
    ftx = segs[2]
    assert ftx == ["FTX", "AAI", "", "", "Price: 5+3 'each'?"]


def test_edifact_defaults_without_una_and_custom_separators():
    assert segments(EdifactReader, edifact(una=""))[0][0] == "UNB"
    custom = edifact(una="").replace("+", "*").replace(":", "^").replace("'", "~")
    custom = "UNA^*.? ~" + custom
    assert segments(EdifactReader, custom) == segments(EdifactReader, edifact(una=""))


def test_edifact_composites_are_tuples():
    segs = segments(EdifactReader, edifact())
    assert segs[1] == ["UNH", "1", ("ORDERS", "D", "96A", "UN")]
