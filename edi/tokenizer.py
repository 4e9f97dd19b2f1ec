"""Chunked, streaming input shared by the X12 and EDIFACT readers.

Readers pull chunks (growing to 1 MiB by default), decode them losslessly (latin-1 maps every byte
to one character, so separators and segment text can be split with ``str.split``), drop the CR/LF
that mainframes and editors insert anywhere, and hand out batches of segments. A batch never spans
two interchanges, so ``separators`` is valid for the whole batch it accompanies; batches hold at
most ``BATCH_SEGMENTS`` segments, so the lists of a batch that its consumer drops soon are freed
before the cyclic garbage collector runs (its first generation is collected every 700 net
allocations, and collecting a long-lived batch costs more than splitting it). Interchanges that
keep the separators are tokenized in place; text after one that changes them is pushed back (by
offset, uncleaned) and detected afresh. What is read never depends on the chunk size.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Sequence
from typing import Generic, Protocol, TypeVar, cast

from waybill.edi.errors import EdiError
from waybill.edi.model import Element, Segment, Separators

CHUNK_SIZE = 1 << 20
BATCH_SEGMENTS = 256
_HEADER_READ = 4096  # input read at a time while looking for an interchange header
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = " \t\r\n\f\v\x00\x1a"  # \x1a: DOS end-of-file padding
# "ISA", "UNA", "UNB" in EBCDIC (code page 037)
_EBCDIC_STARTS = (b"\xc9\xe2\xc1", b"\xe4\xd5\xc1", b"\xe4\xd5\xc2")
EBCDIC = "cp037"


class BinaryInput(Protocol):
    """What the readers need of a binary file."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


Source = bytes | str | os.PathLike[str] | BinaryInput

#: A segment as the readers deliver it: its elements as written (components not yet split), or a
#: tuple of elements when the reader has finished it already (see :meth:`ChunkedReader.finish`),
#: or its whole text, or the whole text of a run of segments (see ``ChunkedReader.whole_content``).
RawSegment = list[str] | tuple[Element, ...] | str
#: The raw segments of one reader (X12 needs no finished ones but its ISA).
RawT = TypeVar("RawT", bound=RawSegment)


