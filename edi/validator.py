"""Validation of a message against its definition (see :mod:`waybill.edi.definitions`).

Each definition is compiled once per standard, version and message into tables:

* the structure as loops whose children are indexed by segment tag, walked by a small state
  machine (order, mandatory segments and loops, max use, loop repeats);
* per segment, one regular expression that matches the segment's text exactly when every
  element is valid (count, mandatory, min/max length, numeric and date/time shapes, composites,
  repetitions, and codes when code lists are checked), plus its syntax notes (X12 P/R/E/C/L,
  EDIFACT D1-D7). A segment that matches is done in one step; only one that does not is checked
  element by element, to say what is wrong.

AN, ID and EDIFACT a/an are not restricted by character (partners routinely put digits in
alphabetic fields). Findings are :class:`~waybill.edi.errors.Issue` objects with the standard's
codes: X12 AK304/AK403 (the 999 IK304/IK403 use the same values), EDIFACT CONTRL UCS/UCD (0085).
Code lists are checked as asked (:class:`Options`): off, as warnings, or as errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, cast

from waybill.edi import definitions
from waybill.edi.errors import Issue, Level
from waybill.edi.guides import Guide, check
from waybill.edi.model import Element, Interchange, Message, Separators, segment_id
from waybill.edi.pattern_cache import compile_cached
from waybill.edi.syntax import valid_date, valid_time
from waybill.edi.tokenizer import ChunkedReader, RawSegment

# issue kind -> code, per standard
_SEGMENT_CODES = {
    "X12": {"unknown": "1", "unexpected": "2", "missing": "3", "loop_max": "4", "max_use": "5",
            "not_in_set": "6", "sequence": "7"},
    "EDIFACT": {"unknown": "15", "unexpected": "15", "missing": "13", "loop_max": "36",
                "max_use": "35", "not_in_set": "15", "sequence": "15"},
}
_ELEMENT_CODES = {
    "X12": {"missing": "1", "conditional": "2", "too_many": "3", "short": "4", "long": "5",
            "chars": "6", "code": "7", "date": "8", "time": "9", "exclusion": "10",
            "components": "3", "repeats": "12"},
    "EDIFACT": {"missing": "13", "conditional": "13", "too_many": "16", "short": "40", "long": "39",
                "chars": "37", "code": "12", "date": "12", "time": "12", "exclusion": "12",
                "components": "16", "repeats": "35"},
}
#: A message without a definition, when the partner does not accept that: X12 AK502 1
#: (transaction set not supported), EDIFACT 0085 3 (message version/release not supported).
_UNSUPPORTED = {"X12": "1", "EDIFACT": "3"}
_NUMERIC = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?(\d+([.,]\d*)?|[.,]\d+)([eE]-?\d+)?")
UNBOUNDED = 1 << 30
#: A group of overlapping syntax notes unfolds into a pattern at most this many times the size of
#: its elements' plain pattern, carrying the presence of at most ``_CARRIED`` elements at once
#: (see _unfold); beyond that its widest note is read by a lookahead.
_NOTE_GROWTH = 64
_CARRIED = 6
#: How the one-step patterns are compiled: ``\d`` is an ASCII digit (what EDI numbers are made of),
#: which the engine tests from a table instead of asking the Unicode database per character.
_FLAGS = re.DOTALL | re.ASCII
#: Separators of the text a finished segment is joined into for its one-step check.
_SEGMENT_MARK, _ELEMENT_MARK, _COMPONENT_MARK = "\x1e", "\x1d", "\x1f"


@dataclass(frozen=True)
class Options:
    """What a partner asks of validation: code lists "off", "warn" or "reject"; messages without
    a definition accepted after envelope checks (``unvalidated="accept"``) or rejected; and the
    implementation guides narrowing its sets."""

    code_lists: str = "off"
    unvalidated: str = "accept"
    guides: tuple[Guide, ...] = ()  # the partner's implementation guides (waybill.edi.guides)


DEFAULT_OPTIONS = Options()


@dataclass(frozen=True)
class ElementDef:
    """A simple data element, or a composite when ``components`` is set."""

    ref: str
    required: bool
    kind: str = "AN"  # X12 N0..N9, R, ID, AN, DT, TM, B; EDIFACT a, n, an; "C" composite
    min: int = 0
    max: int = 0
    codes: frozenset[str] | None = None
    components: tuple[ElementDef, ...] = ()
    repeat: int = 1  # occurrences allowed, split by the repetition separator (X12 00501+, EDIFACT 4)


@dataclass(frozen=True)
class Note:
    """A syntax note on element positions: X12 P/R/E/C/L, EDIFACT D1..D7 (as their X12 kind)."""

    kind: str  # "P" all or none, "R" at least one, "E" at most one, "C" if first then all,
    #            "L" if first then at least one other, "1" exactly one, "7" if first then none
    positions: tuple[int, ...]
    text: str


@dataclass
class SegmentDef:
    tag: str
    elements: tuple[ElementDef, ...]
    notes: tuple[Note, ...] = ()
    _patterns: dict[tuple[str, str, str], re.Pattern[str]] = field(default_factory=dict, repr=False)

    def pattern(self, element: str, component: str, repetition: str) -> re.Pattern[str]:
        """The regular expression matching this segment's valid texts joined with these
        separators (compiled once per separator set)."""
        key = (element, component, repetition)
        found = self._patterns.get(key)
        if found is None:
            found = self._patterns[key] = _segment_pattern(self, element, component, repetition)
        return found


@dataclass(frozen=True)
class SegmentEntry:
    tag: str
    required: bool
    max: int


@dataclass
class LoopDef:
    id: str
    required: bool
    max: int
    children: list[SegmentEntry | LoopDef] = field(default_factory=list)
    #: the segment that starts an occurrence: the first child (loops start with a segment)
    trigger: str = field(init=False, repr=False, compare=False, default="")
    #: segment tag -> indices of the children it matches (a segment, or a loop it triggers)
    index: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        first = self.children[0] if self.children else None
        self.trigger = first.tag if isinstance(first, SegmentEntry) else first.trigger if first else ""
        found: dict[str, list[int]] = {}
        for i, child in enumerate(self.children):
            found.setdefault(child.tag if isinstance(child, SegmentEntry) else child.trigger, []).append(i)
        self.index = {tag: tuple(v) for tag, v in found.items()}


@dataclass
class MessageDefinition:
    standard: str
    id: str
    version: str  # the document's version ("004010", "005010", "D96A")
    structure: LoopDef
    segments: dict[str, SegmentDef | None]  # None: layout not described (service segments)
    known: frozenset[str]  # every segment tag of the standard's version
    hierarchy: bool = False  # X12 HL parent/child numbering is checked
    source: str = ""
    _patterns: dict[tuple[str, str, str, str], re.Pattern[str] | None] = field(default_factory=dict, repr=False)

    def message_pattern(self, separators: tuple[str, str, str, str]) -> re.Pattern[str] | None:
        """The one-step pattern of a valid message written with ``separators`` (element,
        component, repetition, terminator), compiled once; None when it cannot be built."""
        if separators not in self._patterns:
            try:
                self._patterns[separators] = _message_pattern(self, separators)
            except (re.error, RecursionError, OverflowError):
                self._patterns[separators] = None  # too big for the engine: segment by segment
        return self._patterns[separators]


# --- compiling -------------------------------------------------------------------------
def _max(value: int) -> int:
    return UNBOUNDED if value == 0 else value


def _element(doc: dict[str, Any], codes: dict[str, list[str]], ref: str, required: bool, *,
             repeat: int = 1) -> ElementDef:
    if doc["composites"].get(ref):
        parts = tuple(_element(doc, codes, r, m) for r, m in doc["composites"][ref])
        return ElementDef(ref, required, "C", components=parts, repeat=repeat)
    kind, low, high = doc["elements"].get(ref) or ("AN", 0, 1 << 20)
    code_list = frozenset(codes[ref]) if ref in codes else None
    return ElementDef(ref, required, kind, low, high, code_list, repeat=repeat)


def _note(text: str) -> Note | None:
    if text[:1] == "D":  # EDIFACT D5(040,030): positions counted in tens
        match = re.fullmatch(r"D([1-7])\(([\d, ]+)\)", text)
        if not match:
            return None
        kind = {"1": "1", "2": "P", "3": "R", "4": "E", "5": "C", "6": "L", "7": "7"}[match[1]]
        return Note(kind, tuple(int(p) // 10 for p in match[2].split(",")), text)
    if len(text) < 3 or text[0] not in "PRECL" or not text[1:].isdigit():
        return None
    return Note(text[0], tuple(int(text[i:i + 2]) for i in range(1, len(text), 2)), text)


def _entry(item: Any) -> SegmentEntry | LoopDef:
    if isinstance(item, dict):
        children = [_entry(i) for i in item["children"]]
        return LoopDef(item["loop"], item["required"], _max(item["max"]), children)
    return SegmentEntry(item[0], item[1], _max(item[2]))


def _tags(loop: LoopDef) -> set[str]:
    tags: set[str] = set()
    for child in loop.children:
        tags |= _tags(child) if isinstance(child, LoopDef) else {child.tag}
    return tags


def compile_message(doc: dict[str, Any], key: str, *, with_codes: bool = False) -> MessageDefinition:
    """One message of a definitions document as lookup-ready tables."""
    data = doc["messages"][key]
    standard = doc["standard"]
    structure = LoopDef(key, True, 1, [_entry(i) for i in data["structure"]])
    layouts = {**doc["segments"], **data.get("segments", {})}
    codes = {**doc["codes"], **data.get("codes", {})} if with_codes else {}
    segments: dict[str, SegmentDef | None] = {}
    for tag in _tags(structure):
        layout = layouts.get(tag)
        if layout is None or tag in ("UNH", "UNT", "ST", "SE"):  # service segments: the envelope's
            segments[tag] = None
            continue
        elements = tuple(_element(doc, codes, i[0], i[1], repeat=i[2] if len(i) > 2 else 1) if i[0] else
                         ElementDef("", False) for i in layout["elements"])
        notes = tuple(n for n in map(_note, layout.get("notes", ())) if n is not None)
        segments[tag] = SegmentDef(tag, elements, notes)
    message_id = data.get("id", key)
    return MessageDefinition(standard, message_id, doc["version"], structure, segments,
                             frozenset(layouts) | {"UNH", "UNT", "UNS", "ST", "SE"},
                             hierarchy="HL" in segments, source=data.get("source", ""))


# --- one-step checks: a regular expression per segment ---------------------------------------
def _value_pattern(spec: ElementDef, excluded: str) -> str:
    """A regular expression for one non-empty valid value of ``spec`` (conservative: a value it
    does not match is checked element by element)."""
    any_char = f"[^{re.escape(excluded)}]"
    low, high = max(spec.min, 1), spec.max
    kind = spec.kind
    if spec.codes is not None:
        return "(?:" + "|".join(re.escape(c) for c in sorted(spec.codes, key=len, reverse=True)) + ")"
    if kind in ("R", "n"):
        point = "[.]" if kind == "R" else "[.,]"
        return (rf"-?+(?:\d{{{low},{high}}}+|(?=[\d.,]{{{low + 1},{high + 1}}}+(?![\d.,]))(?=[.,]?\d)"
                rf"\d*+{point}\d*+)")
    if kind[:1] == "N" and kind[1:].isdigit():
        return rf"-?+\d{{{low},{high}}}+"
    if kind == "DT":  # every day but 29 February, which is checked against the calendar
        year = r"\d\d" if high == 6 else r"\d{4}" if low == 8 else r"\d\d(?:\d\d|)"
        return year + (r"(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)"
                       r"|(?:0[13578]|1[02])31)")
    if kind == "TM":
        lengths = [n for n in (4, 6, 7, 8) if low <= n <= high]
        tails = {4: "", 6: "[0-5][0-9]", 7: r"[0-5][0-9]\d", 8: r"[0-5][0-9]\d\d"}
        return r"(?:[01]\d|2[0-3])[0-5]\d(?:" + "|".join(tails[n] for n in lengths) + ")" if lengths else "(?!)"
    if kind == "B":
        return "(?!)"
    return f"{any_char}{{{low},{high}}}+"


def _element_pattern(spec: ElementDef, component: str, repetition: str, excluded: str) -> str:
    if not spec.ref:
        return ""  # a position the guide does not use: only empty is sure to be right
    if spec.components:
        parts = [_value_pattern(c, excluded) if c.ref else "" for c in spec.components]
        required = [i for i, c in enumerate(spec.components) if c.required and c.ref]
        last = required[-1] if required else 0
        tail = ""  # c1(:c2(:c3)?)?: components after the last mandatory one may be left out
        for i in range(len(parts) - 1, 0, -1):
            part = parts[i] if i in required else f"(?:{parts[i]}|)" if parts[i] else ""
            tail = f"{re.escape(component)}{part}{tail}"
            if i > last:  # an alternative with an empty branch costs less than an optional group
                tail = f"(?:{tail}|)"
        first = parts[0] if 0 in required else f"(?:{parts[0]}|)" if parts[0] else ""
        one = first + tail
        if spec.required and not required:
            one = f"(?=[^{re.escape(excluded)}]|{re.escape(component)}+[^{re.escape(excluded)}])" + one
        elif not spec.required:
            one = f"(?:|{one})"
    elif spec.required:
        one = _value_pattern(spec, excluded)
    elif spec.codes is None and spec.kind in ("AN", "ID", "a", "an") and spec.min <= 1:
        one = f"[^{re.escape(excluded)}]{{0,{spec.max}}}+"  # one step, where an empty value is right
    else:
        one = f"(?:|{_value_pattern(spec, excluded)})"  # an alternative costs less than a repeat
    if spec.repeat > 1 and repetition:
        return f"{one}(?:{re.escape(repetition)}{one}){{0,{spec.repeat - 1}}}"
    return one


def _segment_body(sdef: SegmentDef, element: str, component: str, repetition: str, *,
                  terminator: str = "") -> str:
    """The pattern of a valid segment's text (tag included, terminator not); ``terminator`` is
    excluded from values when segments are matched in a row.

    Elements after the last mandatory one nest as optional groups (``(?:*a(?:*b)?)?``): a
    segment may end before any of them. Syntax notes are unfolded into the pattern (see
    :func:`_unfold`): the elements a group of overlapping notes names branch on present or
    absent where a later note reads it, so a valid segment is matched without looking ahead; a
    group too big to unfold keeps its widest note as a lookahead instead.
    """
    excluded = element + component + repetition + terminator
    sep = re.escape(element)
    # matched in a row, a segment is always followed by its terminator
    end = f"(?={sep}*+{re.escape(terminator)})" if terminator else f"(?={sep}*+\\Z)"
    specs = sdef.elements
    last = max((i for i, e in enumerate(specs, 1) if e.required), default=0)
    present: dict[int, str] = {}
    absent: dict[int, str] = {}
    either: dict[int, str] = {}
    for i, spec in enumerate(specs, 1):
        if spec.ref:
            present[i] = sep + _element_pattern(replace(spec, required=True), component, repetition, excluded)
        if not spec.required:
            empty = f"{re.escape(component)}{{0,{len(spec.components) - 1}}}+" if spec.components else ""
            absent[i] = sep + empty
        either[i] = sep + _element_pattern(spec, component, repetition, excluded)
    unfolded = [n for n in sdef.notes if any(1 <= p <= len(specs) for p in n.positions)]
    looked = [n for n in sdef.notes if n not in unfolded]
    while True:
        blocks = _note_blocks(unfolded, len(specs))
        unfoldings = [_unfold(lo, hi, notes, present=present, absent=absent, either=either, last=last, end=end,
                              sep=sep)
                      for lo, hi, notes in blocks]
        if all(u is not None for u in unfoldings):
            break
        widest = max(unfolded, key=lambda n: max(n.positions) - min(n.positions))
        unfolded.remove(widest)
        looked.append(widest)
    # (first position, pattern, whether the segment may end before it)
    pieces: dict[int, tuple[str, bool]] = {}
    for (lo, _, notes), unfolding in zip(blocks, unfoldings, strict=True):
        assert unfolding is not None
        may_end = lo > last and all(_note_kind_violated(n.kind, [False] * len(n.positions)) is None
                                    for n in notes)
        pieces[lo] = (unfolding, may_end)
    covered = {p for lo, hi, _ in blocks for p in range(lo, hi + 1)}
    for i in either:
        if i not in covered:
            pieces[i] = (either[i], i > last)
    # a note left as a lookahead is read where the piece holding its first element starts, unless
    # all-absent elements break it (R, exactly one): that is read after the tag
    at_start = []
    for note in looked:
        anchor = min(note.positions)
        origin = max((i for i in pieces if i <= anchor), default=0)
        if not origin or _note_kind_violated(note.kind, [False] * len(note.positions)) is not None:
            at_start.append(_note_pattern(note, element, excluded, terminator, origin=0))
        else:
            pattern, may_end = pieces[origin]
            pieces[origin] = (_note_pattern(note, element, excluded, terminator, origin=origin - 1) + pattern,
                              may_end)
    tail = f"{sep}*+"  # empty trailing elements are tolerated
    ending = True  # the segment may end before every piece after this one
    for i in sorted(pieces, reverse=True):
        pattern, may_end = pieces[i]
        ending = ending and may_end
        guard = "" if pattern.startswith(sep) else f"(?={sep})"
        tail = f"(?:{guard}{pattern}{tail}|)" if ending else pattern + tail
    return re.escape(sdef.tag) + "".join(at_start) + tail


def _note_blocks(notes: list[Note], count: int) -> list[tuple[int, int, list[Note]]]:
    """Runs of element positions (first, last) that overlapping ``notes`` span, with their notes."""
    spans = sorted(((min(p for p in n.positions if p <= count), min(max(n.positions), count), n)
                    for n in notes if any(1 <= p <= count for p in n.positions)), key=lambda s: s[:2])
    blocks: list[tuple[int, int, list[Note]]] = []
    for lo, hi, note in spans:
        if blocks and lo <= blocks[-1][1]:
            first, top, held = blocks[-1]
            blocks[-1] = (first, max(top, hi), [*held, note])
        else:
            blocks.append((lo, hi, [note]))
    return blocks


def _unfold(lo: int, hi: int, notes: list[Note], *, present: dict[int, str], absent: dict[int, str],
            either: dict[int, str], last: int, end: str, sep: str) -> str | None:
    """Elements ``lo``..``hi`` as the alternatives of presence that ``notes`` allow (positions
    past the segment's elements are absent), or None when that would be too big a pattern.
    ``present``, ``absent`` and ``either`` are the patterns of each element written, left empty,
    and as it comes. After the last mandatory element (``last``), wherever the elements shown so
    far meet the notes with all the others absent, one more alternative says that the segment
    ends there (``end``): its elements after that are not walked one by one.

    The walk carries from one element to the next only the presence of the elements that a
    note not yet decided names (a note is decided at its last element): an element whose
    presence nothing after it reads is written once, as it comes, before what follows. So the
    pattern grows with the elements carried at once, not with the combinations of all the
    elements the notes name: CTP's C0902 and C1103 or PO4's C1704, reaching back across other
    notes, unfold instead of being left to lookaheads that read the segment twice."""
    named = {p for n in notes for p in n.positions if lo <= p <= hi}
    decided: dict[int, list[Note]] = {}  # element -> the notes decided there
    for note in notes:
        decided.setdefault(min(max(note.positions), hi), []).append(note)
    # at element i: the notes decided there or later, and the elements before i they name
    pending = {i: [n for at, held in decided.items() if at >= i for n in held] for i in range(lo, hi + 2)}
    carried = {i: frozenset(p for n in held for p in n.positions if p < i) for i, held in pending.items()}
    if max(map(len, carried.values())) > _CARRIED:
        return None

    def hold(held: list[Note], shown: frozenset[int]) -> bool:  # with only ``shown`` present
        return all(_note_kind_violated(n.kind, [p in shown for p in n.positions]) is None for n in held)

    def after(i: int, shown: frozenset[int]) -> frozenset[int] | None:
        """What is carried past element ``i`` when ``shown`` are present, None if a note decided
        at ``i`` is broken."""
        return shown & carried[i + 1] if hold(decided.get(i, []), shown) else None

    @cache
    def walk(i: int, shown: frozenset[int]) -> tuple[str, ...]:
        """The alternatives for elements ``i``..``hi`` after the carried ``shown`` were present;
        each starts with element ``i``'s separator, or is where the segment ends."""
        if i > hi:
            return ("",)
        options = []
        gone = after(i, shown) if i in absent or i not in named else None
        kept = after(i, shown | {i}) if i in present and i in named else None
        if gone is not None and (i not in named or kept == gone):
            rest = walk(i + 1, gone)  # what follows does not read whether element i is there
            written = either[i] if i not in named or absent[i] == sep else \
                sep + _group([absent[i][len(sep):], present[i][len(sep):]])
            if rest:
                options.append(written + _group(list(rest)))
        else:
            # the separator is read once; then the alternatives where the element is empty and
            # the next one's separator follows come first (most optional elements are empty, and
            # the engine passes over an alternative whose first character differs without
            # entering it), then the element written, then the empty ones that end the segment
            # or the group
            empty = absent[i][len(sep):] if i in absent else ""
            without = [empty + o for o in walk(i + 1, gone)] if gone is not None else []
            alternatives = [o for o in without if o.startswith(sep)]
            if kept is not None and (shown_rest := walk(i + 1, kept)):
                alternatives.append(present[i][len(sep):] + _group(list(shown_rest)))
            alternatives += [o for o in without if not o.startswith(sep)]
            if alternatives:
                options.append(sep + _group(alternatives))
        if lo < i > last and hold(pending[i], shown):
            options.append(end)  # ending before the group is the caller's
        return tuple(options)

    found = walk(lo, frozenset())
    unfolded = _group(list(found)) if found else "(?!)"
    plain = sum(len(either[p]) for p in range(lo, hi + 1))
    return unfolded if len(unfolded) <= _NOTE_GROWTH * plain else None


def _group(alternatives: list[str]) -> str:
    return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"


def _note_pattern(note: Note, element: str, excluded: str, terminator: str, *, origin: int) -> str:
    """A lookahead that holds when ``note`` is met, read after the tag (``origin`` 0) or where
    element ``origin`` starts."""
    outside = f"[^{re.escape(element + terminator)}]"
    value = f"[^{re.escape(excluded)}]"
    filler = "".join(c for c in excluded if c not in element + terminator)  # component, repetition
    lead = f"[{re.escape(filler)}]*+" if filler else ""

    def present(position: int) -> str:  # element ``position`` holds a character that is data
        # elements skipped one by one (a counted group is a slow loop in the engine), then the
        # element's first character that is not a component or repetition separator is data
        return f"{outside}*+{re.escape(element)}" * (position - origin) + lead + value

    first, *others = note.positions
    all_of = "".join(f"(?={present(p)})" for p in note.positions)
    none_of = "".join(f"(?!{present(p)})" for p in note.positions)
    any_of = "(?=" + "|".join(present(p) for p in note.positions) + ")"
    at_most_one = "".join(f"(?!(?={present(a)}){present(b)})" for i, a in enumerate(note.positions)
                          for b in note.positions[i + 1:])
    others_any = "(?=" + "|".join(present(p) for p in others) + ")" if others else ""
    kind = note.kind
    if kind == "P":
        return f"(?:{all_of}|{none_of})"
    if kind == "R":
        return any_of
    if kind == "E":
        return at_most_one
    if kind == "C":
        return f"(?:(?!{present(first)})|{all_of})"
    if kind == "L":
        return f"(?:(?!{present(first)})|{others_any})"
    if kind == "1":
        return any_of + at_most_one
    return f"(?:(?!{present(first)})|" + "".join(f"(?!{present(p)})" for p in others) + ")"


def _segment_pattern(sdef: SegmentDef, element: str, component: str, repetition: str) -> re.Pattern[str]:
    return re.compile(_segment_body(sdef, element, component, repetition), _FLAGS)


def _message_pattern(definition: MessageDefinition, seps: tuple[str, str, str, str]) -> re.Pattern[str]:
    """One pattern for a whole valid message: its segments, each followed by the terminator, in
    the structure's order, loops and repeats as counted groups. Groups are possessive (Python
    3.11): each segment is placed greedily where the state machine would place it, so matching
    never backtracks into what it has placed."""
    element, component, repetition, terminator = seps
    end = re.escape(terminator)
    bodies = {tag: _segment_body(sdef, element, component, repetition, terminator=terminator) if sdef else
              re.escape(tag) + f"(?:{re.escape(element)}[^{end}]*)?"
              for tag, sdef in definition.segments.items()}

    def loop(node: LoopDef) -> str:
        out = []
        for child in node.children:
            if isinstance(child, SegmentEntry):
                item, low, high = f"{bodies[child.tag]}{end}", int(child.required), child.max
            else:
                item, low, high = loop(child), int(child.required), child.max
            count = "*+" if high >= UNBOUNDED and low == 0 else "++" if high >= UNBOUNDED else \
                f"{{{low},{high}}}+"
            out.append(f"(?:{item}){count}")
        # inside a loop occurrence, its trigger segment comes once, first
        if node is not definition.structure and out:
            trigger = node.children[0]
            assert isinstance(trigger, SegmentEntry)
            out[0] = f"(?:{bodies[trigger.tag]}{end})"
        return "".join(out)

    return compile_cached(loop(definition.structure), _FLAGS)


# --- checking --------------------------------------------------------------------------
class _Frame:
    __slots__ = ("counts", "index", "loop")

    def __init__(self, loop: LoopDef) -> None:
        self.loop = loop
        self.index = 0
        self.counts = [0] * len(loop.children)


def _present(value: Element) -> bool:
    return bool(value) and value != ("",) * len(value)


class _Checker:
    """Checks one message; ``position`` and ``tag`` are those of the segment being checked."""

    def __init__(self, definition: MessageDefinition, separators: Separators | None,
                 options: Options) -> None:
        self.definition = definition
        self.standard = definition.standard
        self.seg_codes = _SEGMENT_CODES[self.standard]
        self.el_codes = _ELEMENT_CODES[self.standard]
        self.issues: list[Issue] = []
        self.warnings: list[Issue] = []
        self.separators = separators
        self.options = options
        self.position = 0
        self.tag = ""

    def segment_issue(self, kind: str, position: int, tag: str, text: str) -> None:
        self.issues.append(Issue(Level.SEGMENT, self.seg_codes[kind], text, position, tag))

    def element_issue(self, kind: str, element: int, text: str, comp: int | None = None) -> None:
        """An issue with element ``element`` (component ``comp``) of the segment being checked."""
        issue = Issue(Level.ELEMENT, self.el_codes[kind], text, self.position, self.tag, element, comp)
        if kind == "code" and self.options.code_lists == "warn":
            self.warnings.append(issue)
        else:
            self.issues.append(issue)

    # structure -------------------------------------------------------------------------
    def _missing(self, frame: _Frame, stop: int | None, position: int) -> None:
        """Report mandatory children of ``frame`` that were passed (up to ``stop``) unseen."""
        children = frame.loop.children
        start = frame.index + 1 if frame.counts[frame.index] else frame.index
        for j in range(start, len(children) if stop is None else stop):
            child = children[j]
            if child.required and frame.counts[j] == 0:
                tag = child.tag if isinstance(child, SegmentEntry) else child.trigger
                where = "" if isinstance(child, SegmentEntry) else f" (starting loop {child.id})"
                self.segment_issue("missing", position, tag,
                                   f"mandatory segment {tag}{where} is missing before segment "
                                   f"{position}")

    def place(self, stack: list[_Frame], tag: str, position: int) -> None:
        """Place segment ``tag`` at the first position, from where the message stands, that has
        its tag and is below its maximum use. A table's positions are distinct: an occurrence
        beyond one position's maximum goes on to the next position with the same tag (later in
        this loop, or after it in an enclosing one), as the one-step pattern places it. Only when
        no such position is left is it reported, as exceeding the first one's maximum."""
        frame = stack[-1]
        children = frame.loop.children
        current = children[frame.index]
        # the common case first: the same segment again (not a loop's trigger: that starts the
        # loop again)
        if isinstance(current, SegmentEntry) and current.tag == tag and (frame.index or len(stack) == 1) \
                and frame.counts[frame.index] < current.max:
            frame.counts[frame.index] += 1
            return
        first: tuple[int, int] | None = None  # the first position with the tag, even if full
        found: tuple[int, int] | None = None  # the first one below its maximum use
        for depth in range(len(stack) - 1, -1, -1):
            frame = stack[depth]
            children = frame.loop.children
            # a loop's trigger segment starts a new occurrence, found in the parent frame
            start = max(frame.index, 1 if depth else 0)
            for i in frame.loop.index.get(tag, ()):
                if i < start:
                    continue
                if first is None:
                    first = (depth, i)
                if frame.counts[i] < children[i].max:
                    found = (depth, i)
                    break
            if found is not None:
                break
        target = found or first
        if target is not None:
            depth, j = target
            frame = stack[depth]
            child = frame.loop.children[j]
            for inner in reversed(stack[depth + 1:]):
                self._missing(inner, None, position)
            del stack[depth + 1:]
            self._missing(frame, j, position)
            frame.counts[j] += 1
            frame.index = j
            if frame.counts[j] > child.max:
                is_segment = isinstance(child, SegmentEntry)
                kind = "max_use" if is_segment else "loop_max"
                self.segment_issue(kind, position, tag, f"{'segment' if is_segment else 'loop'} "
                                   f"{tag} occurs more than {child.max} times")
            if isinstance(child, LoopDef):
                inner = _Frame(child)
                inner.counts[0] = 1  # the trigger segment just seen
                stack.append(inner)
            return
        if tag in self.definition.segments:
            self.segment_issue("sequence", position, tag,
                               f"segment {tag} is not in its proper place (position {position})")
        elif tag in self.definition.known:
            self.segment_issue("not_in_set", position, tag,
                               f"segment {tag} is not used in {self.definition.id}")
        else:
            self.segment_issue("unknown", position, tag, f"segment id {tag!r} is not recognised")

    # elements, one by one (only for a segment that failed its one-step check) ----------------
    def check_value(self, value: str, spec: ElementDef, element: int, comp: int | None) -> None:
        label = f"{self.tag}{element:02d}" + (f"-{comp}" if comp else "")
        kind = spec.kind
        if kind in ("R", "n"):
            ok = bool(_DECIMAL.fullmatch(value))
            length = sum(c.isdigit() for c in value)
        elif kind[:1] == "N" and kind[1:].isdigit():
            ok = bool(_NUMERIC.fullmatch(value))
            length = len(value) - value.startswith("-")
        else:
            ok = True
            length = len(value)
        if not ok:
            self.element_issue("chars", element, f"{label} must be numeric ({spec.kind}), found {value!r}", comp)
            return
        if length < spec.min:
            self.element_issue("short", element, f"{label} is shorter than {spec.min} characters: {value!r}", comp)
        elif length > spec.max:
            self.element_issue("long", element, f"{label} is longer than {spec.max} characters: {value!r}", comp)
        elif kind == "DT" and not valid_date(value):
            self.element_issue("date", element, f"{label} is not a valid date: {value!r}", comp)
        elif kind == "TM" and not valid_time(value):
            self.element_issue("time", element, f"{label} is not a valid time: {value!r}", comp)
        elif spec.codes is not None and value not in spec.codes:
            self.element_issue("code", element, f"{label} code {value!r} is not valid for element {spec.ref}",
                               comp)

    def check_elements(self, seg: Sequence[Element], sdef: SegmentDef) -> None:
        tag, specs = self.tag, sdef.elements
        if len(seg) - 1 > len(specs) and any(seg[len(specs) + 1:]):
            self.element_issue("too_many", len(specs) + 1,
                               f"{tag} has {len(seg) - 1} elements, at most {len(specs)} are defined")
        for i, spec in enumerate(specs, 1):
            value = seg[i] if i < len(seg) else ""
            if not _present(value):
                if spec.required:
                    self.element_issue("missing", i, f"mandatory element {tag}{i:02d} ({spec.ref}) is missing")
                continue
            if not spec.ref:
                self.element_issue("too_many", i, f"{tag}{i:02d} is not used here")
                continue
            occurrences = self._repeats(value) if spec.repeat > 1 else [value]
            if len(occurrences) > spec.repeat:
                self.element_issue("repeats", i, f"{tag}{i:02d} occurs {len(occurrences)} times, "
                                   f"at most {spec.repeat}")
            for occurrence in occurrences:
                if _present(occurrence):
                    self.check_one(occurrence, spec, i)
        self.check_notes(seg, sdef.notes)

    def _repeats(self, value: Element) -> list[Element]:
        """The occurrences of a repeated element, split on the repetition separator."""
        seps = self.separators
        if seps is None or not seps.repetition:
            return [value]
        text = seps.component.join(value) if isinstance(value, tuple) else value
        if seps.repetition not in text:
            return [value]
        return [tuple(r.split(seps.component)) if seps.component and seps.component in r else r
                for r in text.split(seps.repetition)]

    def check_one(self, value: Element, spec: ElementDef, i: int) -> None:
        """One occurrence of element ``i``, simple or composite."""
        tag = self.tag
        if spec.components:
            parts = value if isinstance(value, tuple) else (value,)
            if len(parts) > len(spec.components) and any(parts[len(spec.components):]):
                self.element_issue("components", i, f"{tag}{i:02d} has {len(parts)} components, at most "
                                   f"{len(spec.components)} are defined")
            for c, cspec in enumerate(spec.components, 1):
                part = parts[c - 1] if c <= len(parts) else ""
                if part == "":
                    if cspec.required:
                        self.element_issue("missing", i, f"mandatory component {tag}{i:02d}-{c} ({cspec.ref}) "
                                           "is missing", c)
                    continue
                if not cspec.ref:
                    self.element_issue("components", i, f"{tag}{i:02d}-{c} is not used here", c)
                    continue
                self.check_value(part, cspec, i, c)
        elif isinstance(value, tuple):
            self.element_issue("components", i, f"{tag}{i:02d} is a simple element but has components")
        else:
            self.check_value(value, spec, i, None)

    def check_notes(self, seg: Sequence[Element], notes: tuple[Note, ...]) -> None:
        for note in notes:
            kind = _violation(seg, note)
            if kind is not None:
                first = note.positions[0]
                self.element_issue(kind, first, f"{self.tag}: syntax note {note.text} is not met")

    def check_hierarchy(self, seg: Sequence[Element], ids: set[Element]) -> None:
        """HL01 must be new and HL02 must name an earlier HL01."""
        own = seg[1] if len(seg) > 1 else ""
        parent = seg[2] if len(seg) > 2 else ""
        if own in ids:
            self.element_issue("code", 1, f"HL01 id {own!r} is used twice")
        if parent and parent not in ids:
            self.element_issue("code", 2, f"HL02 parent {parent!r} does not refer to an earlier HL01")
        ids.add(own)

    def check_hierarchy_text(self, text: str, marks: tuple[str, ...]) -> None:
        """HL numbering of a matched message, read from its text at C speed."""
        finder = _hl_finder(marks[0], marks[3])
        if _hierarchy_holds(finder, text):
            return
        ids: set[Element] = set()
        self.position, self.tag, counted = 1, "HL", 0
        for found in finder.finditer(text):  # where
            self.position += text.count(marks[3], counted, found.start())  # segments since the last HL
            counted = found.start()
            self.check_hierarchy(["HL", found[1], found[2] or ""], ids)

    def run(self, segments: Sequence[Sequence[Element]], raw: bool) -> list[Issue]:
        definition = self.definition
        stack = [_Frame(definition.structure)]
        hl_ids: set[Element] = set()
        layouts = definition.segments
        seps = self.separators
        if raw and seps is not None:
            marks = (seps.element, seps.component, seps.repetition)
        else:
            marks = (_ELEMENT_MARK, _COMPONENT_MARK, seps.repetition if seps else "")
        join = marks[0].join
        place = self.place
        for position, seg in enumerate(segments, 1):
            tag = seg[0]
            if tag.__class__ is not str:
                tag = segment_id(seg)
            self.position, self.tag = position, tag
            place(stack, tag, position)
            sdef = layouts.get(tag)
            if sdef is None:
                continue
            try:  # a TypeError tells a composite was split into a tuple
                text = join(cast("list[str]", seg))
                pattern = sdef.pattern(*marks)
            except TypeError:
                text = _joined(seg)
                pattern = sdef.pattern(_ELEMENT_MARK, _COMPONENT_MARK, marks[2])
            if pattern.fullmatch(text) is None or (sdef.notes and _notes_fail(seg, sdef.notes)):
                finished = ChunkedReader.finish([cast("list[str]", seg)], seps)[0] \
                    if raw and seps is not None and seg.__class__ is list else seg
                self.check_elements(finished, sdef)
            if tag == "HL" and definition.hierarchy:
                self.check_hierarchy(seg, hl_ids)
        end = len(segments)
        for frame in reversed(stack):
            self._missing(frame, None, end)
        return self.issues


def _one_step(definition: MessageDefinition, separators: Separators | None,
              segments: Sequence[Sequence[Element]], raw: bool) -> tuple[str, tuple[str, ...]] | None:
    """The message's text and the separators it was written with (element, component,
    repetition, terminator) when it matches its definition's one-step pattern, else None."""
    repetition = separators.repetition if separators else ""
    if raw and separators is not None:
        end = separators.segment if len(separators.segment) == 1 else _SEGMENT_MARK
        marks = (separators.element, separators.component, repetition, end)
        try:  # a TypeError tells a segment was finished (EDIFACT release characters)
            text = _message_text(segments, separators.element, end)
        except TypeError:
            return None
    else:
        marks = (_ELEMENT_MARK, _COMPONENT_MARK, repetition, _SEGMENT_MARK)
        text = _SEGMENT_MARK.join(map(_joined, segments)) + _SEGMENT_MARK
    pattern = definition.message_pattern(marks)
    if pattern is None or pattern.fullmatch(text) is None:
        return None
    return text, marks


def _hierarchy_holds(finder: re.Pattern[str], text: str) -> bool:
    """Whether every HL01 of ``text`` is new and every HL02 names an earlier one."""
    seen: set[str] = set()
    for own, parent in finder.findall(text):
        if own in seen or (parent and parent not in seen):
            return False
        seen.add(own)
    return True


def _message_text(segments: Sequence[Any], element: str, end: str) -> str:
    """The text of raw ``segments``, each followed by ``end``. Content segments may come as their
    whole text, one or a run of them (ChunkedReader.whole_content), between a split header and
    trailer: those are joined in one call. Raises TypeError when a segment holds components
    already split."""
    first, last = segments[0], segments[-1]
    if len(segments) > 1 and first.__class__ is list and last.__class__ is list:
        try:  # one join: the text is copied once
            return end.join([element.join(first), *segments[1:-1], element.join(last), ""])
        except TypeError:
            pass  # some content segments are split: one by one
    return end.join([s if isinstance(s, str) else element.join(s) for s in segments]) + end


@cache
def _hl_finder(element: str, terminator: str) -> re.Pattern[str]:
    """Finds the HL segments of a message's text: HL01 and HL02 as groups 1 and 2."""
    elem, end = re.escape(element), re.escape(terminator)
    # the literal first, so that the engine searches for it at C speed; then, looking back, that
    # it starts a segment
    return re.compile(rf"HL{elem}(?<![^{end}]HL{elem})([^{elem}{end}]*)(?:{elem}([^{elem}{end}]*))?")


def _joined(seg: Sequence[Element]) -> str:
    return _ELEMENT_MARK.join(e if isinstance(e, str) else _COMPONENT_MARK.join(e) for e in seg)


def _violation(seg: Sequence[Element], note: Note) -> str | None:
    """The issue kind ("conditional" or "exclusion") when ``seg`` breaks ``note``, else None."""
    return _note_kind_violated(note.kind, [p < len(seg) and _present(seg[p]) for p in note.positions])


def _note_kind_violated(kind: str, present: list[bool]) -> str | None:
    """The issue kind when elements present as ``present`` (in the note's order) break a note of
    ``kind``, else None."""
    count = sum(present)
    if kind == "P" and 0 < count < len(present):
        return "conditional"
    if kind == "R" and count == 0:
        return "conditional"
    if kind == "E" and count > 1:
        return "exclusion"
    if kind == "C" and present[0] and count < len(present):
        return "conditional"
    if kind == "L" and present[0] and count < 2:
        return "conditional"
    if kind == "1" and count != 1:
        return "conditional" if count == 0 else "exclusion"
    if kind == "7" and present[0] and count > 1:
        return "exclusion"
    return None


def _notes_fail(seg: Sequence[Element], notes: tuple[Note, ...]) -> bool:
    return any(_violation(seg, note) is not None for note in notes)


# --- finding definitions -----------------------------------------------------------------
def _document(standard: str, version: str) -> dict[str, Any] | None:
    if standard == "X12":
        if version.startswith("004010"):
            return definitions.x12("004010")
        if version.startswith("005010"):
            return definitions.x12("005010")
        return None
    return definitions.edifact(version) if re.fullmatch(r"[A-Z]\d\d[A-Z]", version) else None


def _message_key(doc: dict[str, Any], message_type: str, version: str) -> str | None:
    messages = doc["messages"]
    if message_type in messages:
        return message_type
    # a guide's sets (005010): the longest version the message's starts with
    best = None
    for key, data in messages.items():
        if data.get("id") != message_type:
            continue
        for v in data["versions"]:
            if version.startswith(v) and (best is None or len(v) > best[0]):
                best = (len(v), key)
    return best[1] if best else None


@cache
def _compiled(standard: str, version: str, key: str, with_codes: bool) -> MessageDefinition:
    doc = _document(standard, version)
    assert doc is not None
    return compile_message(doc, key, with_codes=with_codes)


def find_definition(standard: str, message_type: str, version: str, *,
                    options: Options = DEFAULT_OPTIONS) -> MessageDefinition | None:
    """The definition of ``message_type`` in ``version`` (X12 GS08/ST03, EDIFACT directory such
    as "D96A"), compiled once; None when no source covers it."""
    # looked up once per set and version: a big file repeats the same few. X12 definitions are
    # shipped, so a set without one is remembered too; an EDIFACT message without one is not (a
    # directory added later is found)
    wanted = (standard, message_type, version, options.code_lists != "off")
    if wanted in _FOUND:
        return _FOUND[wanted]
    found = _find_definition(standard, message_type, version, with_codes=wanted[3])
    if found is not None or standard == "X12":
        _FOUND[wanted] = found
    return found


_FOUND: dict[tuple[str, str, str, bool], MessageDefinition | None] = {}


def _find_definition(standard: str, message_type: str, version: str, *,
                     with_codes: bool) -> MessageDefinition | None:
    doc = _document(standard, version)
    if doc is None:
        return None
    key = _message_key(doc, message_type, version)
    if key is None:
        return None
    doc_version = "004010" if version.startswith("004010") else \
        "005010" if version.startswith("005010") and standard == "X12" else version
    return _compiled(standard, doc_version, key, with_codes)


@cache
def _service_segments(syntax_version: str) -> dict[str, SegmentDef]:
    doc = definitions.edifact_service(syntax_version)
    if doc is None:
        return {}
    return {tag: SegmentDef(tag, tuple(_element(doc, {}, ref, required) for ref, required in layout["elements"]))
            for tag, layout in doc["segments"].items()}


#: what a service segment's element checks belong to (only the standard and codes are read)
_SERVICE = MessageDefinition("EDIFACT", "service", "", LoopDef("service", True, 1, []), {}, frozenset())


def check_service_segment(seg: Sequence[Element], syntax_version: str) -> list[Issue]:
    """Element issues of an EDIFACT service segment (UNB, UNG, UNH, UNT, UNE, UNZ, finished) under
    its syntax version's layout (UNB 0002): mandatory elements and components, types, lengths,
    elements or components beyond the layout. Nothing for an unknown syntax version or segment."""
    sdef = _service_segments(syntax_version).get(segment_id(seg))
    if sdef is None or sdef.pattern(_ELEMENT_MARK, _COMPONENT_MARK, "").fullmatch(_joined(seg)):
        return []  # a valid segment is matched in one step
    checker = _Checker(_SERVICE, None, DEFAULT_OPTIONS)
    checker.tag = sdef.tag
    checker.check_elements(seg, sdef)
    return checker.issues


def validate(message: Message, interchange: Interchange | None = None, *,
             options: Options = DEFAULT_OPTIONS) -> None:
    """Check ``message`` against its definition, if there is one, adding to ``message.issues``.

    Sets ``message.validated``; a message without a definition keeps only its envelope checks
    (and is rejected when ``options.unvalidated`` says so). Reads ``message.raw`` when the
    envelope layer left the segments raw (see :class:`Hook`). Usable as the ``on_message`` hook of
    :func:`waybill.edi.envelope.read_interchanges`.
    """
    standard = interchange.standard if interchange else (
        "X12" if segment_id(message.segments[0]) == "ST" else "EDIFACT")
    definition = find_definition(standard, message.type, message.version, options=options)
    if definition is None:
        if options.unvalidated == "reject":
            message.issues.append(Issue(Level.MESSAGE, _UNSUPPORTED[standard],
                                        f"{message.type} {message.version} has no definition: its "
                                        "content cannot be validated"))
        return
    separators = interchange.separators if interchange else None
    raw = not message.segments and bool(message.raw)
    segments = message.raw if raw else message.segments
    matched = _one_step(definition, separators, segments, raw)
    if matched is not None and not options.guides and (
            not definition.hierarchy or _hierarchy_holds(_hl_finder(matched[1][0], matched[1][3]), matched[0])):
        message.validated = True  # the common case, a valid message: nothing more to do
        return
    checker = _Checker(definition, separators, options)
    if matched is None:  # checked segment by segment to say what is wrong
        if raw and separators is not None:  # segments kept as whole texts are split now
            segments = ChunkedReader.split_whole(cast("list[RawSegment]", segments), separators)
        checker.run(segments, raw)
    else:
        if definition.hierarchy:
            checker.check_hierarchy_text(*matched)
        if raw and options.guides and separators is not None:
            segments = ChunkedReader.split_whole(cast("list[RawSegment]", segments), separators)
    for guide in options.guides:
        if guide.covers(message.type, message.version):
            checker.issues.extend(check(guide, standard, segments, separators))
    message.issues.extend(checker.issues)
    message.warnings.extend(checker.warnings)
    message.validated = True


class Hook:
    """An ``on_message`` hook validating with ``options``. It reads segments raw (components not
    split) when the envelope layer can leave them so (``reads_raw``): that is what streaming
    validation needs to be fast."""

    reads_raw = True

    def __init__(self, options: Options = DEFAULT_OPTIONS) -> None:
        self.options = options

    def __call__(self, message: Message, interchange: Interchange) -> None:
        validate(message, interchange, options=self.options)
