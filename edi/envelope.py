"""Reading interchanges: the driver from input bytes to checked interchanges, groups and messages.

:func:`read_interchanges` reads X12 or EDIFACT (sniffed from the first bytes), checks every envelope
(ISA/IEA, GS/GE, ST/SE; UNB/UNZ, UNG/UNE, UNH/UNT: counts, control numbers, ISA widths, dates,
duplicates through an :class:`~waybill.edi.hooks.InterchangeRegistry`) and yields each interchange when it
ends. ``on_message`` sees each message as it closes (the validator hooks in there); with
``keep_messages=False`` messages are dropped afterwards so memory stays bounded by one message.
Segments come raw from the readers (split into elements, components not yet split: see
:meth:`waybill.edi.tokenizer.ChunkedReader.finish`). Envelope rules read X12 segments raw and EDIFACT ones
finished; a message's segments stay raw until it closes and are finished only when ``on_message``
or the kept interchange will see them.

The rules live by job: :mod:`waybill.edi.builder` (what both standards share),
:mod:`waybill.edi.x12_envelope`, :mod:`waybill.edi.edifact_envelope` and :mod:`waybill.edi.syntax`.
"""

from __future__ import annotations

from collections.abc import Iterator

from waybill.edi.builder import MessageHook
from waybill.edi.edifact_envelope import EdifactBuilder
from waybill.edi.edifact_reader import EdifactReader
from waybill.edi.hooks import InterchangeRegistry
from waybill.edi.model import Interchange
from waybill.edi.syntax import charset, valid_date, valid_time
from waybill.edi.tokenizer import BinaryInput, Source, open_binary, sniff
from waybill.edi.x12_envelope import X12Builder
from waybill.edi.x12_reader import X12Reader

# the syntax helpers are imported from here by code outside the engine
__all__ = ["MessageHook", "charset", "read_interchanges", "valid_date", "valid_time"]


def read_interchanges(source: Source, *, encoding: str | None = None,
                      registry: InterchangeRegistry | None = None,
                      on_message: MessageHook | None = None,
                      keep_messages: bool = True) -> Iterator[Interchange]:
    """Yield every interchange of ``source`` (X12 or EDIFACT) with its envelope issues.

    ``encoding`` is needed only for EBCDIC ("cp037"). Raises :class:`EdiError` when the input is
    not EDI at all or has data that belongs to no interchange. With ``keep_messages=False`` the
    yielded interchange's ``accepted`` covers its envelope only; ``on_message`` saw each message.
    """
    file = open_binary(source)
    head = file.read(64)
    standard, chunk_encoding = sniff(head, encoding)
    stream = _Prepend(head, file)
    builder: X12Builder | EdifactBuilder
    if standard == "X12":
        builder = X12Builder(X12Reader(stream, encoding=chunk_encoding), registry, on_message, keep_messages)
    else:
        builder = EdifactBuilder(EdifactReader(stream, encoding=chunk_encoding), registry, on_message,
                                 keep_messages)
    try:
        yield from builder.interchanges()
    finally:
        if file is not source:
            file.close()


class _Prepend:
    """A binary file whose first bytes were already read for sniffing."""

    def __init__(self, head: bytes, file: BinaryInput) -> None:
        self._head = head
        self._file = file

    def read(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head + self._file.read(max(size - len(head), 0)) if size > 0 else head + self._file.read()
        return self._file.read(size)

    def close(self) -> None:
        self._file.close()
