"""Table-driven validation of a message against its definition (see :mod:`waybill.edi.definitions`).

Definitions are compiled once into dicts and tuples. Checking a message walks its segments through
the structure (segment order, loops, mandatory segments, max use and loop repeats), then checks each
segment's elements (mandatory, count, min/max length, data types N0-N9/R/DT/TM and EDIFACT n, code
lists; AN, ID and EDIFACT a/an are not restricted by character, since partners routinely put digits
in alphabetic fields). Findings are :class:`~waybill.edi.errors.Issue` objects with the standard's codes:
X12 AK304/AK403 (the 999 IK304/IK403 use the same values), EDIFACT CONTRL UCS/UCD (code list 0085).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, NamedTuple

from waybill.edi import definitions
from waybill.edi.errors import Issue, Level
from waybill.edi.model import Element, Interchange, Message, Segment, Separators, segment_id
from waybill.edi.syntax import valid_date, valid_time

# issue kind -> code, per standard
_SEGMENT_CODES = {
    "X12": {"unknown": "1", "unexpected": "2", "missing": "3", "loop_max": "4", "max_use": "5",
            "not_in_set": "6", "sequence": "7"},
    "EDIFACT": {"unknown": "15", "unexpected": "15", "missing": "13", "loop_max": "36",
                "max_use": "35", "not_in_set": "15", "sequence": "15"},
}
_ELEMENT_CODES = {
    "X12": {"missing": "1", "too_many": "3", "short": "4", "long": "5", "chars": "6", "code": "7",
            "date": "8", "time": "9", "components": "3", "repeats": "12"},
    "EDIFACT": {"missing": "13", "too_many": "16", "short": "40", "long": "39", "chars": "37",
                "code": "12", "date": "12", "time": "12", "components": "16", "repeats": "40"},
}
_NUMERIC = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?(\d+([.,]\d*)?|[.,]\d+)([eE]-?\d+)?")
_EDIFACT_LENGTH = re.compile(r"(a|n|an)(\.\.)?(\d+)")


@dataclass(frozen=True)
class ElementDef:
    """A simple data element, or a composite when ``components`` is set."""

    ref: str
    required: bool
    kind: str = "AN"  # X12 N0..N9, R, ID, AN, DT, TM, B; EDIFACT a, n, an
    min: int = 0
    max: int = 0
    codes: frozenset[str] | None = None
    components: tuple[ElementDef, ...] = ()
    repeat: int = 1  # occurrences allowed, split by the repetition separator (X12 00501+, EDIFACT 4)


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

    def __post_init__(self) -> None:
        first = self.children[0] if self.children else None
        if isinstance(first, SegmentEntry):
            self.trigger = first.tag


@dataclass
class MessageDefinition:
    standard: str
    id: str
    name: str
    versions: tuple[str, ...]
    structure: LoopDef
    segments: dict[str, tuple[ElementDef, ...] | None]  # None: layout not described
    hierarchy: bool = False  # X12 HL parent/child numbering is checked

    def covers(self, version: str) -> bool:
        return any(version.startswith(v) for v in self.versions)


# --- compiling -------------------------------------------------------------------------
class _Dictionaries(NamedTuple):
    """A standard's data dictionaries (see :mod:`waybill.edi.definitions`): ref -> its text."""

    elements: dict[str, str]  # element ref -> format
    codes: dict[str, list[str]]  # element ref -> allowed values
    composites: dict[str, str]  # composite ref -> its components' refs
    segments: dict[str, str]  # segment tag -> its elements' refs, "?" when not described


@cache
def _dictionaries(standard: str) -> _Dictionaries:
    prefix = standard.lower()
    return _Dictionaries(
        definitions.load(f"{prefix}_elements.json"), definitions.load(f"{prefix}_codes.json"),
        definitions.load(f"{prefix}_composites.json"), definitions.load(f"{prefix}_segments.json"))


def _element_format(text: str) -> tuple[str, int, int]:
    """"AN 1/35" or "an..35" / "n3" -> (kind, min, max)."""
    if " " in text:
        kind, span = text.split()
        low, high = span.split("/")
        return kind, int(low), int(high)
    match = _EDIFACT_LENGTH.fullmatch(text)
    if not match:
        raise ValueError(f"bad element format {text!r}")
    kind, variable, length = match.groups()
    return kind, (1 if variable else int(length)), int(length)


def _layout_item(standard: str, item: str) -> ElementDef:
    """One ref of a layout: "REF", "REF!" (mandatory), with "*N" when it repeats up to N times."""
    ref, _, repeat = item.partition("*")
    spec = _element(standard, ref.rstrip("!"), ref.endswith("!"))
    return replace(spec, repeat=int(repeat)) if repeat else spec


def _element(standard: str, ref: str, required: bool) -> ElementDef:
    elements, codes, composites, _ = _dictionaries(standard)
    if ref in composites:
        parts = tuple(_element(standard, r.rstrip("!"), r.endswith("!"))
                      for r in composites[ref].split())
        return ElementDef(ref, required, "C", components=parts)
    kind, low, high = _element_format(elements[ref])
    code_list = frozenset(codes[ref]) if ref in codes else None
    return ElementDef(ref, required, kind, low, high, code_list)


