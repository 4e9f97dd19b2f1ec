"""Message validation against the definitions: one test per error class, codes and positions."""

from __future__ import annotations

import functools
import itertools

import pytest

from waybill.edi import definitions, validator
from waybill.edi.errors import Level
from waybill.edi.validator import Options, compile_message

from .util import ISA, PO_BODY, codes, only, read, x12


def issues_of(body: list[str], **kwargs):
    [ic] = read(x12(body, **kwargs))
    [message] = ic.messages
    return message


def first(message, code: str):
    return next(i for i in message.issues if i.qualified_code("X12") == code)


def test_valid_purchase_order_is_validated_and_accepted():
    message = issues_of(PO_BODY)
    assert message.validated and message.accepted


@pytest.mark.parametrize("body, code, position, segment_id", [
    (["BEG*00*SA*PO-1**20260101", "ZZZ*1", *PO_BODY[2:]], "AK304:1", 3, "ZZZ"),
    (["BEG*00*SA*PO-1**20260101", "BSN*00*1*20260101*1200", *PO_BODY[2:]], "AK304:6", 3, "BSN"),
    ([*PO_BODY[:3], "BEG*00*SA*PO-1**20260101", *PO_BODY[3:]], "AK304:7", 5, "BEG"),
    (PO_BODY[1:], "AK304:3", 2, "BEG"),
    (["BEG*00*SA*PO-1**20260101", "BEG*00*SA*PO-1**20260101", *PO_BODY[1:]], "AK304:5", 3, "BEG"),
    (["BEG*00*SA*PO-1**20260101", "N1*ST*Warehouse 1*92*W1", "CTT*0"], "AK304:3", 4, "PO1"),
])
def test_segment_errors(body, code, position, segment_id):
    issue = first(issues_of(body), code)
    assert (issue.segment_position, issue.segment_id, issue.level) == (position, segment_id, Level.SEGMENT)


def test_loop_repeated_beyond_its_maximum():
    body = ["BEG*00*SA*PO-1**20260101"] + ["N1*ST*W"] * 201 + PO_BODY[2:]
    issue = first(issues_of(body), "AK304:4")
    assert issue.segment_id == "N1" and issue.segment_position == 203


@pytest.mark.parametrize("beg, code, element", [
    ("BEG*00*SA**20260101", "AK403:1", 3),  # too few: BEG05 date missing too, BEG03 empty
    ("BEG*00*SA*PO-1**20261301", "AK403:8", 5),
    ("BEG*0*SA*PO-1**20260101", "AK403:4", 1),
    ("BEG*00*SA*" + "X" * 23 + "**20260101", "AK403:5", 3),
    ("BEG*00*SA*PO-1**20260101********X", "AK403:3", 13),  # 004010 BEG has 12 elements
])
def test_element_errors(beg, code, element):
    issue = first(issues_of([beg, *PO_BODY[1:]]), code)
    assert (issue.segment_id, issue.element_position, issue.level) == ("BEG", element, Level.ELEMENT)
    assert issue.segment_position == 2


def test_numeric_time_and_code_list_checks():
    message = issues_of([*PO_BODY[:2], "PO1*1*ten*EA*2.5**VP*SKU-1", "DTM*002*20260101*2599", "CTT*1"])
    assert first(message, "AK403:6").element_position == 2
    assert first(message, "AK403:9").segment_id == "DTM"


@pytest.mark.parametrize("mode, rejected, warned", [("off", False, False), ("warn", False, True),
                                                     ("reject", True, False)])
def test_code_lists_are_checked_as_the_partner_asks(mode, rejected, warned):
    hook = validator.Hook(Options(code_lists=mode))
    [ic] = read(x12([PO_BODY[0], "SAC*X*D240", *PO_BODY[1:]]), on_message=hook)
    [message] = ic.messages
    assert (not message.accepted, bool(message.warnings)) == (rejected, warned)
    if rejected or warned:
        issue = (message.issues or message.warnings)[0]
        assert (issue.qualified_code("X12"), issue.segment_id, issue.element_position) == ("AK403:7", "SAC", 1)


