"""The generated definitions against a second source, per standard and version.

* X12 004010 (from EdiEngine's tables) against azoner/pyx12: its data-element dictionary
  (dataele.xml), the segments of its 004010 maps, and the segments each of its 004010 maps uses.
* X12 005010 (from pyx12's maps) against EdiEngine's 004010 segments, where X12 did not change
  them between the versions.
* UN/EDIFACT (from the UNECE directories): segment specifications (EDSD) against the composite
  and element directories (EDCD, EDED), and each message's segment table against its own
  "Segment group N: ..." clarification text, two independent statements in the UNECE files.
* UN/EDIFACT service segments (from StAEDI's envelope schemas) against pydifact 0.2.3's syntax
  declarations, read with ``ast``: UNB in syntax versions 1, 3 and 4 (pydifact's version 2
  declares no UNB), each position's element or composite in order, mandatory or conditional,
  every component's element, status and format, the element classes' own formats and 0001's codes;
  and syntax version 3's coded service elements against UNECE's service code list (UNSL, D.96A).

Where the sources disagree, the test names each case and why; anything else must agree.
"""

from __future__ import annotations

import ast
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from waybill.edi import definitions
from waybill.edi.definitions import unece

#: pyx12's dictionary and 004010 maps, copied with their licence (SOURCES.tsv beside them)
PYX12 = Path(__file__).resolve().parents[1] / "data" / "edi" / "pyx12"


#: local, trusted files: no entities resolved, no network
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _xml(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), _PARSER)

def pyx12_segments(pattern: str) -> dict[str, dict[int, str]]:
    """Segment tag -> {position: element or composite ref} over pyx12's maps matching pattern."""
    out: dict[str, dict[int, str]] = {}
    for path in sorted(PYX12.glob(pattern)):
        for seg in _xml(path).getroot().iter("segment"):
            refs = out.setdefault(seg.get("xid") or "", {})
            for child in seg:
                if child.tag in ("element", "composite"):
                    refs[int(child.findtext("seq") or 0)] = (child.findtext("data_ele") or "").strip()
    return out


def tags(structure: list[Any]) -> set[str]:
    found: set[str] = set()
    for item in structure:
        found |= tags(item["children"]) if isinstance(item, dict) else {item[0]}
    return found


# --- X12 004010 --------------------------------------------------------------------------------
def test_x12_004010_elements_agree_with_pyx12_dataele():
    ours = definitions.x12("004010")["elements"]
    theirs = {n.get("ele_num"): (n.get("data_type"), int(n.get("min_len") or 0), int(n.get("max_len") or 0))
              for n in _xml(PYX12 / "dataele.xml").getroot().iter("data_ele")}
    common = sorted(set(ours) & set(theirs))
    assert len(common) >= 300
    same = [r for r in common if tuple(ours[r]) == theirs[r]]
    # the only differences: EdiEngine types ID elements whose code list is external (currency,
    # country...) as AN; pyx12's dictionary carries 005010 lengths where 005010 widened them
    for ref in set(common) - set(same) - {"447"}:  # 447: EdiEngine AN 1/6, pyx12 AN 1/4
        (kind, low, high), (their_kind, their_low, their_high) = ours[ref], theirs[ref]
        assert kind == their_kind or {kind, their_kind} <= {"AN", "ID"}, ref
        assert (low, high) == (their_low, their_high) or their_high > high or their_low < low, ref
    assert len(same) >= 0.9 * len(common)
    # the facts this project was bitten by, in both sources
    for ref, spec in {"474": ("AN", 1, 22), "451": ("AN", 1, 12), "387": ("AN", 1, 35)}.items():
        assert tuple(ours[ref]) == spec