def _entry(standard: str, item: str | dict[str, Any]) -> SegmentEntry | LoopDef:
    if isinstance(item, dict):
        children = [_entry(standard, i) for i in item["segments"]]
        if not isinstance(children[0], SegmentEntry):
            raise ValueError(f"loop {item['loop']} must start with a segment")
        return LoopDef(item["loop"], item.get("required", False), item.get("max", 1), children)
    tag, _, max_use = item.partition("*")
    required = tag.endswith("!")
    return SegmentEntry(tag.rstrip("!"), required,
                        1 << 30 if max_use == ">1" else int(max_use or 1))


def _tags(loop: LoopDef) -> set[str]:
    tags: set[str] = set()
    for child in loop.children:
        tags |= _tags(child) if isinstance(child, LoopDef) else {child.tag}
    return tags


def compile_definition(data: dict[str, Any]) -> MessageDefinition:
    """Turn one parsed definition file into lookup-ready tables."""
    standard = data["standard"]
    structure = LoopDef(data["id"], True, 1, [_entry(standard, i) for i in data["structure"]])
    layouts = _dictionaries(standard).segments
    segments = {
        tag: None if layouts[tag] == "?" else
        tuple(_layout_item(standard, r) for r in layouts[tag].split())
        for tag in _tags(structure)
    }
    return MessageDefinition(standard, data["id"], data.get("name", ""), tuple(data["versions"]),
                             structure, segments, data.get("hierarchy", False))


# --- checking --------------------------------------------------------------------------
class _Frame:
    __slots__ = ("counts", "index", "loop")

    def __init__(self, loop: LoopDef) -> None:
        self.loop = loop
        self.index = 0
        self.counts = [0] * len(loop.children)


