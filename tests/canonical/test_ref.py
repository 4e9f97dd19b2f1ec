"""Refs are written as "system:external_id" and read back by Ref.parse, whatever the id holds."""

from __future__ import annotations

import pytest

from waybill.canonical.model import Ref


@pytest.mark.parametrize("text, ref", [
    ("erp:res.partner/42", Ref("erp", "res.partner/42")),
    ("edi:acme:850/1", Ref("edi:acme", "850/1")),
    ("carrier:fedex:794644790138", Ref("carrier:fedex", "794644790138")),
    ("erp:SO:2026/001", Ref("erp", "SO:2026/001")),  # ':' and '/' inside the external id
    ("edi:eurotrade:ORDERS/a:b/c", Ref("edi:eurotrade", "ORDERS/a:b/c")),
    ("hub:17", Ref("hub", "17")),
])
def test_parse_reads_what_str_wrote(text: str, ref: Ref) -> None:
    assert Ref.parse(text) == ref
    assert str(ref) == text


@pytest.mark.parametrize("text", ["erp", "erp:", ":42", "edi:acme", "edi::850/1", "carrier:fedex:", ""])
def test_parse_refuses_a_missing_part(text: str) -> None:
    with pytest.raises(ValueError, match="must look like"):
        Ref.parse(text)
