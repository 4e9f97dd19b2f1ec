"""Streaming UN/EDIFACT reader.

Separators come from the UNA service string advice when present, else the ISO 9735 defaults
(``:+.? '``). The release character escapes separators: splitting is a plain ``str.split`` on the
terminator, and only pieces ending in an odd run of release characters are joined back, so escaped
text costs little. Values are returned unescaped. CR/LF are dropped unless they are separators.

Most EDIFACT elements hold components, and splitting them costs more than all the rest of reading.
Raw segments (see :meth:`~waybill.edi.tokenizer.ChunkedReader.raw_batches`) are split into elements only;
:meth:`~waybill.edi.tokenizer.ChunkedReader.finish` splits the components, so the envelope layer does it
only for the segments someone sees. Segments holding release characters are finished at once.

The UNB syntax identifier (UNOA..UNOY) is read by the envelope layer; bytes are decoded as latin-1
here (lossless; every separator is ASCII, so UTF-8 text splits correctly) and re-decoded for the
other character sets (UNOD..UNOK, UNOW, UNOY) by :func:`waybill.edi.syntax.recode`.
"""

from __future__ import annotations

import re
from functools import cache

from waybill.edi.errors import EdiError
from waybill.edi.model import EDIFACT_DEFAULT, Segment, Separators
from waybill.edi.tokenizer import ChunkedReader, RawSegment


def split_escaped(text: str, sep: str, release: str) -> list[str]:
    """Split ``text`` on ``sep`` except where escaped; escapes are kept for a later split."""
    pieces = text.split(sep)
    if not release or release not in text:
        return pieces
    out: list[str] = []
    carry: str | None = None
    for piece in pieces:
        whole = piece if carry is None else carry + sep + piece
        if whole.endswith(release) and (len(whole) - len(whole.rstrip(release))) % 2:
            carry = whole  # the separator after it is escaped
        else:
            carry = None
            out.append(whole)
    if carry is not None:
        out.append(carry)
    return out


@cache
def _release_pattern(release: str) -> re.Pattern[str]:
    return re.compile(re.escape(release) + "(.)", re.DOTALL)


def unescape(value: str, release: str) -> str:
    """Remove release characters, keeping the characters they escape."""
    if not release or release not in value:
        return value
    return _release_pattern(release).sub(r"\1", value)


def _escaped_fields(seg: str, seps: Separators) -> Segment:
    """Elements and components of a segment that contains release characters."""
    fields: Segment = []
    for raw in split_escaped(seg, seps.element, seps.release):
        parts = split_escaped(raw, seps.component, seps.release)
        if len(parts) == 1:
            fields.append(unescape(raw, seps.release))
        else:
            fields.append(tuple(unescape(p, seps.release) for p in parts))
    return fields


class EdifactReader(ChunkedReader[RawSegment]):
    """Iterate EDIFACT segments (``[tag, element, ...]``) from bytes, a path or a binary file.

    ``una`` holds the UNA text of the current interchange ("" when absent).
    """

    TRAILER = "UNZ"

    una = ""

    def _detect(self) -> list[RawSegment]:
        while len(self._buf) < 12 and self._more():
            pass
        buf = self._buf
        if buf.startswith("UNA"):
            chars: list[str] = []
            i = 3
            while len(chars) < 6:
                if i >= len(buf):
                    raise EdiError("the UNA service string advice is truncated", code="UCI:13")
                if buf[i] not in "\r\n":
                    chars.append(buf[i])
                i += 1
            comp, elem, decimal, release, repetition, term = chars
            if len({comp, elem, term}) != 3 or (release != " " and release in (comp, elem, term)):
                raise EdiError(f"UNA declares clashing separators {''.join(chars)!r}", code="UCI:20")
            self.separators = Separators(
                element=elem,
                component=comp,
                segment=term,
                repetition="" if repetition == " " else repetition,
                release="" if release == " " else release,
                decimal=decimal,
            )
            self.una = "UNA" + "".join(chars)
            self._buf = buf[i:]
        elif buf.startswith("UNB"):
            self.separators = EDIFACT_DEFAULT
            self.una = ""
        else:
            raise EdiError(
                f"expected UNA or UNB, found {buf[:20]!r}", code="UCI:13", offset=self.consumed
            )
        return []

    def _pieces(self, text: str) -> list[str]:
        return split_escaped(text, self.separators.segment, self.separators.release)

    def _split_pieces(self, pieces: list[str]) -> list[RawSegment]:
        # raw: elements as written, components split by ``finish``; a segment holding release
        # characters is finished at once and marked by being a tuple
        seps = self.separators
        elem, release = seps.element, seps.release
        if self.whole_content:  # only service segments (UN..) are split: see ChunkedReader.whole_content
            return [tuple(_escaped_fields(p, seps)) if release and release in p else
                    p.split(elem) if p[:2] == "UN" else p for p in pieces if p]
        if release:
            return [tuple(_escaped_fields(p, seps)) if release in p else p.split(elem)
                    for p in pieces if p]
        return [p.split(elem) for p in pieces if p]

    def _content_runs(self, text: str) -> list[RawSegment] | None:
        seps = self.separators
        # runs need every terminator to end a segment (no release character in the text) and no
        # empty piece first
        if (seps.release and seps.release in text) or text[:1] == seps.segment:
            return None
        return self._runs(text, _envelope_finder(seps.segment, seps.element), _ENVELOPE)

    def _escaped_at(self, text: str, index: int) -> bool:
        """True when the character at ``index`` is preceded by an odd run of release characters."""
        release = self.separators.release
        if not release:
            return False
        run = index
        while run > 0 and text[run - 1] == release:
            run -= 1
        return (index - run) % 2 == 1

    def _find(self, text: str, marker: str, start: int) -> int:
        found = text.find(marker, start)
        while found >= 0 and self._escaped_at(text, found):
            found = text.find(marker, found + 1)
        return found

    def _last_terminator(self, text: str, start: int) -> int:
        cut = text.rfind(self.separators.segment, start)
        while cut >= 0 and self._escaped_at(text, cut):
            cut = text.rfind(self.separators.segment, start, cut)
        return cut

    def _continue(self, text: str, pos: int) -> tuple[list[RawSegment], int] | None:
        # in place only when the next interchange keeps these separators: a UNA restating them,
        # or no UNA while they are the defaults
        seps = self.separators
        una = "UNA" + seps.component + seps.element + seps.decimal + (seps.release or " ") + \
            (seps.repetition or " ") + seps.segment
        if text.startswith(una, pos):
            self.una = una
            return [], pos + len(una)
        if text.startswith("UNB", pos) and seps == EDIFACT_DEFAULT:
            self.una = ""
            return [], pos
        return None


#: the service segments that begin or end an interchange, group or message
_ENVELOPE = ("UNB", "UNG", "UNH", "UNT", "UNE", "UNZ")


@cache
def _envelope_finder(terminator: str, element: str) -> re.Pattern[str]:
    """Finds each terminator that an envelope segment follows, and each that ends an empty piece
    (a doubled terminator), matching the terminator and the character after it. The
    alternatives begin with a character, which the engine tests without entering them."""
    end = re.escape(terminator)
    return re.compile(end + "(?:U(?=N[BGHTEZ]" + re.escape(element) + ")|" + end + ")")