class _Checker:
    """Checks one message; ``position`` and ``tag`` are those of the segment being checked."""

    def __init__(self, definition: MessageDefinition, message: Message,
                 separators: Separators | None = None) -> None:
        self.definition = definition
        self.separators = separators
        self.standard = definition.standard
        self.seg_codes = _SEGMENT_CODES[self.standard]
        self.el_codes = _ELEMENT_CODES[self.standard]
        self.issues: list[Issue] = []
        self.message = message
        self.position = 0
        self.tag = ""

    def segment_issue(self, kind: str, position: int, tag: str, text: str) -> None:
        self.issues.append(Issue(Level.SEGMENT, self.seg_codes[kind], text, position, tag))

    def element_issue(self, kind: str, element: int, text: str, comp: int | None = None) -> None:
        """An issue with element ``element`` (component ``comp``) of the segment being checked."""
        self.issues.append(Issue(Level.ELEMENT, self.el_codes[kind], text, self.position, self.tag,
                                 element, comp))

    # structure -------------------------------------------------------------------------
    @staticmethod
    def _next(frame: _Frame) -> int:
        """Index of the first child of ``frame`` not yet passed."""
        return frame.index + 1 if frame.counts[frame.index] else frame.index

    def _missing(self, frame: _Frame, stop: int | None, position: int) -> None:
        """Report mandatory children of ``frame`` that were passed (up to ``stop``) unseen."""
        children = frame.loop.children
        for j in range(self._next(frame), len(children) if stop is None else stop):
            child = children[j]
            if child.required and frame.counts[j] == 0:
                tag = child.tag if isinstance(child, SegmentEntry) else child.trigger
                where = "" if isinstance(child, SegmentEntry) else f" (starting loop {child.id})"
                self.segment_issue("missing", position, tag,
                                   f"mandatory segment {tag}{where} is missing before segment "
                                   f"{position}")

    def place(self, stack: list[_Frame], tag: str, position: int) -> None:
        for depth in range(len(stack) - 1, -1, -1):
            frame = stack[depth]
            children = frame.loop.children
            # a loop's trigger segment starts a new occurrence, found in the parent frame
            for j in range(max(frame.index, 1 if depth else 0), len(children)):
                child = children[j]
                if isinstance(child, SegmentEntry):
                    if child.tag != tag:
                        continue
                elif child.trigger != tag:
                    continue
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
        elif tag in _dictionaries(self.standard).segments:
            self.segment_issue("not_in_set", position, tag,
                               f"segment {tag} is not used in {self.definition.id}")
        else:
            self.segment_issue("unknown", position, tag, f"segment id {tag!r} is not recognised")

    # elements --------------------------------------------------------------------------
    def check_value(self, value: str, spec: ElementDef, element: int, comp: int | None) -> None:
        label = f"{self.tag}{element:02d}" + (f"-{comp}" if comp else "")
        kind = spec.kind
        if kind in ("R", "n"):
            ok = bool(_DECIMAL.fullmatch(value))
            length = sum(c.isdigit() for c in value)
        elif kind[0] == "N" and kind != "N":
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

    def check_elements(self, seg: Segment) -> None:
        tag = self.tag
        specs = self.definition.segments.get(tag)
        if specs is None:
            return
        if len(seg) - 1 > len(specs):
            extra = seg[len(specs) + 1:]
            if any(extra):
                self.element_issue("too_many", len(specs) + 1,
                                   f"{tag} has {len(seg) - 1} elements, at most {len(specs)} are defined")
        for i, spec in enumerate(specs, 1):
            value = seg[i] if i < len(seg) else ""
            if value == "" or value == ("",) * len(value):
                if spec.required:
                    self.element_issue("missing", i, f"mandatory element {tag}{i:02d} ({spec.ref}) is missing")
                continue
            if spec.repeat > 1:
                self.check_repeats(value, spec, i)
                continue
            self.check_one(value, spec, i)

    def _repeats(self, value: Element) -> list[Element]:
        """The occurrences of a repeated element, split on the repetition separator."""
        seps = self.separators
        if seps is None or not seps.repetition:
            return [value]
        text = seps.component.join(value) if isinstance(value, tuple) else value
        if seps.repetition not in text:
            return [value]
        return [tuple(r.split(seps.component)) if seps.component in r else r
                for r in text.split(seps.repetition)]

    def check_repeats(self, value: Element, spec: ElementDef, i: int) -> None:
        occurrences = self._repeats(value)
        if len(occurrences) > spec.repeat:
            self.element_issue("repeats", i, f"{self.tag}{i:02d} occurs {len(occurrences)} times, "
                               f"at most {spec.repeat}")
        for occurrence in occurrences:
            if occurrence not in ("", ()):
                self.check_one(occurrence, spec, i)

    def check_one(self, value: Element, spec: ElementDef, i: int) -> None:
        """One occurrence of element ``i``, simple or composite."""
        tag = self.tag
        if spec.components:
            parts = value if isinstance(value, tuple) else (value,)
            if len(parts) > len(spec.components):
                self.element_issue("components", i, f"{tag}{i:02d} has {len(parts)} components, at most "
                                   f"{len(spec.components)} are defined")
            for c, cspec in enumerate(spec.components, 1):
                part = parts[c - 1] if c <= len(parts) else ""
                if part == "":
                    if cspec.required:
                        self.element_issue("missing", i, f"mandatory component {tag}{i:02d}-{c} ({cspec.ref}) "
                                           "is missing", c)
                    continue
                self.check_value(part, cspec, i, c)
        elif isinstance(value, tuple):
            self.element_issue("components", i, f"{tag}{i:02d} is a simple element but has components")
        else:
            self.check_value(value, spec, i, None)

    def check_hierarchy(self, seg: Segment, ids: set[Element]) -> None:
        """HL01 must be new and HL02 must name an earlier HL01."""
        own = seg[1] if len(seg) > 1 else ""
        parent = seg[2] if len(seg) > 2 else ""
        if own in ids:
            self.element_issue("code", 1, f"HL01 id {own!r} is used twice")
        if parent and parent not in ids:
            self.element_issue("code", 2, f"HL02 parent {parent!r} does not refer to an earlier HL01")
        ids.add(own)

    def run(self) -> list[Issue]:
        stack = [_Frame(self.definition.structure)]
        hl_ids: set[Element] = set()
        for position, seg in enumerate(self.message.segments, 1):
            tag = segment_id(seg)
            self.position, self.tag = position, tag
            self.place(stack, tag, position)
            self.check_elements(seg)
            if tag == "HL" and self.definition.hierarchy:
                self.check_hierarchy(seg, hl_ids)
        end = len(self.message.segments)
        for frame in reversed(stack):
            self._missing(frame, None, end)
        return self.issues


def validate(message: Message, interchange: Interchange | None = None) -> None:
    """Check ``message`` against its definition, if there is one, adding to ``message.issues``.

    Sets ``message.validated``; a message without a definition keeps only its envelope checks.
    Usable as the ``on_message`` hook of :func:`waybill.edi.envelope.read_interchanges`.
    """
    standard = interchange.standard if interchange else (
        "X12" if segment_id(message.segments[0]) == "ST" else "EDIFACT")
    definition = find_definition(standard, message.type, message.version)
    if definition is None:
        return
    separators = interchange.separators if interchange else None
    message.issues.extend(_Checker(definition, message, separators).run())
    message.validated = True


@cache
def catalog() -> dict[tuple[str, str], list[MessageDefinition]]:
    """(standard, message type) -> compiled definitions of every version, compiled once."""
    out: dict[tuple[str, str], list[MessageDefinition]] = {}
    for name in definitions.names():
        definition = compile_definition(definitions.load(name))
        out.setdefault((definition.standard, definition.id), []).append(definition)
    return out


def find_definition(standard: str, message_type: str, version: str) -> MessageDefinition | None:
    """The definition covering ``version`` of ``message_type``, or None."""
    for definition in catalog().get((standard, message_type), []):
        if definition.covers(version):
            return definition
    return None
