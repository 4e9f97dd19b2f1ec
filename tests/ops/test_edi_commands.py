"""`waybill edi ack` in the hub numbers acknowledgments from the store's per-partner counters."""

from __future__ import annotations

from tests.edi.util import x12
from waybill.ops.cli import main
from waybill.store.edi_state import StoreControlNumbers
from waybill.store.store import Store


def isa13(text: str) -> str:
    return text.split("~")[0].split("*")[13]


def test_ack_numbers_continue_from_the_store_counters(waybill_env, tmp_path, capsys):
    path = tmp_path / "in.x12"
    path.write_text(x12())
    assert main(["edi", "ack", str(path)]) == 0
    first = isa13(capsys.readouterr().out)
    assert main(["edi", "ack", str(path)]) == 0
    second = isa13(capsys.readouterr().out)
    assert (first, second) == ("000000001", "000000002")
    # the inbound flow draws from the same counter: the next number is not reused
    assert StoreControlNumbers(Store.open()).next("SENDER", "ISA") == 3
