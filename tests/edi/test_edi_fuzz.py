"""Mutated corpus files: nothing but EdiError escapes the engine, and nothing hangs."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waybill.edi import definitions
from waybill.edi.acks import acknowledge
from waybill.edi.envelope import read_interchanges
from waybill.edi.errors import EdiError
from waybill.edi.hooks import MemoryControlNumbers, MemoryRegistry
from waybill.edi.serializer import write_interchange
from waybill.edi.validator import validate

from .util import CORPUS, edifact, x12

SEEDS = [
    x12().encode(),
    edifact().encode(),
    (CORPUS / "bots_x12_to_xml_retailer_version_850-856-810-997_x12_inbound_856_1.x12").read_bytes(),
    (CORPUS / "bots_one-on-one_x12_xml_x122xml_x12_997-004010VICS-01.x12").read_bytes(),
    (CORPUS / "bots_edifact_orders_desadv_invoice_dutchic_edi_T0000000001.edi").read_bytes(),
    (CORPUS / "pydifact_invoice1.edi").read_bytes()[:4000],
]
SPECIAL = b"*~>^:+'?\r\n \x00\x85\xc3ISAUNAUNBGSSTSEGEIEAUNHUNTUNZ0123456789"


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat"]))
        if kind == "flip":
            data[at] = draw(st.sampled_from(SPECIAL + bytes(range(256))[::7]))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8)) if draw(st.booleans()) else \
                bytes([draw(st.sampled_from(SPECIAL))])
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 20))]
        elif kind == "truncate":
            del data[at:]
        else:
            end = min(len(data), at + draw(st.integers(1, 200)))
            data[at:at] = data[at:end]
    return bytes(data)


def exercise(data: bytes, chunk: bool) -> None:
    """Read, validate, acknowledge and write back; only EdiError may escape."""
    try:
        registry = MemoryRegistry()
        for ic in read_interchanges(data, registry=registry, on_message=validate):
            ack = acknowledge(ic, control_numbers=MemoryControlNumbers(), partner_id="p")
            if ack is not None:
                write_interchange(ack)
            with contextlib.suppress(EdiError):
                write_interchange(ic)
            if chunk:
                assert ic.standard in ("X12", "EDIFACT")
    except EdiError:
        pass


@pytest.fixture(scope="module", autouse=True)
def _directories_read():
    """The corpus's directories, parsed before examples are timed (a first use takes seconds)."""
    for directory in ("D96A", "D97A"):
        definitions.edifact(directory)


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_raise_only_edi_error(data):
    exercise(data, chunk=False)


@pytest.mark.slow
@settings(max_examples=1500, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_many_mutations_raise_only_edi_error(data):
    exercise(data, chunk=True)


@settings(max_examples=40, deadline=2000)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_edi_error(data):
    exercise(data, chunk=False)


def _segments(data: bytes, chunk_size: int):
    """All segments of ``data`` read with ``chunk_size``, or "EdiError" (its message quotes the
    buffer, which depends on the chunk size)."""
    from waybill.edi.edifact_reader import EdifactReader
    from waybill.edi.tokenizer import sniff
    from waybill.edi.x12_reader import X12Reader

    try:
        standard, encoding = sniff(data[:64], None)
        reader = X12Reader if standard == "X12" else EdifactReader
        return list(reader(data, encoding=encoding, chunk_size=chunk_size))
    except EdiError:
        return "EdiError"


@settings(max_examples=60, deadline=4000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.integers(1, 40))
def test_chunk_size_never_changes_what_is_read(data, chunk_size):
    assert _segments(data, chunk_size) == _segments(data, 1 << 20)