def test_composite_components_are_checked_with_their_position():
    message = issues_of([*PO_BODY[:2], "PO1*1*1*EA", "MEA*PD*G*1**", "CTT*1"])
    assert message.accepted
    bad = issues_of([*PO_BODY[:2], "PO1*1*1*EA", "MEA*PD*G*1*>2", "CTT*1"])
    issue = first(bad, "AK403:1")
    assert (issue.element_position, issue.component_position) == (4, 1)


def test_hl_hierarchy_of_the_856():
    body = ["BSN*00*SH1*20260101*1200", "HL*1**S", "TD1*CTN*1", "HL*2*1*O", "PRF*PO-1",
            "HL*3*9*I", "LIN**VP*SKU-1", "SN1**5*EA", "CTT*3"]
    message = issues_of(body, set_id="856", functional_id="SH")
    issue = first(message, "AK403:7")
    assert (issue.segment_id, issue.element_position, issue.segment_position) == ("HL", 2, 7)
    good = issues_of([b.replace("HL*3*9*I", "HL*3*2*I") for b in body], set_id="856",
                     functional_id="SH")
    assert good.accepted, good.issues


def test_a_set_without_definition_is_envelope_checked_only():
    # 003040 is not among the published sources the definitions come from
    [ic] = read(x12(["BPR*C*100*C*ACH"], set_id="820", functional_id="RA", gs_version="003040"))
    assert ic.messages[0].validated is False and ic.accepted
    [ic] = read(x12(["BPR*C*100*C*ACH"], set_id="820", functional_id="RA", se_count=9,
                    gs_version="003040"))
    assert codes(ic) == ["AK502:4"]
    strict = validator.Hook(Options(unvalidated="reject"))
    [ic] = read(x12(["BPR*C*100*C*ACH"], set_id="820", functional_id="RA", gs_version="003040"),
                on_message=strict)
    assert codes(ic) == ["AK502:1"]


def test_997_and_999_are_validated():
    body = ["AK1*PO*1", "AK2*850*0001", "AK5*A", "AK9*A*1*1*1"]
    assert issues_of(body, set_id="997", functional_id="FA").accepted
    [ic] = read(x12(["AK1*PO*1", "AK2*850*0001", "AK5*Q", "AK9*A*1*1*1"], set_id="997",
                    functional_id="FA"), on_message=validator.Hook(Options(code_lists="reject")))
    assert first(ic.messages[0], "AK403:7").segment_id == "AK5"
    # a 005010 997 (X230) is validated too: an empty one is rejected
    empty = issues_of([], set_id="997", functional_id="FA", gs_version="005010X230")
    assert empty.validated and first(empty, "AK304:3").segment_id == "AK1"
    ik = ["AK1*PO*1*005010", "AK2*850*0001", "IK3*BEG*2**8", "IK4*5**8*20261301", "IK5*R*5",
          "AK9*R*1*1*0"]
    assert issues_of(ik, set_id="999", functional_id="FA", gs_version="005010X231A1").accepted


def test_every_x12_definition_compiles():
    for version, count in (("004010", 293), ("005010", 9)):
        doc = definitions.x12(version)
        assert len(doc["messages"]) == count
        for key in doc["messages"]:
            compiled = compile_message(doc, key, with_codes=True)
            assert compiled.structure.children[0].tag == "ST"
            assert compiled.structure.children[-1].tag == "SE"


EDIFACT_BODY = ["BGM+220+PO-1+9", "DTM+137:20260101:102", "NAD+BY+5412345000013::9",
                "LIN+1++4000862141404:SRS", "QTY+21:10", "UNS+S", "CNT+2:1"]


def edifact_message(body, msg_type="ORDERS:D:96A:UN"):
    from .util import edifact

    [ic] = read(edifact(body, msg_type=msg_type))
    return ic.messages[0]


