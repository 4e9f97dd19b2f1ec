"""Builders of small hand-made interchanges for the EDI tests."""

from __future__ import annotations

from pathlib import Path

from waybill.edi.envelope import read_interchanges
from waybill.edi.model import Interchange, Segment
from waybill.edi.tokenizer import ChunkedReader
from waybill.edi.validator import validate

DATA = Path(__file__).resolve().parents[1] / "data" / "edi"
CORPUS = DATA / "corpus"

ISA = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*U*00401"
       "*000000001*0*P*>~")

PO_BODY = [
    "BEG*00*SA*PO-1**20260101",
    "N1*ST*Warehouse 1*92*W1",
    "PO1*1*10*EA*2.5**VP*SKU-1",
    "PO1*2*5*EA*1**VP*SKU-2",
    "CTT*2",
]


def x12(body: list[str] | None = None, *, isa: str = ISA, set_id: str = "850", st: str = "0001",
        se_count: int | None = None, gs_version: str = "004010", ge: str | None = None,
        iea: str | None = None, functional_id: str = "PO") -> str:
    """One interchange, one group, one transaction set, with correct counts unless overridden."""
    body = PO_BODY if body is None else body
    count = len(body) + 2 if se_count is None else se_count
    control = isa.split("*")[13]
    return (isa + f"GS*{functional_id}*SENDER*RECEIVER*20260101*1200*1*X*{gs_version}~"
            + f"ST*{set_id}*{st}~" + "".join(s + "~" for s in body) + f"SE*{count}*{st}~"
            + (ge or "GE*1*1") + "~" + (iea or f"IEA*1*{control}") + "~")


ORDERS_BODY = [
    "BGM+220+PO-1+9",
    "DTM+137:20260101:102",
    "NAD+BY+5412345000013::9",
    "NAD+SU+4012345000009::9",
    "LIN+1++4000862141404:SRS",
    "QTY+21:10",
    "UNS+S",
    "CNT+2:1",
]


def edifact(body: list[str] | None = None, *, una: str = "UNA:+.? '", msg_type: str = "ORDERS:D:96A:UN",
            unt_count: int | None = None, unz: str | None = None, syntax: str = "UNOC:3") -> str:
    """One interchange with one message (no groups), default separators."""
    body = ORDERS_BODY if body is None else body
    count = len(body) + 2 if unt_count is None else unt_count
    date = "20260101" if syntax.endswith(":4") else "260101"  # 0017 is n8 in syntax version 4
    return (una + f"UNB+{syntax}+SENDER:14+RECEIVER:14+{date}:1200+REF1'"
            + f"UNH+1+{msg_type}'" + "".join(s + "'" for s in body) + f"UNT+{count}+1'"
            + (unz or "UNZ+1+REF1") + "'")


def read(data: str | bytes, **kwargs) -> list[Interchange]:
    """All interchanges of ``data``, validated against the definitions."""
    raw = data.encode("latin-1") if isinstance(data, str) else data
    kwargs.setdefault("on_message", validate)
    return list(read_interchanges(raw, **kwargs))


def codes(interchange: Interchange) -> list[str]:
    """Every qualified issue code of an interchange, its groups and messages."""
    issues = interchange.issues + [i for g in interchange.groups for i in g.issues]
    issues += [i for m in interchange.messages for i in m.issues]
    return [i.qualified_code(interchange.standard) for i in issues]


def only(data: str, **kwargs) -> Interchange:
    """The one interchange of ``data``, validated."""
    [interchange] = read(data, **kwargs)
    return interchange


def segments(reader_cls: type[ChunkedReader], data: str, chunk_size: int = 1 << 20,
             encoding: str = "latin-1") -> list[Segment]:
    """Every segment a reader of ``reader_cls`` delivers for ``data``."""
    return list(reader_cls(data.encode(encoding), chunk_size=chunk_size))