def test_x12_004010_segments_agree_with_pyx12_4010_maps():
    ours = definitions.x12("004010")["segments"]
    theirs = pyx12_segments("*.4010*.xml")
    compared = disagree = 0
    for tag, refs in theirs.items():
        if tag not in ours:
            continue
        mine = [ref for ref, _ in ours[tag]["elements"]]
        compared += 1
        if not all(pos <= len(mine) and mine[pos - 1] == ref for pos, ref in refs.items()):
            disagree += 1
            # GS: EdiEngine names GS02/GS03 G142/G124 and GS05 9830 (its own envelope ids); UIT:
            # pyx12's guide writes UIT01 as element 355, the first component of composite C001
            assert tag in ("GS", "UIT"), (tag, refs, mine)
    assert compared >= 90 and disagree == 2
    w05 = ours["W05"]["elements"]
    assert w05[4] == ["474", False] and ours["W01"]["elements"][12][0] == "451"


@pytest.mark.parametrize("map_name, missing", [
    ("997.4010.xml", set()), ("830.4010.PS.xml", set()), ("270.4010.X092.A1.xml", set()),
    ("835.4010.X091.A1.xml", set()), ("820.4010.X061.A1.xml", set()), ("834.4010.X095.A1.xml", set()),
    ("276.4010.X093.A1.xml", set()), ("278.4010.X094.A1.xml", set()),
    # EdiEngine's 837 has no LQ/FRM (supporting documentation) loop that the 837P guide uses
    ("837.4010.X098.A1.xml", {"LQ", "FRM"}),
])
def test_x12_004010_sets_hold_every_segment_pyx12_uses(map_name, missing):
    root = _xml(PYX12 / map_name).getroot()
    st01 = next(e for e in root.iter("element") if e.get("xid") == "ST01")
    set_id = (st01.findtext("valid_codes/code") or "").strip()
    used = {s.get("xid") for s in root.iter("segment")} - {"ISA", "GS", "GE", "IEA", "TA1"}
    structure = definitions.x12("004010")["messages"][set_id]["structure"]
    assert used - tags(structure) == missing
    assert structure[0][0] == "ST" and structure[-1][0] == "SE"


# --- X12 005010 --------------------------------------------------------------------------------
def test_x12_005010_segments_agree_with_edi_engine_where_x12_did_not_change_them():
    ours = definitions.x12("005010")
    older = definitions.x12("004010")["segments"]
    compared = 0
    changed = set()
    for message in ours["messages"].values():
        for tag, layout in message["segments"].items():
            if tag not in older:
                continue
            previous = [ref for ref, _ in older[tag]["elements"]]
            refs = [item[0] for item in layout["elements"]]
            compared += 1
            if not all(i >= len(previous) or not ref or ref == previous[i] for i, ref in enumerate(refs)):
                changed.add(tag)
    # 005010 made DMG05 composite C056 (was 1109), INS06 composite C052 (was 1218) and moved
    # MIA02/MIA03 (782/380 amounts)
    assert changed == {"DMG", "INS", "MIA"}
    assert compared >= 150
    sets = {m["id"] for m in ours["messages"].values()}
    assert {"997", "999", "277", "820", "834", "835", "837"} <= sets
    ack999 = next(m for m in ours["messages"].values() if "005010X231A1" in m["versions"])
    ctx = ack999["segments"]["CTX"]
    assert ctx["elements"][0] == ["C998", True, 10]  # CTX01 repeats up to 10 times


# --- UN/EDIFACT --------------------------------------------------------------------------------
_CLARIFICATION = re.compile(r"Segment [Gg]roup\s+(\d+)\s*:\s*((?:[A-Z0-9]+\s*-\s*)*[A-Z0-9]+)")
#: Messages whose UNECE files disagree with themselves: the segment table (read) against the
#: clarification text. D.93A's texts describe other revisions of 11 messages; D.95B CUSCAR's
#: table holds groups 14-16 marked deleted; D.99B BOPBNK's table closes group 3 at LOC where its
#: text puts group 4 inside group 3.
SELF_INCONSISTENT = {
    "D93A": {"DELJIT", "DESADV", "IFTMBP", "INVRPT", "ORDCHG", "PAYDUC", "REMADV", "SANCRT", "SLSRPT",
             "SUPCOT", "SUPMAN"},
    "D95B": {"CUSCAR"},
    "D99B": {"BOPBNK"},
}
EVERY_DIRECTORY = ["D93A", "D95B", "D96A", "D96B", "D97A", "D98B", "D99B", "D00A", "D01B", "D03B",
                   "D05B", "D07A", "D10B", "D16A", "D21B"]