@pytest.mark.parametrize("msg_type", ["ORDERS:D:96A:UN", "ORDERS:D:97A:UN", "ORDERS:D:01B:UN",
                                      "ORDERS:D:21B:UN"])
def test_edifact_orders_versions_are_validated(msg_type):
    message = edifact_message(EDIFACT_BODY, msg_type)
    assert message.validated and message.accepted, message.issues


@pytest.mark.parametrize("body, code, segment_id, position, element, component", [
    (EDIFACT_BODY[1:], "UCS:13", "BGM", 2, None, None),
    ([EDIFACT_BODY[0], "XYZ+1", *EDIFACT_BODY[1:]], "UCS:15", "XYZ", 3, None, None),
    ([*EDIFACT_BODY[:4], "QTY+21", *EDIFACT_BODY[5:]], "UCD:13", "QTY", 6, 1, 2),
    ([*EDIFACT_BODY[:4], "QTY+21:ten:PCE:X", *EDIFACT_BODY[5:]], "UCD:16", "QTY", 6, 1, None),
    ([*EDIFACT_BODY[:4], "QTY+" + "9" * 4 + ":10", *EDIFACT_BODY[5:]], "UCD:39", "QTY", 6, 1, 1),
    ([*EDIFACT_BODY[:6], "CNT+2:x"], "UCD:37", "CNT", 8, 1, 2),
])
def test_edifact_segment_and_element_errors(body, code, segment_id, position, element, component):
    message = edifact_message(body)
    issue = next(i for i in message.issues if i.qualified_code("EDIFACT") == code)
    assert (issue.segment_id, issue.segment_position, issue.element_position,
            issue.component_position) == (segment_id, position, element, component)


@pytest.mark.parametrize("msg_type, body", [
    ("ORDRSP:D:96A:UN", ["BGM+231+R-1+29", "DTM+137:20260101:102", "LIN+1+5+4000862141404:SRS", "UNS+S"]),
    ("DESADV:D:96A:UN", ["BGM+351+D-1+9", "DTM+137:20260101:102", "CPS+1", "PAC+1++CT",
                         "LIN+1++4000862141404:SRS", "QTY+12:10", "CNT+2:1"]),
    ("INVOIC:D:01B:UN", ["BGM+380+I-1+9", "DTM+137:20260101:102", "NAD+SU+4012345000009::9",
                         "LIN+1++4000862141404:SRS", "QTY+47:10", "UNS+S", "MOA+77:25"]),
    ("INVRPT:D:97A:UN", ["BGM+35+S-1+9", "DTM+137:20260101:102", "LIN+1++4000862141404:SRS",
                         "INV+1", "QTY+145:10"]),
    ("IFTSTA:D:01B:UN", ["BGM+77+T-1+9", "DTM+137:20260101:102", "CNI+1", "STS+1+21"]),
    ("APERAK:D:96A:UN", ["BGM+27+A-1+9", "DTM+137:20260101:102", "ERC+1"]),
])
def test_other_edifact_messages_have_definitions(msg_type, body):
    message = edifact_message(body, msg_type)
    assert message.validated and message.accepted, message.issues


def test_5010_repeats_are_split_on_the_isa11_repetition_separator():
    isa = ISA.replace("*U*00401*", "*^*00501*")
    body = ["AK1*PO*1*005010", "AK2*850*0001", "IK3*N1*3**8",
            "CTX*SITUATIONAL TRIGGER>N1^CLM01>123", "IK5*R*5", "AK9*R*1*1*0"]
    ic = only(x12(body, isa=isa, set_id="999", functional_id="FA", gs_version="005010X231A1"))
    assert ic.accepted and ic.messages[0].validated, codes(ic)
    eleven = "^".join(["CLM01>123"] * 11)
    body[3] = "CTX*" + eleven
    ic = only(x12(body, isa=isa, set_id="999", functional_id="FA", gs_version="005010X231A1"))
    issue = next(i for m in ic.messages for i in m.issues)
    assert (issue.qualified_code("X12"), issue.segment_id, issue.element_position) == \
        ("AK403:12", "CTX", 1)


