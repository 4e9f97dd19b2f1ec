"""Generate the X12 definitions of waybill.edi from the published machine-readable sources.

    python tools/edi_definitions.py [STANDARDS_DIR]   # default: ../shared/standards

Writes, deterministically (sorted keys, no timestamps):

* ``edi/definitions/x12_004010.json``: every transaction set, segment, element, composite, code
  list and syntax note of X12 004010, from olmelabs/EdiEngine's tables (C# source, MIT).
* ``edi/definitions/x12_005010.json``: 999 and the HIPAA 005010 sets from azoner/pyx12's maps
  (XML, BSD); the 005010 997 takes its structure from pyx12's 997 map and its AK1/AK2/AK9
  layouts from the 005010 999 map (the 997 and 999 share them in 005010).
* ``edi/definitions/edifact_service.json``: the UN/EDIFACT service segments per syntax version
  from xlate/staedi's envelope schemas (Apache-2.0). StAEDI has no alphabetic type: which service
  elements are alphabetic, :func:`waybill.edi.definitions.edifact_service` reads at first use
  from UNECE's service code list (UNSL) in the shipped D.96A zip.

The UN/EDIFACT directories are not generated here: the UNECE zips are shipped unmodified (their
licence forbids distributing modified directories) and parsed at first use by
:mod:`waybill.edi.definitions.unece`. The shape of the files is described in
:mod:`waybill.edi.definitions`. Provenance (repository, path, commit, licence) is written into
each file and into NOTICE.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "edi" / "definitions"
UNBOUNDED = 0  # a max of 0 means "no limit" (">1" in the sources)

EDIENGINE = {"source": "olmelabs/EdiEngine", "path": "EdiStandards/X12_004010",
             "commit": "f0b2cb9269fec6597908f4c8c955f98f2f3658b9", "licence": "MIT"}
PYX12 = {"source": "azoner/pyx12", "path": "pyx12/map",
         "commit": "8893c59ffd95ccc213cc7661757dc4298b9f430a", "licence": "BSD-3-Clause"}
STAEDI = {"source": "xlate/staedi", "path": "src/main/resources/EDIFACT",
          "commit": "76718ac4bda142423882275dac6119bcdf232e08", "licence": "Apache-2.0"}
#: UN/EDIFACT syntax version (UNB 0002) -> StAEDI's envelope schema: versions 1 to 3 share the
#: version 3 service segments (ISO 9735 before its 1998 revision); 4 is ISO 9735:1998
_SERVICE_SCHEMAS = {"1": "v3.xml", "2": "v3.xml", "3": "v3.xml", "4": "v4.xml"}


#: local, trusted files: no entities resolved, no network
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _xml(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), _PARSER)

# --- X12 004010 from EdiEngine ---------------------------------------------------------------
_ENTRY = re.compile(r"new\s+(\w+)\s*(?:\((this)?\))?\s*\{\s*ReqDes\s*=\s*RequirementDesignator\.(\w+)"
                    r"(?:\s*,\s*MaxOccurs\s*=\s*(\d+))?\s*\}")
_CLASS = re.compile(r"class\s+(\w+)\s*:\s*(\w+)")
_TOKEN = re.compile(_ENTRY.pattern + r"|" + _CLASS.pattern + r"|[{}]")


class _Class:
    def __init__(self, name: str, parent: _Class | None) -> None:
        self.name = name
        self.parent = parent
        self.nested: dict[str, _Class] = {}
        self.content: list[tuple[str, bool, bool, int]] = []  # name, is_loop, required, max

    def resolve(self, name: str) -> _Class:
        scope: _Class | None = self
        while scope is not None:
            if name in scope.nested:
                return scope.nested[name]
            scope = scope.parent
        raise KeyError(f"loop class {name} not found from {self.name}")


def _parse_classes(text: str) -> _Class:
    """The C# class tree of a map file, with each class's Content entries in order."""
    root = _Class("", None)
    stack: list[tuple[_Class | None, int]] = []  # (class opened by this brace or None)
    current = root
    pending: _Class | None = None
    for match in _TOKEN.finditer(text):
        brace = match.group(0)
        if match.group(1):  # an entry
            name, this, req, max_ = match.group(1), match.group(2), match.group(3), match.group(4)
            current.content.append((name, bool(this) or name.startswith("L_"),
                                    req == "Mandatory", int(max_ or 1)))
        elif match.group(5):  # a class declaration
            pending = _Class(match.group(5), current)
            current.nested[pending.name] = pending
        elif brace == "{":
            if pending is not None:
                stack.append((pending, 0))
                current, pending = pending, None
            else:
                stack.append((None, 0))
        elif brace == "}":
            opened, _ = stack.pop()
            if opened is not None:
                assert opened.parent is not None
                current = opened.parent
    return root