def _groups(structure: list[Any], out: dict[str, list[str]]) -> dict[str, list[str]]:
    for item in structure:
        if isinstance(item, dict):
            out[item["loop"]] = [c[0] if isinstance(c, list) else c["loop"] for c in item["children"]]
            _groups(item["children"], out)
    return out


def _files(directory: str) -> list[tuple[str, str]]:
    data = definitions._shipped()[directory].read_bytes()
    return [(name, unece._text(content)) for name, content in unece._files(zipfile.ZipFile(io.BytesIO(data)))]


def check_message_tables(directory: str) -> None:
    doc = definitions.edifact(directory)
    assert doc is not None
    disagree = set()
    compared = 0
    for name, text in _files(directory):
        match = re.fullmatch(r"([A-Z]{6})_[A-Z]\.\d\d[A-Z]", name.upper())
        if not match:
            continue
        said: dict[str, list[str]] = {}
        for group in _CLARIFICATION.finditer(text):
            said.setdefault(f"SG{group[1]}", re.sub(r"\s", "", group[2]).split("-"))
        read = _groups(doc["messages"][match[1]]["structure"], {})
        compared += 1
        if said != read:
            disagree.add(match[1])
    assert compared == len(doc["messages"]) >= 55
    assert disagree <= SELF_INCONSISTENT.get(directory, set()), disagree - SELF_INCONSISTENT.get(directory, set())


def check_segments(directory: str) -> None:
    """EDSD's inline composites and formats against EDCD and EDED."""
    doc = definitions.edifact(directory)
    assert doc is not None
    composites: dict[str, list[list[Any]]] = {}
    formats: dict[str, list[Any]] = {}
    for name, text in _files(directory):
        stem = name.upper().split(".")[0]
        if stem in ("EDCD", "TRCD"):
            for block in unece._blocks(text):
                lines = [line for line in block if line.strip()]
                head = re.match(r"^\s*(?:[+*#|X]{1,3}\s+)?([CS]\d{3})\s+[A-Z]", lines[0]) if lines else None
                if head:
                    entries = map(unece._ENTRY.match, unece._joined(lines[1:]))
                    composites[head[1]] = [[m["id"], m["status"] == "M"] for m in entries if m]
        elif stem in ("EDED", "TRED"):
            for block in unece._blocks(text):
                ids = re.search(r"^\s*(?:[+*#|X]{1,3}\s+)?(\d{4})\s+\S", "\n".join(block), re.M)
                rep = re.search(r"Repr:\s*((?:an|a|n)(?:\.\.)?\d+)", "\n".join(block))
                if ids and rep:
                    formats[ids[1]] = unece._format(rep[1])
    common = sorted(set(composites) & set(doc["composites"]))
    assert len(common) >= 20
    assert all(composites[c] == doc["composites"][c] for c in common), \
        [c for c in common if composites[c] != doc["composites"][c]]
    elements = sorted(set(formats) & set(doc["elements"]))
    assert len(elements) >= 100
    assert all(formats[e] == doc["elements"][e] for e in elements), \
        [(e, formats[e], doc["elements"][e]) for e in elements if formats[e] != doc["elements"][e]][:5]
    assert len(doc["segments"]) >= 20


@pytest.mark.parametrize("directory", ["D96A", "D01B", "D21B"])
def test_edifact_message_tables_agree_with_their_clarifications(directory):
    check_message_tables(directory)


