"""Reading interchanges: what the driver yields, and input that is no EDI."""

from __future__ import annotations

import pytest

from waybill.edi.errors import EdiError

from .util import codes, only, read, x12


def test_a_valid_interchange_is_accepted_with_its_parts():
    ic = only(x12())
    assert ic.accepted and codes(ic) == []
    assert (ic.standard, ic.sender, ic.receiver, ic.control_number) == ("X12", "SENDER", "RECEIVER", "000000001")
    assert [g.functional_id for g in ic.groups] == ["PO"]
    [message] = ic.messages
    assert (message.type, message.control_number, message.validated) == ("850", "0001", True)
    assert len(message.segments) == 7


def test_data_outside_any_interchange_and_non_edi_are_edi_errors():
    with pytest.raises(EdiError, match="expected an ISA"):
        read(x12() + "GS*PO~")
    with pytest.raises(EdiError, match="not an EDI file"):
        read("hello, world")
    with pytest.raises(EdiError):
        read(b"")
