"""Envelope assembly both standards share: duplicates through the registry, streaming."""

from __future__ import annotations

from waybill.edi.envelope import read_interchanges
from waybill.edi.hooks import MemoryRegistry

from .util import ISA, codes, only, x12


def test_duplicate_interchange_is_recognised_through_the_registry():
    registry = MemoryRegistry()
    assert only(x12(), registry=registry).accepted
    again = only(x12(), registry=registry)
    assert codes(again) == ["TA105:025"]
    other = ISA.replace("*000000001*", "*000000002*")
    assert only(x12(isa=other, iea="IEA*1*000000002"), registry=registry).accepted


def test_streaming_mode_drops_messages_but_keeps_counts():
    seen = []
    [ic] = list(read_interchanges(x12().encode(), keep_messages=False,
                                  on_message=lambda m, i: seen.append(m.type)))
    assert ic.messages == [] and ic.message_count == 1 and seen == ["850"]
