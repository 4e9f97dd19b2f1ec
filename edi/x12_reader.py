"""Streaming ANSI X12 reader.

Separators come from each interchange's ISA: element separator at ISA position 4, component
separator ISA16, repetition separator ISA11 for version 00402 and later, and the segment terminator
is whatever follows ISA16 up to the next segment id (one or several characters; CR/LF after it is
tolerated). Because the ISA is located by counting its 16 element separators rather than by fixed
offsets, an ISA with wrong field widths is still read, and the envelope layer reports the widths.
CR/LF are dropped everywhere unless they are separators, so hard-wrapped files read correctly.

Example::

    for segment in X12Reader(open("in.x12", "rb")):
        print(segment[0], segment[1:])
"""

from __future__ import annotations

import re
import string
from functools import cache

from waybill.edi.errors import EdiError
from waybill.edi.model import Separators
from waybill.edi.tokenizer import ChunkedReader

#: An X12 raw segment: its elements as written, or the ISA as a tuple (ISA16 is no composite), or
#: the whole text of content segments (one, or a run of them) when the reader keeps content whole.
X12Raw = list[str] | tuple[str, ...] | str

_ALNUM = frozenset(string.ascii_letters + string.digits)
_ISA_MAX = 200  # an ISA is 106 characters; allow for sloppy widths but stop on garbage
_TERMINATOR_MAX = 4
#: the first two letters of the segments the envelope layer reads (ISA, ISB, ISE, IEA, TA1, GS,
#: GE, ST, SE): with ``whole_content`` only these are split into elements
_SPLIT = frozenset({"IS", "IE", "TA", "GS", "GE", "ST", "SE"})
_STARTS = tuple(sorted(_SPLIT))


def isa_separators(isa: list[str], element: str, segment: str) -> Separators:
    """Separators declared by an ISA segment split on ``element`` into its 17 fields."""
    version = isa[12] if len(isa) > 12 else ""
    rep = isa[11] if len(isa) > 11 else ""
    repetition = rep if version >= "00402" and len(rep) == 1 and rep not in _ALNUM else ""
    return Separators(
        element=element,
        component=isa[16] if len(isa) > 16 else "",
        segment=segment,
        repetition=repetition,
    )


class X12Reader(ChunkedReader[X12Raw]):
    """Iterate X12 segments (``[id, element, ...]``) from bytes, a path or a binary file."""

    TRAILER = "IEA"

    def _detect(self) -> list[X12Raw]:
        buf = self._buf
        chars: list[str] = []
        elem = ""
        separators_seen = 0
        i = 0
        # "ISA", the element separator, 16 of them, then ISA16; CR/LF from wrapping are skipped
        while separators_seen < 16 or chars[-1] == elem:
            if i >= len(buf):
                if not self._more():
                    raise EdiError("the ISA segment is truncated", code="TA105:023")
                buf = self._buf
            char = buf[i]
            i += 1
            if char in "\r\n":
                continue
            chars.append(char)
            if len(chars) <= 3 and char != "ISA"[len(chars) - 1]:
                raise EdiError(f"expected an ISA segment, found {buf[:20]!r}", code="TA105:022",
                               offset=self.consumed)
            if len(chars) == 4:
                elem = char
                if elem in _ALNUM or elem == " ":
                    raise EdiError(f"ISA has no usable element separator ({elem!r})",
                                   code="TA105:026")
            if char == elem:
                separators_seen += 1
            if len(chars) > _ISA_MAX:
                raise EdiError(
                    f"the ISA segment does not have 16 elements within {_ISA_MAX} characters",
                    code="TA105:022",
                )
        run: list[str] = []
        while True:
            if i >= len(buf):
                if not self._more():
                    break
                buf = self._buf
            char = buf[i]
            if char in _ALNUM:
                break
            run.append(char)
            i += 1
            # blank padding after the terminator (fixed-length records) does not count
            if sum(c not in " \t\r\n" for c in run) > _TERMINATOR_MAX:
                raise EdiError("no segment terminator after ISA16", code="TA105:004")
        raw = "".join(run)
        terminator = raw.translate({ord(c): None for c in " \t\r\n"})
        if not terminator:
            terminator = "\n" if "\n" in raw else "\r" if "\r" in raw else ""
        if not terminator:
            raise EdiError("no segment terminator after ISA16", code="TA105:004")
        isa = "".join(chars).split(elem)
        self.separators = isa_separators(isa, elem, terminator)
        self._buf = buf[i:]
        return [tuple(isa)]  # finished: ISA16 is the component separator itself

    def _pieces(self, text: str) -> list[str]:
        return text.split(self.separators.segment)

    def _split_pieces(self, pieces: list[str]) -> list[X12Raw]:
        # spaces after a terminator are layout, and empty pieces (doubled terminators) are no
        # segments; both sort before any segment id, so one C-speed min() tells they are absent
        if min(pieces) < "!":
            pieces = [p for p in (p.lstrip(" \t") for p in pieces) if p]
        elem = self.separators.element
        if self.whole_content:  # only envelope segments are split (see ChunkedReader.whole_content)
            return [p.split(elem) if p[:2] in _SPLIT else p for p in pieces]
        return [p.split(elem) for p in pieces]

    def _content_runs(self, text: str) -> list[X12Raw] | None:
        if text[:1] < "!":  # layout or an empty piece first: cleaned one by one
            return None
        return self._runs(text, _envelope_finder(self.separators.segment), _STARTS)

    def _continue(self, text: str, pos: int) -> tuple[list[X12Raw], int] | None:
        seps = self.separators
        if not text.startswith("ISA" + seps.element, pos):
            return None
        end = text.find(seps.segment, pos)
        if end < 0:
            return None
        isa = text[pos:end].split(seps.element)
        if len(isa) != 17 or len(isa[16]) != 1:
            return None
        self.separators = isa_separators(isa, seps.element, seps.segment)
        return [tuple(isa)], end + len(seps.segment)


@cache
def _envelope_finder(terminator: str) -> re.Pattern[str]:
    """Finds each terminator that a segment starting as in ``_SPLIT`` follows, and each that
    starts no segment (an empty piece, spaces, control characters), matching the terminator and
    the character after it. Its alternatives begin with a character, which the engine tests
    without entering them: most terminators cost no more than that."""
    starts: dict[str, list[str]] = {}
    for tag in sorted(_SPLIT):
        starts.setdefault(tag[0], []).append(tag[1])
    envelope = "|".join(f"{first}(?=[{''.join(seconds)}])" for first, seconds in starts.items())
    layout = r"[\x00-\x20" + re.escape(terminator) + "]"
    return re.compile(re.escape(terminator) + f"(?:{envelope}|{layout})")