def _max(value: int) -> int:
    return UNBOUNDED if value >= 999999 else value


def _structure(cls: _Class) -> list[Any]:
    out: list[Any] = []
    for name, is_loop, required, max_ in cls.content:
        if is_loop:
            loop = cls.resolve(name)
            out.append({"loop": name.removeprefix("L_"), "required": required, "max": _max(max_),
                        "children": _structure(loop)})
        else:
            out.append([name, required, _max(max_)])
    return out


def _element_ref(name: str) -> str:
    return name.removeprefix("E_").lstrip("0") or "0" if name.startswith("E_") else name


def _note_positions(digits: str) -> list[int]:
    """Positions of an EdiEngine note: two digits each, three when past 99 ("P106107")."""
    if len(digits) % 3 == 0 and len(digits) % 2 and all(int(digits[i:i + 3]) >= 100 for i in range(0, len(digits), 3)):
        return [int(digits[i:i + 3]) for i in range(0, len(digits), 3)]
    if len(digits) % 2 == 0:
        return [int(digits[i:i + 2]) for i in range(0, len(digits), 2)]
    return [int(digits[i:i + 3]) for i in range(0, len(digits), 3)]


def _segment_note(raw: str, sizes: list[int]) -> str | None:
    """EdiEngine numbers a note's positions over the segment with every composite spread out into
    its components ("REF P0607" is C040's own note P0304). The note on segment positions, or None
    for a composite's own note (its components' rules are not in the segment's notes)."""
    starts, position = [], 1
    for size in sizes:
        starts.append(position)
        position += size
    out = []
    for flat in _note_positions(raw[1:]):
        if flat not in starts:
            return None
        out.append(starts.index(flat) + 1)
    return raw[0] + "".join(f"{p:02d}" for p in out)