@pytest.mark.parametrize("segment", [
    "DTM*002*20260101", "DTM*002", "DTM*002****D8", "DTM*002****D8*20260101", "DTM*002*20260101*1200",
    "DTM*002**1200", "DTM*002*20260101**01", "PO1*1*10*EA*2.5**VP*SKU-1*BP", "PO1*1*10*EA*2.5**VP",
    "PO1*1**EA*2.5**VP*SKU-1", "PO1*1*10*EA", "N1*ST", "N1*ST*Name", "N1*ST**92", "N1*ST**92*W1",
    "REF*PO", "REF*PO*1", "REF*PO**text", "MEA*PD*G*1", "MEA*PD*G", "MEA*PD*G*1*EA",
])
def test_the_one_step_check_agrees_with_the_element_by_element_check(segment, monkeypatch):
    """Syntax notes read by the message pattern's lookaheads decide as the element walk does."""
    body = [*PO_BODY[:2], "PO1*1*1*EA", segment, "CTT*1"] if not segment.startswith(("PO1", "N1")) \
        else [PO_BODY[0], segment, "PO1*2*1*EA", "CTT*1"] if segment.startswith("N1") \
        else [*PO_BODY[:2], segment, "CTT*1"]
    fast = issues_of(body)
    monkeypatch.setattr(validator, "_one_step", lambda definition, separators, segments, raw: None)
    slow = issues_of(body)
    assert fast.accepted == slow.accepted, (fast.issues, slow.issues)
    assert [i.code for i in fast.issues] == [i.code for i in slow.issues]


def _sample_value(spec: validator.ElementDef) -> str:
    """A valid non-empty value of ``spec`` (every component filled in for a composite)."""
    if spec.components:
        return ">".join(_sample_value(c) for c in spec.components)
    if spec.kind == "DT":
        return "20260101" if spec.min == 8 else "260101"
    if spec.kind == "TM":
        return "1200"
    digit = spec.kind in ("R", "n") or spec.kind[:1] == "N"
    return ("1" if digit else "X") * max(spec.min, 1)


def _notes_agree(sdef: validator.SegmentDef, masks: int, every_up_to: int = 10) -> int:
    """Fill ``sdef``'s elements in every combination of present and absent (``masks`` random ones
    where it has more than ``every_up_to`` elements): its one-step pattern matches exactly when
    the element walk finds its notes met. Returns how many combinations were valid."""
    import random

    pattern = sdef.pattern("*", ">", "")
    count = len(sdef.elements)
    rng = random.Random(sdef.tag)
    combinations = range(1 << count) if count <= every_up_to else [rng.getrandbits(count) for _ in range(masks)]
    agreed = 0
    for mask in combinations:
        values = [_sample_value(spec) if (mask >> i & 1 or spec.required) and spec.ref else ""
                  for i, spec in enumerate(sdef.elements)]
        segment = [sdef.tag, *values]
        while segment[-1] == "" and len(segment) > 1:
            segment.pop()
        text = "*".join(segment)
        finished = [sdef.tag, *(tuple(v.split(">")) if ">" in v else v for v in segment[1:])]
        expected = not validator._notes_fail(finished, sdef.notes)
        assert (pattern.fullmatch(text) is not None) == expected, (text, sdef.notes)
        agreed += expected
    return agreed