@pytest.mark.parametrize("directory", ["D96A", "D01B", "D21B"])
def test_edifact_segment_specifications_agree_with_composite_and_element_directories(directory):
    check_segments(directory)


@pytest.mark.slow
@pytest.mark.parametrize("directory", EVERY_DIRECTORY)
def test_every_edifact_directory_agrees_with_itself(directory):
    check_message_tables(directory)
    if directory != "D93A":  # D.93A ships no element directory with formats to compare
        check_segments(directory)


def test_edifact_facts_the_hand_written_definitions_had_wrong():
    d01b, d96a = definitions.edifact("D01B"), definitions.edifact("D96A")
    assert d01b is not None and d96a is not None
    assert d01b["segments"]["NAD"]["elements"][6][0] == "C819"  # NAD07 in D.01B
    assert len(d01b["composites"]["C503"]) == 6 and len(d01b["composites"]["C243"]) == 7
    assert d01b["elements"]["1366"] == ["an", 1, 70] and d96a["elements"]["1366"] == ["an", 1, 35]


# --- UN/EDIFACT service segments (syntax versions) ----------------------------------------------
#: pydifact's syntax declarations (common.py, v1, v3, v4), copied unmodified (SOURCES.tsv beside them)
PYDIFACT = Path(__file__).resolve().parents[1] / "data" / "edi" / "pydifact" / "syntax"
_PYDIFACT_MODULES = {"common": "common.py", "v1": "v1/__init__.py", "v3": "v3/__init__.py", "v4": "v4/__init__.py"}
#: syntax version -> the pydifact module whose UNBSegment declares it (v2 declares no UNB)
PYDIFACT_UNB = {"1": "v1", "3": "v3", "4": "v4"}

_Class = tuple[str, str]  # (module, class name)


class Pydifact:
    """pydifact's classes read with ``ast``, not imported (it is not a dependency): names resolved
    as Python would, through its imports between the modules and its classes' inheritance."""

    def __init__(self) -> None:
        self.classes: dict[_Class, ast.ClassDef] = {}
        self.names: dict[str, dict[str, Any]] = {}
        for module, path in _PYDIFACT_MODULES.items():
            names: dict[str, Any] = {}
            for node in ast.parse((PYDIFACT / path).read_text("utf-8")).body:
                if isinstance(node, ast.ClassDef):
                    self.classes[module, node.name] = node
                    names[node.name] = (module, node.name)
                elif isinstance(node, ast.ImportFrom) and node.module == "pydifact.syntax.common":
                    names.update({a.asname or a.name: ("common", a.name) for a in node.names})
                elif isinstance(node, ast.ImportFrom) and node.module == "pydifact.syntax":
                    names.update({a.asname or a.name: a.name for a in node.names})  # modules v1, v2, v3
                elif isinstance(node, ast.ImportFrom) and node.module == "pydifact.constants":
                    names.update({a.asname or a.name: a.name for a in node.names if a.name in ("M", "C")})
            self.names[module] = names

    def resolve(self, module: str, node: ast.expr) -> Any:
        """A class (module, name), "M"/"C", a constant, a list or tuple of those, a dict's keys."""
        if isinstance(node, ast.Name):
            return self.names[module].get(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):  # v1.Date
            return (self.names[module].get(node.value.id), node.attr)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List | ast.Tuple):
            return [self.resolve(module, e) for e in node.elts]
        if isinstance(node, ast.Dict):
            return [self.resolve(module, k) for k in node.keys if k is not None]
        return None  # anything else (a name imported from elsewhere) says nothing here

    def attr(self, cls: _Class, name: str) -> tuple[str, ast.expr] | None:
        """The assignment of ``name`` in ``cls`` or the first base that has one (single
        inheritance, as the classes here use): (module it is written in, value)."""
        node = self.classes.get(cls)
        if node is None:
            return None
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
                return cls[0], stmt.value
            if isinstance(stmt, ast.AnnAssign) and stmt.value is not None and \
                    isinstance(stmt.target, ast.Name) and stmt.target.id == name:
                return cls[0], stmt.value
        for base in node.bases:
            found = self.attr(self.resolve(cls[0], base), name)
            if found is not None:
                return found
        return None

    def value(self, cls: _Class, name: str) -> Any:
        found = self.attr(cls, name)
        return None if found is None else self.resolve(*found)

    def unb(self, module: str) -> list[tuple[str, bool, list[Any] | None, list[tuple[str, bool, list[Any]]]]]:
        """UNB of ``module``: (code, mandatory, format or None for a composite, components as
        (code, mandatory, format)); a format is the schema's repr where it gives one, else the
        element class's own."""
        out = []
        for cls, status, _repeat, *given in self.value((module, "UNBSegment"), "schema"):
            components = [(self.value(c, "code"), s == "M", unece._format(r or self.value(c, "repr")))
                          for c, s, r in self.value(cls, "schema") or []]
            fmt = None if components else unece._format(given[0] if given else self.value(cls, "repr"))
            out.append((self.value(cls, "code"), status == "M", fmt, components))
        return out

    def element_classes(self, module: str) -> dict[str, list[_Class]]:
        """Element code -> the element classes the UNB of ``module`` uses, directly or in its composites."""
        out: dict[str, list[_Class]] = {}
        for cls, *_ in self.value((module, "UNBSegment"), "schema"):
            for c in [entry[0] for entry in self.value(cls, "schema") or []] or [cls]:
                out.setdefault(self.value(c, "code"), []).append(c)
        return out