def x12_004010(base: Path) -> dict[str, Any]:
    """Every table of EdiEngine's X12 004010 as one definitions document."""
    root = base / "x12-004010-ediengine" / "EdiStandards" / "X12_004010"
    elements: dict[str, list[Any]] = {}
    codes: dict[str, list[str]] = {}
    text = (root / "DataElements" / "DataElements.cs").read_text("utf-8-sig")
    for block in re.split(r"public class ", text)[1:]:
        name = block.split()[0]
        dtype = re.search(r"DataType\s*=\s*DataType\.(\w+)", block)
        low = re.search(r"MinLength\s*=\s*(\d+)", block)
        high = re.search(r"MaxLength\s*=\s*(\d+)", block)
        if not (dtype and low and high):
            continue
        ref = _element_ref(name)
        kind = dtype.group(1)
        elements[ref] = ["R" if kind.startswith("R") else kind, int(low.group(1)), int(high.group(1))]
        allowed = re.search(r"AllowedValues\.AddRange\(new\[\]\s*\{([^}]*)\}", block)
        if allowed:
            codes[ref] = sorted(set(re.findall(r'"([^"]*)"', allowed.group(1))))
    composites: dict[str, list[Any]] = {}
    text = (root / "DataElements" / "CompositeDataElements.cs").read_text("utf-8-sig")
    for block in re.split(r"public class ", text)[1:]:
        composites[block.split()[0]] = [[_element_ref(m.group(1)), m.group(3) == "Mandatory"]
                                        for m in _ENTRY.finditer(block)]
    segments: dict[str, Any] = {}
    text = (root / "Segments" / "Segments.cs").read_text("utf-8-sig")
    for block in re.split(r"public class ", text)[1:]:
        tag = block.split()[0]
        notes = re.search(r"SyntaxNotes\.AddRange\(new\[\]\s*\{([^}]*)\}", block)
        items = [[_element_ref(m.group(1)), m.group(3) == "Mandatory"] for m in _ENTRY.finditer(block)]
        sizes = [len(composites.get(ref, ())) or 1 for ref, _ in items]
        segments[tag] = {"elements": items, "notes": [
            n for n in (_segment_note(raw, sizes) for raw in re.findall(r'"([^"]*)"', notes.group(1)))
            if n] if notes else []}
    messages: dict[str, Any] = {}
    for path in sorted((root / "Maps").glob("M_*.cs")):
        set_id = path.stem.removeprefix("M_")
        tree = _parse_classes(path.read_text("utf-8-sig"))
        body = _structure(tree.resolve(path.stem))
        messages[set_id] = {"versions": ["004010"],
                            "structure": [["ST", True, 1], *body, ["SE", True, 1]]}
    return {"standard": "X12", "version": "004010",
            "provenance": [dict(EDIENGINE, files="DataElements/*.cs, Segments/Segments.cs, Maps/M_*.cs")],
            "elements": elements, "codes": codes, "composites": composites, "segments": segments,
            "messages": messages}


# --- X12 005010 from pyx12 ---------------------------------------------------------------------
def _usage(node: etree._Element) -> str:
    return (node.findtext("usage") or "S").strip()


def _repeat(text: str | None) -> int:
    text = (text or "1").strip()
    return UNBOUNDED if text.startswith(">") else int(text)