@pytest.mark.parametrize("tag", ["PO4", "SAC", "CTP", "PO1", "TD5", "MEA", "PID", "TD1"])
def test_the_unfolded_syntax_notes_accept_exactly_what_the_notes_allow(tag):
    """Every combination of present and absent elements (a sample where there are many)."""
    definition = validator.find_definition("X12", "850", "004010")
    assert definition is not None
    sdef = definition.segments[tag]
    assert sdef is not None and sdef.notes
    assert _notes_agree(sdef, 3000)  # some combinations are valid, so the pattern was exercised both ways


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_every_segment_s_notes_unfold_exactly(version):
    """The notes of every X12 segment layout, however they overlap (CTP's C0902 and C1103 reach
    back across four other notes, PO4's C1704 across six): the unfolded pattern agrees with the
    element walk on random combinations. (The EDIFACT directories state no such notes.)"""
    doc = definitions.x12(version)
    seen, checked = set(), 0
    for data in [{}, *(m for m in doc["messages"].values() if m.get("segments"))]:  # a guide's own too
        layouts = {**doc["segments"], **data.get("segments", {})}
        tags = sorted(tag for tag, layout in layouts.items() if layout.get("notes"))
        every = {**doc, "messages": {"ALL": {"structure": [[tag, False, 1] for tag in tags],
                                             "segments": data.get("segments", {})}}}
        for sdef in compile_message(every, "ALL").segments.values():
            if sdef is not None and sdef.notes and repr(sdef) not in seen:
                seen.add(repr(sdef))
                _notes_agree(sdef, 200, every_up_to=7)
                checked += 1
    assert checked > 40


def _mutated_value(spec: validator.ElementDef, rng) -> str:
    """A value of ``spec`` that is valid, empty, or wrong in one of the ways the element walk
    reports (too long, too short, not numeric, a bad date or time, stray components)."""
    good = _sample_value(spec)
    choice = rng.randrange(10)
    if choice < 4:
        return good
    if choice < 6:
        return ""
    if spec.components:
        return rng.choice([">" * rng.randrange(1, 4), good + ">X", ">" + good, good.split(">")[0]])
    if choice == 6:
        return good + "1" * (spec.max + 1 - len(good)) if spec.max < 40 else good
    if choice == 7:
        return rng.choice(["A", "1.", ".5", "-1", "12.5", "1,5", "0099"])
    if choice == 8 and spec.kind in ("DT", "TM"):
        return rng.choice(["20260229", "20261301", "2460", "1260", "123", "20240229"])
    return good[:-1] or "1"


@pytest.mark.parametrize("tag", ["PO4", "SAC", "CTP", "PO1", "TD5", "MEA", "PID", "TD1", "SDQ", "SLN"])
def test_the_segment_patterns_agree_with_the_element_walk(tag):
    """Segments of random present, empty and wrong elements, with and without trailing
    separators: a segment's one-step pattern, alone and as matched in a row with its terminator,
    matches exactly when the element walk finds nothing wrong (but for decimal commas, which
    only the walk reads)."""
    import random
    import re

    definition = validator.find_definition("X12", "850", "004010")
    assert definition is not None
    sdef = definition.segments[tag]
    assert sdef is not None
    alone = sdef.pattern("*", ">", "")
    in_row = re.compile(validator._segment_body(sdef, "*", ">", "", terminator="~") + "~", re.DOTALL)
    seps = validator.Separators(element="*", component=">", segment="~")
    rng = random.Random(tag)
    verdicts = set()
    for _ in range(3000):
        count = rng.randrange(len(sdef.elements) + 1)
        values = [_mutated_value(spec, rng) if spec.ref else "" for spec in sdef.elements[:count]]
        text = "*".join([tag, *values]) + "*" * rng.choice([0, 0, 1, 2])
        finished = [tag, *(tuple(v.split(">")) if ">" in v else v for v in text.split("*")[1:])]
        checker = validator._Checker(definition, seps, Options())
        checker.tag = tag
        checker.check_elements(finished, sdef)
        valid = not checker.issues
        # a decimal comma is left to the walk: the patterns read the point only
        for matched in (alone.fullmatch(text) is not None, in_row.fullmatch(text + "~") is not None):
            assert matched == valid or (valid and "," in text), (text, checker.issues)
        verdicts.add(valid)
    assert verdicts == {True, False}