def pydifact_facts(version: str) -> dict[str, Any]:
    """What pydifact says of UNB in a syntax version, one fact per key: "UNB04" (the element or
    composite at a position), "UNB04 M" (mandatory), "UNB04-1", "UNB04-1 M", "UNB04-1 format"; and
    of its element classes: "0017 repr" (the class's own repr), "0001 codes"."""
    theirs = Pydifact()
    module = PYDIFACT_UNB[version]
    facts: dict[str, Any] = {}
    for i, (code, mandatory, fmt, components) in enumerate(theirs.unb(module), 1):
        facts |= {f"UNB{i:02d}": code, f"UNB{i:02d} M": mandatory}
        if fmt is not None:
            facts[f"UNB{i:02d} format"] = fmt
        for j, (ref, required, component_format) in enumerate(components, 1):
            facts |= {f"UNB{i:02d}-{j}": ref, f"UNB{i:02d}-{j} M": required,
                      f"UNB{i:02d}-{j} format": component_format}
    classes = theirs.element_classes(module)
    for code, used in classes.items():
        formats = {tuple(unece._format(theirs.value(cls, "repr"))) for cls in used}
        facts[f"{code} repr"] = [list(f) for f in sorted(formats)] if len(formats) > 1 else list(formats.pop())
    facts["0001 codes"] = sorted(theirs.value(classes["0001"][0], "codes"))
    return facts


def our_facts(version: str) -> dict[str, Any]:
    """The same facts of our definitions of a syntax version."""
    doc = definitions.edifact_service(version)
    assert doc is not None
    facts: dict[str, Any] = {}
    for i, (ref, mandatory) in enumerate(doc["segments"]["UNB"]["elements"], 1):
        facts |= {f"UNB{i:02d}": ref, f"UNB{i:02d} M": mandatory}
        if ref in doc["elements"]:
            facts[f"UNB{i:02d} format"] = doc["elements"][ref]
        for j, (component, required) in enumerate(doc["composites"].get(ref, []), 1):
            facts |= {f"UNB{i:02d}-{j}": component, f"UNB{i:02d}-{j} M": required,
                      f"UNB{i:02d}-{j} format": doc["elements"][component]}
    facts |= {f"{ref} repr": fmt for ref, fmt in doc["elements"].items()}
    facts["0001 codes"] = sorted(doc["codes"]["0001"])
    return facts