class _Layouts:
    """Element layouts of one set, merged over every variant of a segment in the guide: an
    element is mandatory when every variant requires it; codes are the union when every variant
    lists them."""

    def __init__(self) -> None:
        self.by_tag: dict[str, dict[int, dict[str, Any]]] = {}
        self.notes: dict[str, set[str]] = {}
        self.seen: dict[str, int] = {}

    def add(self, seg: etree._Element) -> None:
        tag = seg.get("xid") or ""
        self.seen[tag] = self.seen.get(tag, 0) + 1
        first = self.seen[tag] == 1
        layout = self.by_tag.setdefault(tag, {})
        self.notes.setdefault(tag, set()).update(s.text.strip() for s in seg.findall("syntax") if s.text)
        present = set()
        for child in seg:
            if child.tag not in ("element", "composite"):
                continue
            seq = int(child.findtext("seq") or 0)
            present.add(seq)
            entry = self._entry(child)
            if seq not in layout:
                entry["required"] = entry["required"] and first
                layout[seq] = entry
            else:
                self._merge(layout[seq], entry)
        for seq, entry in layout.items():
            if seq not in present:
                entry["required"] = False

    def _entry(self, node: etree._Element) -> dict[str, Any]:
        entry: dict[str, Any] = {"ref": (node.findtext("data_ele") or "").strip(),
                                 "required": _usage(node) == "R",
                                 "repeat": _repeat(node.findtext("repeat"))}
        if node.tag == "composite":
            entry["components"] = {int(e.findtext("seq") or 0): self._entry(e) for e in node.findall("element")}
        else:
            codes = node.find("valid_codes")
            entry["codes"] = None if codes is None or codes.get("external") else \
                {c.text.strip() for c in codes.findall("code") if c.text}
        return entry

    def _merge(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        old["required"] = old["required"] and new["required"]
        old["repeat"] = max(old["repeat"], new["repeat"])
        if "components" in old and "components" in new:
            for seq, comp in new["components"].items():
                if seq in old["components"]:
                    self._merge(old["components"][seq], comp)
                else:
                    comp["required"] = False
                    old["components"][seq] = comp
        elif "codes" in old:
            old["codes"] = None if old["codes"] is None or new.get("codes") is None else \
                old["codes"] | new["codes"]


Position = tuple[int, int]


def _pyx12_children(node: etree._Element, layouts: _Layouts, outer: int | None = None) -> list[tuple[Position, Any]]:
    """(position, entry) for the loops and segments of ``node``; wrapper loops (header, detail,
    summary tables) are flattened, their children keeping the table's position first, and entries
    not used (usage N) are dropped."""
    out: list[tuple[Position, Any]] = []
    for child in node:
        if child.tag not in ("loop", "segment") or _usage(child) == "N":
            continue
        own = int(child.findtext("pos") or 0)
        pos = (own, 0) if outer is None else (outer, own)
        if child.tag == "segment":
            layouts.add(child)
            out.append((pos, [child.get("xid"), _usage(child) == "R", _repeat(child.findtext("max_use"))]))
        elif child.get("type") == "wrapper":
            out.extend(_pyx12_children(child, layouts, own))
        else:
            out.append((pos, {"loop": child.get("xid"), "required": _usage(child) == "R",
                              "max": _repeat(child.findtext("repeat")),
                              "children": _merge_variants(_pyx12_children(child, layouts))}))
    return out


def _trigger(entry: Any) -> str:
    return str(entry[0]) if isinstance(entry, list) else _trigger(entry["children"][0][1])


def _sum(a: int, b: int) -> int:
    return UNBOUNDED if UNBOUNDED in (a, b) else a + b


def _most(a: int, b: int) -> int:
    return UNBOUNDED if UNBOUNDED in (a, b) else max(a, b)


def _merge_variants(items: list[tuple[Position, Any]]) -> list[tuple[Position, Any]]:
    """The standard's structure behind a guide's: consecutive siblings with the same first segment
    (variants told apart by qualifier codes, e.g. loops 2010AA/2010AB) become one entry that may
    occur as often as all of them together."""
    out: list[tuple[Position, Any]] = []
    for pos, entry in sorted(items, key=lambda item: item[0]):
        last = out[-1][1] if out else None
        if last is not None and type(last) is type(entry) and _trigger(last) == _trigger(entry):
            if isinstance(entry, list):
                last[1] = last[1] or entry[1]
                last[2] = _sum(last[2], entry[2])
            else:
                last["required"] = last["required"] or entry["required"]
                last["max"] = _sum(last["max"], entry["max"])
                if entry["loop"] not in last["loop"].split("/"):
                    last["loop"] = f"{last['loop']}/{entry['loop']}"
                last["children"] = _union(last["children"], entry["children"])
            continue
        out.append((pos, entry))
    return out


def _union(first: list[tuple[Position, Any]], second: list[tuple[Position, Any]]) -> list[tuple[Position, Any]]:
    """The children of one occurrence of either of two loop variants: an entry both have keeps
    the larger max and is mandatory when both require it; an entry of one only is optional."""
    def key(item: tuple[Position, Any]) -> tuple[Position, str]:
        return item[0], _trigger(item[1])

    theirs = {key(item): item[1] for item in second}
    ours = {key(item) for item in first}
    out: list[tuple[Position, Any]] = []
    for item in first:
        other = theirs.get(key(item))
        entry = item[1]
        if other is None:
            entry[1 if isinstance(entry, list) else "required"] = False
        elif isinstance(entry, list):
            entry[1], entry[2] = entry[1] and other[1], _most(entry[2], other[2])
        else:
            entry["required"] = entry["required"] and other["required"]
            entry["max"] = _most(entry["max"], other["max"])
            entry["children"] = _union(entry["children"], other["children"])
        out.append(item)
    for item in second:
        if key(item) not in ours:
            item[1][1 if isinstance(item[1], list) else "required"] = False
            out.append(item)
    return sorted(out, key=lambda item: item[0])


def _plain(items: list[tuple[Position, Any]]) -> list[Any]:
    """Entries without their positions, as the definitions document holds them."""
    return [{**entry, "children": _plain(entry["children"])} if isinstance(entry, dict) else entry
            for _, entry in items]


def _layout_json(entry: dict[str, Any], composites: dict[str, list[Any]],
                 codes: dict[str, list[str]], set_codes: dict[str, list[str]]) -> list[Any]:
    ref = entry["ref"]
    if "components" in entry:
        layout = [[c["ref"], c["required"]] for _, c in sorted(entry["components"].items())]
        if len(layout) > len(composites.get(ref, [])):  # a guide may show only the components it uses
            composites[ref] = layout
        for comp in entry["components"].values():
            _layout_json(comp, composites, codes, set_codes)
    elif entry.get("codes"):
        set_codes[ref] = sorted(set(set_codes.get(ref, [])) | entry["codes"])
    item: list[Any] = [ref, entry["required"]]
    if entry["repeat"] != 1:
        item.append(entry["repeat"])
    return item


def _find_loop(root: etree._Element, xid: str) -> etree._Element:
    found = next((n for n in root.iter("loop") if n.get("xid") == xid), None)
    if found is None:
        raise ValueError(f"no loop {xid}")
    return found


def x12_005010(base: Path) -> dict[str, Any]:
    """999, 997 and the HIPAA 005010 sets from pyx12's maps."""
    folder = base / "x12-pyx12-maps" / "pyx12" / "map"
    elements: dict[str, list[Any]] = {}
    for node in _xml(folder / "dataele.xml").getroot().iter("data_ele"):
        elements[node.get("ele_num") or ""] = [node.get("data_type"), int(node.get("min_len") or 0),
                                               int(node.get("max_len") or 0)]
    maps = _xml(folder / "maps.xml").getroot()
    files: dict[str, list[str]] = {}
    for version in maps:
        if version.get("icvn") != "00501":
            continue
        for entry in version:
            if entry.get("vriic"):
                files.setdefault(entry.text or "", []).append(entry.get("vriic") or "")
    composites: dict[str, list[Any]] = {}
    segments: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for name in sorted(files):
        root = _xml(folder / name).getroot()
        st01 = next(e for e in root.iter("element") if e.get("xid") == "ST01")
        set_id = (st01.findtext("valid_codes/code") or "").strip()
        layouts = _Layouts()
        body = _plain(_merge_variants(_pyx12_children(_find_loop(root, "ST_LOOP"), layouts)))
        set_segments: dict[str, Any] = {}
        set_codes: dict[str, list[str]] = {}
        for tag, layout in sorted(layouts.by_tag.items()):
            width = max(layout, default=0)
            items = [_layout_json(layout[seq], composites, {}, set_codes) if seq in layout else ["", False]
                     for seq in range(1, width + 1)]
            set_segments[tag] = {"elements": items, "notes": sorted(layouts.notes[tag])}
        key = f"{set_id}/{name}"
        messages[key] = {"id": set_id, "versions": sorted(files[name]), "structure": body,
                         "segments": set_segments, "codes": set_codes, "source": name}
    # the 005010 997: pyx12's 997 structure, its 5010 AK1/AK2/AK9 from the 999 map
    root = _xml(folder / "997.4010.xml").getroot()
    layouts = _Layouts()
    body = _plain(_merge_variants(_pyx12_children(_find_loop(root, "ST_LOOP"), layouts)))
    set_segments = {}
    set_codes = {}
    for tag, layout in sorted(layouts.by_tag.items()):
        width = max(layout, default=0)
        set_segments[tag] = {"elements": [_layout_json(layout[seq], composites, {}, set_codes) if seq in layout
                                          else ["", False] for seq in range(1, width + 1)],
                             "notes": sorted(layouts.notes[tag])}
    ack999 = next(m for m in messages.values() if m["id"] == "999")
    for tag in ("AK1", "AK2", "AK9"):
        set_segments[tag] = ack999["segments"][tag]
    messages["997/997.4010.xml+999"] = {"id": "997", "versions": ["005010"], "structure": body,
                                        "segments": set_segments, "codes": set_codes,
                                        "source": "997.4010.xml (structure), 999.5010X231.A1.xml (AK1, AK2, AK9)"}
    return {"standard": "X12", "version": "005010",
            "provenance": [dict(PYX12, files="dataele.xml, maps.xml, " + ", ".join(sorted(files)) + ", 997.4010.xml")],
            "elements": elements, "codes": {}, "composites": composites, "segments": segments,
            "messages": messages}


def _service_schema(path: Path) -> dict[str, Any]:
    """Elements, composites, code lists and service segments of one StAEDI envelope schema."""
    root = _xml(path).getroot()
    ns = {"s": root.nsmap[None]}
    elements: dict[str, list[Any]] = {}
    codes: dict[str, list[str]] = {}
    names: dict[str, str] = {}  # StAEDI type name -> the standard's reference (DE0020 -> 0020)
    kinds = {"string": "an", "decimal": "n", "numeric": "n", "identifier": "an"}
    for node in root.iterfind("s:elementType", ns):
        ref = node.get("code", "").zfill(4)
        names[node.get("name", "")] = ref
        elements[ref] = [kinds.get(node.get("base", "string"), "an"), int(node.get("minLength", "1")),
                         int(node.get("maxLength", "1"))]
        values = [v.text or "" for v in node.iterfind("s:enumeration/s:value", ns)]
        if values:
            codes[ref] = values

    def members(node: etree._Element) -> list[list[Any]]:
        return [[names.get(m.get("type", ""), m.get("type", "")), m.get("minOccurs", "0") != "0"]
                for m in node.iterfind("s:sequence/*", ns)]

    composites = {}
    for node in root.iterfind("s:compositeType", ns):
        # StAEDI names the service composites CESnnn; ISO 9735 numbers them Snnn
        code = node.get("code") or re.sub(r"^CES", "S", node.get("name", ""))
        names[node.get("name", "")] = code
        composites[code] = members(node)
    segments = {node.get("name", ""): {"elements": members(node)}
                for node in root.iterfind("s:segmentType", ns)
                if node.get("name", "").startswith("UN")}
    return {"elements": elements, "codes": codes, "composites": composites, "segments": segments}


def edifact_service(base: Path) -> dict[str, Any]:
    """UNB, UNG, UNH, UNT, UNE, UNZ (and the other service segments) per syntax version, from
    StAEDI's envelope schemas."""
    folder = base / "envelopes-staedi" / "src" / "main" / "resources" / "EDIFACT"
    schemas = {name: _service_schema(folder / name) for name in sorted(set(_SERVICE_SCHEMAS.values()))}
    return {"standard": "EDIFACT", "version": "service",
            "provenance": [dict(STAEDI, files=", ".join(sorted(schemas)))],
            "syntax_versions": {version: schemas[name] for version, name in _SERVICE_SCHEMAS.items()}}


def write(document: dict[str, Any], name: str) -> Path:
    path = OUT / name
    path.write_text(json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n", "utf-8")
    return path


def main(argv: list[str]) -> int:
    # the checkout's sibling ../shared/standards (a worktree sits one level deeper)
    candidates = [ROOT.parent / "shared" / "standards", ROOT.parents[1] / "shared" / "standards"]
    base = Path(argv[1]) if len(argv) > 1 else next((c for c in candidates if c.is_dir()), candidates[0])
    for document, name in ((x12_004010(base), "x12_004010.json"), (x12_005010(base), "x12_005010.json")):
        path = write(document, name)
        print(f"{path.relative_to(ROOT)}: {len(document['messages'])} sets, {len(document['segments'])} "
              f"segments, {len(document['elements'])} elements, {path.stat().st_size} bytes")
    service = edifact_service(base)
    path = write(service, "edifact_service.json")
    print(f"{path.relative_to(ROOT)}: service segments of syntax versions "
          f"{', '.join(service['syntax_versions'])}, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