# A segment occurrence beyond the maximum use of its position goes on to the next position of the
# loop with the same tag when the order allows it (the table's positions are distinct): 124's
# VEH loop has an NM1 segment and, after optional segments, an NM1 loop (a third NM1 starts the
# loop again); DELFOR D96A has UNS before and after its optional SG4.
SET_124 = ["BGN*00*1*20260101", "NM1*XX*1", "LX*1", "LM*AB", "LQ*1*A", "VEH*1"]
VEH_END = ["N9*ZZ*1"]
DELFOR_BODY = ["BGM+241+F-1+9", "DTM+137:20260101:102"]


def _both_paths(monkeypatch, read_message):
    """The issues of one message as the one-step check and the element walk find them."""
    fast = read_message()
    with monkeypatch.context() as patched:
        patched.setattr(validator, "_one_step", lambda definition, separators, segments, raw: None)
        slow = read_message()
    return fast, slow


def _found(message):
    return [(i.code, i.segment_position, i.segment_id, i.element_position) for i in message.issues]


@pytest.mark.parametrize("read_message", [
    lambda: issues_of([*SET_124, "NM1*XX*1", "NM1*YY*1", *VEH_END], set_id="124", functional_id="PA"),
    lambda: edifact_message([*DELFOR_BODY, "UNS+D", "UNS+S"], "DELFOR:D:96A:UN"),
], ids=["124-NM1", "DELFOR-UNS"])
def test_a_tag_beyond_its_positions_maximum_fills_the_next_position_with_that_tag(read_message, monkeypatch):
    fast, slow = _both_paths(monkeypatch, read_message)
    assert fast.validated and fast.accepted, fast.issues
    assert slow.validated and slow.accepted, slow.issues


@pytest.mark.parametrize("read_message, code, position, segment_id", [
    (lambda: issues_of([*SET_124, "NM1*XX*1", "NM1*YY*1", "N2*A", "N2*B", "N2*C", *VEH_END],
                       set_id="124",
                       functional_id="PA"), "AK304:5", 12, "N2"),
    (lambda: issues_of(["BGN*00*1*20260101", "NM1*XX*1", "LX*1", "LM*AB", "LQ*1*A", "LM*AB", "LQ*1*A",
                        "LQ*1*A"], set_id="124", functional_id="PA"), "AK304:5", 9, "LQ"),
    (lambda: edifact_message([*DELFOR_BODY, "UNS+D", "UNS+S", "UNS+S"], "DELFOR:D:96A:UN"),
     "UCS:35", 6, "UNS"),
], ids=["124-N2", "124-LQ", "DELFOR-UNS"])
def test_a_tag_beyond_the_maximum_of_its_last_position_is_reported_by_both_paths(read_message, code,
                                                                                 position, segment_id,
                                                                                 monkeypatch):
    fast, slow = _both_paths(monkeypatch, read_message)
    assert _found(fast) == _found(slow)
    standard = "X12" if code.startswith("AK") else "EDIFACT"
    issue = next(i for i in slow.issues if i.qualified_code(standard) == code)
    assert (issue.segment_position, issue.segment_id, issue.level) == (position, segment_id, Level.SEGMENT)


def _minimal_segment(sdef: validator.SegmentDef | None, tag: str, element: str, component: str) -> str:
    """A valid text of segment ``tag``: its mandatory elements, and what its syntax notes ask."""
    if sdef is None:  # a service segment the envelope reads (UNS)
        return tag + element + "S"
    filled = {i for i, spec in enumerate(sdef.elements, 1) if spec.required and spec.ref}
    for _ in range(len(sdef.notes) + 1):
        values = [_sample_value(spec).replace(">", component) if i in filled else ""
                  for i, spec in enumerate(sdef.elements, 1)]
        finished = [tag, *(tuple(v.split(component)) if component in v else v for v in values)]
        failed = [n for n in sdef.notes if validator._violation(finished, n) is not None]
        if not failed:
            break
        for note in failed:  # the notes' first element or all of them; an exclusion keeps its first
            if note.kind == "E":
                filled -= set(note.positions[1:])
            elif note.kind in ("P", "L", "C"):
                filled |= set(note.positions)
            else:
                filled.add(note.positions[0])
    text = element.join([tag, *values])
    while text.endswith(element):
        text = text[:-1]
    return text