def open_binary(source: Source) -> BinaryInput:
    """A binary file object for ``source``: raw bytes, a path, or an already open binary file."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source))
    if isinstance(source, str | os.PathLike):
        return open(source, "rb")
    return source


def sniff(head: bytes, encoding: str | None) -> tuple[str, str]:
    """Return (standard, encoding) from the first bytes of a file.

    Raises :class:`EdiError` for EBCDIC unless ``encoding`` says so, and for anything that does
    not start with ISA, UNA or UNB.
    """
    head = head.removeprefix(_BOM).lstrip(b" \t\r\n\f\v\x00")
    if head.startswith(_EBCDIC_STARTS):
        if encoding != EBCDIC:
            raise EdiError(
                "the file is EBCDIC-encoded; read it only for a partner whose profile sets "
                f"encoding {EBCDIC!r}"
            )
        head = head.decode(EBCDIC).encode("latin-1", "replace")
    if head.startswith(b"ISA"):
        return "X12", encoding or "latin-1"
    if head.startswith((b"UNA", b"UNB")):
        return "EDIFACT", encoding or "latin-1"
    shown = head[:20].decode("latin-1")
    raise EdiError(f"not an EDI file: expected ISA, UNA or UNB at the start, found {shown!r}")


def _after(text: str, term: str, count: int) -> int:
    """Offset in ``text`` just after its ``count``-th ``term``."""
    offset = 0
    for _ in range(count):
        offset = text.index(term, offset) + len(term)
    return offset


class ChunkedReader(Generic[RawT]):
    """Base of the readers: chunk reading, CR/LF cleaning and interchange-boundary handling.

    Subclasses implement ``_detect`` (parse an interchange header from ``_buf``, set
    ``separators``), ``_pieces``, ``_split_pieces`` and ``_continue``; ``RawT`` is the type of their
    raw segments.
    """

    TRAILER = ""
    #: the separators of the interchange being read, set when its header is read
    separators: Separators
    #: when set (by a consumer that validates message text in one step and keeps nothing), the
    #: segments of message content may be handed out as their whole text (a ``str``) instead of
    #: split into elements, several of them in one ``str`` joined by the terminator (a run: such
    #: a text holds no escaped terminator): see :meth:`split_whole` and :meth:`count`. Only
    #: readers that support it look at it.
    whole_content = False

    def __init__(self, source: Source, *, encoding: str = "latin-1", chunk_size: int = CHUNK_SIZE) -> None:
        self._file = open_binary(source)
        self._owns_file = isinstance(source, str | os.PathLike)
        self._encoding = encoding
        self._chunk_size = chunk_size
        self._buf = ""
        self._eof = False
        self._first = True
        self.consumed = 0  # characters read so far, for error offsets
        self._strip = ""  # characters dropped from chunks: CR/LF unless they are separators
        self._pending: list[tuple[str, int]] = []  # pushed-back text and where it resumes

    def _read(self, size: int = 0) -> str | None:
        """Up to ``size`` (default: the chunk size) more characters, or None at end of input.

        Text handed back by :meth:`_push_back` is read first, by offset, without copying the rest.
        """
        size = size or self._chunk_size
        if self._pending:
            text, offset = self._pending.pop()
            if offset + size < len(text):
                self._pending.append((text, offset + size))
            return text[offset:offset + size]
        if self._eof:
            return None
        # the first read is long enough to hold a whole byte-order mark
        data = self._file.read(max(size, len(_BOM)) if self._first else size)
        if not data:
            self._eof = True
            if self._owns_file:
                self._file.close()
            return None
        if self._first:
            data = data.removeprefix(_BOM)
            self._first = False
        self.consumed += len(data)
        return data.decode(self._encoding, "replace")

    def _push_back(self, text: str, offset: int) -> None:
        """Make ``text[offset:]`` the next input (the start of an interchange to detect)."""
        if offset < len(text):
            self._pending.append((text, offset))

    def _clean(self, text: str) -> str:
        for char in self._strip:
            if char in text:
                text = text.replace(char, "")
        return text

    def _more(self) -> bool:
        """Append a little more input to ``_buf`` (for header detection); False at its end."""
        chunk = self._read(_HEADER_READ)
        if chunk is None:
            return False
        self._buf += chunk
        return True

    def _next_interchange(self) -> bool:
        """Skip whitespace before the next interchange; False at a clean end of input."""
        while True:
            self._buf = self._buf.lstrip(_WHITESPACE)
            if self._buf:
                return True
            if not self._more():
                return False

    def raw_batches(self) -> Iterator[list[RawT]]:
        """Raw segments in batches; each batch belongs to one interchange (see ``separators``).

        A raw segment is split into elements, not components; :meth:`finish` gives it the
        shape of :mod:`waybill.edi.model`. Header segments (the X12 ISA) are yielded as they are.
        """
        while self._next_interchange():
            header = self._detect()
            self._strip = "".join(c for c in "\r\n" if c not in self._separator_chars())
            if header:
                yield header
            yield from self._body()

    def batches(self) -> Iterator[list[Segment]]:
        """Segments in batches, in the shape of :mod:`waybill.edi.model`; one interchange per batch."""
        for batch in self.raw_batches():
            yield self.finish(batch, self.separators)

    @staticmethod
    def finish(batch: Sequence[RawSegment], separators: Separators) -> list[Segment]:
        """``batch`` of raw segments read with ``separators``, in the shape of :mod:`waybill.edi.model`.

        A raw segment is a list of elements as written, components not yet split, or a tuple
        when the reader has finished it already (EDIFACT segments holding release characters).
        """
        comp, elem = separators.component, separators.element
        # a raw list without components is kept as the segment: a list of texts is a list of
        # elements, and nothing holds the raw list any more (hence the casts)
        if not comp:
            return cast("list[Segment]", [s if s.__class__ is list else list(s) for s in batch])
        # written out inline: a call per segment would cost a third more; a segment without
        # components (most X12 ones) is found by one search of its joined text and kept as is
        return cast("list[Segment]", [
            ([tuple(f.split(comp)) if comp in f else f for f in s] if comp in elem.join(s) else s)
            if s.__class__ is list else list(s) for s in batch])

    @staticmethod
    def split_whole(batch: Sequence[RawT], separators: Separators) -> list[RawT]:
        """``batch`` with segments kept as whole texts (and runs of them) split into elements
        (see ``whole_content``)."""
        elem, term = separators.element, separators.segment
        return [cast("RawT", piece.split(elem)) if isinstance(piece, str) else piece for s in batch
                for piece in (s.split(term) if isinstance(s, str) else (s,))]

    @staticmethod
    def count(batch: Sequence[RawSegment], separators: Separators) -> int:
        """How many segments ``batch`` holds, a run of whole texts counting each of its segments."""
        term = separators.segment
        count = len(batch)
        for s in batch:  # a loop: a message holds a few runs, a generator would cost more
            if s.__class__ is str:
                count += s.count(term)
        return count

    def __iter__(self) -> Iterator[Segment]:
        for batch in self.batches():
            yield from batch

    def _separator_chars(self) -> str:
        seps = self.separators
        return seps.element + seps.component + seps.segment + seps.repetition + seps.release

    def _detect(self) -> list[RawT]:
        raise NotImplementedError

    def _continue(self, text: str, pos: int) -> tuple[list[RawT], int] | None:
        """When ``text`` at ``pos`` starts an interchange that can be tokenized in place (same
        segment and element separators): its header segments and the position after them."""
        raise NotImplementedError

    def _split_batch(self, text: str) -> Iterator[list[RawT]]:
        """Raw segments of ``text`` (whole segments without the last terminator), in batches:
        with message content as runs where the reader can cut them (see ``_content_runs``), else
        segment by segment."""
        runs = self._content_runs(text) if self.whole_content else None
        if runs is not None:
            for start in range(0, len(runs), BATCH_SEGMENTS):
                yield runs[start:start + BATCH_SEGMENTS]
            return
        pieces = self._pieces(text)
        for start in range(0, len(pieces), BATCH_SEGMENTS):
            batch = self._split_pieces(pieces[start:start + BATCH_SEGMENTS])
            if batch:
                yield batch

    def _content_runs(self, text: str) -> list[RawT] | None:
        """The raw segments of ``text`` with message content as runs (see :meth:`_runs`), or None
        where this reader cannot cut them so (then segments are split one by one)."""
        return None

    def _runs(self, text: str, envelope: re.Pattern[str], starts: tuple[str, ...]) -> list[RawT] | None:
        """The raw segments of ``text`` (whole segments without the last terminator, no escaped
        terminator) with message content as runs (see ``whole_content``): the segments that
        ``envelope`` finds (it matches the terminator before them and their first character) or
        that begin ``text`` with one of ``starts`` are split into elements, the text between them
        is handed out whole. Only those few segments cost a Python step. None when ``envelope``
        finds a terminator that no segment follows (the character it matches after it begins
        none of ``starts``: layout, an empty piece)."""
        term, elem = self.separators.segment, self.separators.element
        if len(term) != 1 or text.endswith(term):  # a terminator of several characters, a last empty piece
            return None
        letters = {start[0] for start in starts}
        batch: list[RawT] = []
        start = 0  # where the text not yet handed out begins
        if text.startswith(starts):
            end = text.find(term)
            end = len(text) if end < 0 else end
            batch.append(cast("RawT", text[:end].split(elem)))
            start = end + 1
        for found in envelope.finditer(text, max(start - 1, 0)):
            at = found.start()
            if text[at + 1] not in letters:
                return None
            if at > start:
                batch.append(cast("RawT", text[start:at]))
            end = text.find(term, at + 1)
            end = len(text) if end < 0 else end
            batch.append(cast("RawT", text[at + 1:end].split(elem)))
            start = end + 1
        if start < len(text):
            batch.append(cast("RawT", text[start:]))
        return batch

    def _pieces(self, text: str) -> list[str]:
        """``text`` cut into segment texts (empty ones may remain: they are no segments)."""
        raise NotImplementedError

    def _split_pieces(self, pieces: list[str]) -> list[RawT]:
        """Raw segments of ``pieces`` (empty pieces are no segments)."""
        raise NotImplementedError

    def _last_terminator(self, text: str, start: int) -> int:
        """Index of the last segment terminator in ``text[start:]``, or -1."""
        return text.rfind(self.separators.segment, start)

    def _find(self, text: str, marker: str, start: int) -> int:
        """Index of ``marker`` (a terminator followed by a segment id) at or after ``start``."""
        return text.find(marker, start)

    def _body(self) -> Iterator[list[RawT]]:
        """Tokenize one interchange body (and any that follow with the same separators).

        Whole stretches of segments are cut out with ``str.find`` on "terminator + trailer id"
        and split at C speed; only envelope boundaries are handled in Python.
        """
        term, trailer = self.separators.segment, self.TRAILER + self.separators.element
        marker = term + trailer
        raw = self._buf  # kept so a next interchange with other separators sees CR/LF intact
        text = self._clean(raw)
        self._buf = ""
        start = 0
        size = _HEADER_READ
        while True:
            if text.startswith(trailer, start):
                found = start
            else:
                found = self._find(text, marker, start)
                found = found + len(term) if found >= 0 else -1
            end = text.find(term, found) if found >= 0 else -1
            if end >= 0:
                yield from self._split_batch(text[start:end])
                pos = end + len(term)
                while pos < len(text) and text[pos] in _WHITESPACE:
                    pos += 1
                header = self._continue(text, pos) if pos < len(text) else None
                if header is not None:
                    segments, start = header
                    if segments:
                        yield segments
                    continue
                if raw is text:
                    self._push_back(text, pos)
                else:  # the same point in the raw text: after as many terminators
                    self._push_back(raw, _after(raw, term, text.count(term, 0, pos)))
                return
            cut = self._last_terminator(text, start)
            if cut >= 0:
                yield from self._split_batch(text[start:cut])
                tail = text[cut + len(term):]
            else:
                tail = text[start:]
            # reads grow from small to the chunk size, so a short interchange followed by one
            # with other separators does not cost a whole chunk of copying
            size = min(size * 2, self._chunk_size)
            chunk = self._read(size)
            if chunk is None:
                tail = tail.strip(_WHITESPACE)
                if tail:
                    yield from self._split_batch(tail)  # last segment without terminator
                return
            raw_tail = tail
            if raw is not text:
                raw_cut = raw.rfind(term)
                raw_tail = raw[raw_cut + len(term):] if raw_cut >= 0 else raw
            cleaned = self._clean(chunk)
            text = tail + cleaned
            raw = text if raw_tail is tail and cleaned is chunk else raw_tail + chunk
            start = 0