#: (syntax version, fact) -> why pydifact and our definitions disagree there; ISO 9735 and UNECE's
#: service code list (UNSL, in the D.96A zip) settle each one in favour of ours
SERVICE_DISAGREEMENTS = {
    # ISO 9735 S003: 0010, 0007, 0014 routing address; pydifact's RoutingAddress (0014) is unused
    ("1", "UNB03-3"): "pydifact's S003 repeats S002's 0008 (reverse routing) where ISO 9735 has 0014",
    ("3", "UNB03-3"): "the same: pydifact's version 3 UNB is its version 1 UNB",
    ("1", "0002 repr"): "pydifact's one 0002 class (common.py) is version 4's an1; its S001 says n1, as ours",
    ("3", "0002 repr"): "the same, through version 1",
    ("4", "UNB11"): "pydifact's version 4 UNB omits 0035 test indicator (C n1 in ISO 9735-2): its gap",
    ("4", "UNB11 M"): "the same position, absent in pydifact",
    ("4", "UNB11 format"): "the same position, absent in pydifact",
    ("4", "0017 repr"): "pydifact's version 4 S004 reuses version 1's Date class (n6); its schema says n8",
    ("4", "0001 codes"): "pydifact's version 4 0001 keeps version 1's UNOA-UNOF; version 4 added UNOG-UNOK, UNOX, UNOY",
}


def test_edifact_service_unb_agrees_with_pydifact():
    positions = facts = 0
    disagree: dict[tuple[str, str], tuple[Any, Any]] = {}
    for version in PYDIFACT_UNB:
        ours, theirs = our_facts(version), pydifact_facts(version)
        # every UNB position either side has, and what pydifact says of its element classes
        keys = {k for k in ours.keys() | theirs.keys() if k.startswith("UNB")} | theirs.keys()
        positions += sum(1 for k in keys if re.fullmatch(r"UNB\d\d(-\d)?", k))
        for key in sorted(keys):
            facts += 1
            if ours.get(key) != theirs.get(key):
                disagree[version, key] = (ours.get(key), theirs.get(key))
    # UNB's 11 positions and 12 components in versions 1 and 3, 11 and 16 in version 4; per
    # position its element, status and (for a simple element or component) format
    assert positions == 73 and facts >= 250
    assert disagree.keys() == SERVICE_DISAGREEMENTS.keys(), \
        {k: v for k, v in disagree.items() if k not in SERVICE_DISAGREEMENTS} or \
        set(SERVICE_DISAGREEMENTS) - set(disagree)
    # the facts recorded from ISO 9735, which both sources state
    for version, date in (("1", ["n", 6, 6]), ("3", ["n", 6, 6]), ("4", ["n", 8, 8])):
        ours, theirs = our_facts(version), pydifact_facts(version)
        assert ours["UNB04-1"] == theirs["UNB04-1"] == "0017"
        assert ours["UNB04-1 format"] == theirs["UNB04-1 format"] == date
        assert ours["UNB01-1 format"] == theirs["UNB01-1 format"] == ["a", 4, 4]
        assert ours["UNB01-2 M"] is theirs["UNB01-2 M"] is True
    assert our_facts("3")["0001 codes"] == ["UNOA", "UNOB", "UNOC", "UNOD", "UNOE", "UNOF"]
    assert our_facts("4")["UNB11"] == "0035"


def test_edifact_service_elements_agree_with_unece_service_code_list():
    """Syntax version 3's coded service elements against UNSL of D.96A (UNECE, syntax version 3):
    the lengths are StAEDI's, only the alphabetic type is taken from UNSL."""
    with zipfile.ZipFile(definitions._shipped()["D96A"]) as archive:
        unsl = unece.service_formats(archive)
    doc = definitions.edifact_service("3")
    assert doc is not None
    common = sorted(set(unsl) & set(doc["elements"]))
    assert len(common) >= 10
    assert {ref: (doc["elements"][ref], unsl[ref]) for ref in common if doc["elements"][ref] != unsl[ref]} == {}