def _occurrence(definition, child, seps: tuple[str, str]) -> list[str]:
    """One occurrence of ``child``: a segment, or a loop's mandatory content."""
    if isinstance(child, validator.SegmentEntry):
        return [_minimal_segment(definition.segments[child.tag], child.tag, *seps)]
    return _content(definition, child, [], None, seps)


def _content(definition, node, path, pair, seps: tuple[str, str]) -> list[str]:
    """``node``'s mandatory children; along ``path`` down to the loop holding positions ``pair``,
    the first of them filled and then the second, nothing between them."""
    out: list[str] = []
    children = node.children
    skip = range(0)
    for i, child in enumerate(children):
        if i in skip:
            continue
        if path and child is path[0]:
            out += _content(definition, child, path[1:], pair, seps)
        elif not path and pair is not None and i == pair[0]:
            out += [s for _ in range(child.max) for s in _occurrence(definition, child, seps)]
            out += _occurrence(definition, children[pair[1]], seps)
            skip = range(pair[0], pair[1] + 1)
        elif child.required:
            out += _occurrence(definition, child, seps)
    return out


def _same_tag_positions(definition, node, path):
    """(loops down to the loop, its two positions, whether nothing mandatory lies between) for
    every two successive positions of one tag in a loop, the first of limited use."""
    for child in node.children:
        if isinstance(child, validator.LoopDef):
            yield from _same_tag_positions(definition, child, [*path, child])
    for places in node.index.values():
        places = tuple(i for i in places if node is definition.structure or i > 0)  # not a trigger
        for a, b in itertools.pairwise(places):
            if node.children[a].max < 10:
                yield path, (a, b), not any(c.required for c in node.children[a + 1:b])


def _repeated_tag_messages(standard: str, version: str):
    """For every loop listing one tag at two positions: a minimal message filling the first
    position and then the second (message type, body, whether nothing mandatory lies between)."""
    doc = definitions.x12(version) if standard == "X12" else definitions.edifact(version)
    assert doc is not None
    seps = ("*", ">") if standard == "X12" else ("+", ":")
    service = ("ST", "SE") if standard == "X12" else ("UNH", "UNT")
    for key in doc["messages"]:
        definition = compile_message(doc, key)
        for path, pair, clear in _same_tag_positions(definition, definition.structure, []):
            body = _content(definition, definition.structure, path, pair, seps)
            yield key, [s for s in body if s.split(seps[0])[0] not in service], clear


@pytest.mark.parametrize("standard, version", [("X12", "004010"), ("EDIFACT", "D96A")])
def test_the_one_step_check_agrees_with_the_element_walk_on_repeated_tags(standard, version, monkeypatch):
    """Over the definitions: every loop listing a tag at two positions, filled at the first and,
    one occurrence more, at the second. The element walk finds what the one-step check finds,
    and both accept the message when nothing else lies between the two positions."""
    from .util import edifact

    def read_message(key, body):
        text = x12(body, set_id=key) if standard == "X12" else edifact(body, msg_type=f"{key}:D:96A:UN")
        [ic] = read(text)
        return ic.messages[0]

    checked = clear_ones = 0
    for key, body, clear in _repeated_tag_messages(standard, version):
        fast, slow = _both_paths(monkeypatch, functools.partial(read_message, key, body))
        assert _found(fast) == _found(slow), (key, body, fast.issues, slow.issues)
        assert slow.accepted or not clear, (key, body, slow.issues)
        checked += 1
        clear_ones += clear
    assert checked > 20 and clear_ones >= 2, (checked, clear_ones)
