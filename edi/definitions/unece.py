"""UN/EDIFACT definitions read from the official UNECE directory files.

UNECE publishes each directory (D.93A ... D.21B) as a zip of text files: segment specifications
(EDSD, TRSD in D.96A and older), composites (EDCD/TRCD), data elements (EDED/TRED), one file per
message (EDMD/TRMD: the segment table) and code lists (UNCL), sometimes in nested zips. Their
licence (``unece/LICENAGR.TXT``, shipped beside them) lets the original files be distributed but
not modified copies, so the project ships the zips as published and :func:`parse_directory`
turns one into a definitions document (the shape of :mod:`waybill.edi.definitions`) when it is
first needed; :mod:`waybill.edi.definitions` caches the result under ``WAYBILL_HOME``.

The text layout changed over the years (positions, change indicators, box-drawing characters in
CP437 or ASCII); the parsers below read each by its columns' meaning, not by fixed offsets:

* a segment specification entry is ``[pos] ID NAME M|C [repeat] [format]``; the lines right
  after a composite (up to a blank line) are its components;
* a segment table line is ``[pos] TAG Name M|C repeat`` and a group line ``Segment group N ...
  M|C repeat``; the box characters at the end of a line (``┘``/``┴``, or ``+`` in the oldest
  directories) close one group each.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

UNBOUNDED = 0
_RULE = re.compile(r"^\s*[-─═=]{20,}\s*$")
_CHANGE = r"(?:[+*#|X]{1,3}\s+)?"
_ENTRY = re.compile(
    r"^\s*" + _CHANGE + r"(?:\d{3,4}\s+)?" + _CHANGE
    + r"(?P<id>[CES]\d{3}|\d{4})\s+(?P<name>\S.*?)\s+(?P<status>[MC])"
    r"(?:\s+(?P<repeat>\d+))?(?:\s+(?P<format>(?:an|a|n)(?:\.\.)?\d+))?\s*$")
_ENTRY_START = re.compile(r"^\s*" + _CHANGE + r"(?:\d{3,4}\s+)?" + _CHANGE + r"(?:[CES]\d{3}|\d{4})\s+\S")
_SEGMENT_HEAD = re.compile(r"^\s*" + _CHANGE + r"(?P<tag>[A-Z][A-Z0-9]{2})\s+(?P<name>[A-Z][^a-z]*)$")
_TABLE_SEGMENT = re.compile(r"^\s*(?:\d{4,5})?\s*[+*#|X]?\s*(?P<tag>[A-Z]{3})\s+(?P<name>\S.*?)\s+"
                            r"(?P<status>[MC])\s+(?P<repeat>\d+)(?P<rest>.*)$")
_TABLE_START = re.compile(r"^\d{4,5}\s+[+*#|X]?\s*[A-Z]{3}\s+\S")
_TABLE_GROUP = re.compile(r"Segment [Gg]roup\s*(?P<number>\d+)[^MC]*?\s(?P<status>[MC])\s+"
                          r"(?P<repeat>\d+)(?P<rest>.*)$")
_NOTE = re.compile(r"\bD([1-7])\(([0-9,/ ]+)\)")
_FORMAT = re.compile(r"(an|a|n)(\.\.)?(\d+)")
_CODE_HEAD = re.compile(r"^\s*" + _CHANGE + r"(?P<id>\d{4})\s+\S.*?(?:\[[A-Z]\])?\s*$")
_CODE = re.compile(r"^(?P<lead>[+*#|X ]{0,10}?)(?P<code>[A-Za-z0-9][A-Za-z0-9./-]{0,16})\s+\S")


def _text(data: bytes) -> str:
    return data.decode("cp437").replace("\r\n", "\n").replace("\r", "\n")


def _files(archive: zipfile.ZipFile) -> Iterator[tuple[str, bytes]]:
    """(base name, bytes) of every file in ``archive``, descending into nested zips."""
    for info in sorted(archive.infolist(), key=lambda i: i.filename):
        if info.is_dir() or info.filename.startswith("__MACOSX/"):  # macOS resource forks
            continue
        data = archive.read(info)
        name = PurePosixPath(info.filename).name
        if name.lower().endswith(".zip"):
            if name.lower().startswith(("id", "part", "dat report", "textfiles", "_textfiles")):
                continue  # interactive EDIFACT, the syntax and other explanatory parts
            yield from _files(zipfile.ZipFile(io.BytesIO(data)))
        else:
            yield name, data


def _format(text: str) -> list[Any]:
    """"an..35" -> ["an", 1, 35]; "n3" -> ["n", 3, 3]."""
    match = _FORMAT.fullmatch(text)
    if not match:
        raise ValueError(f"bad EDIFACT format {text!r}")
    kind, variable, length = match.groups()
    return [kind, 1 if variable else int(length), int(length)]


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if _RULE.match(line):
            blocks.append([])
        else:
            blocks[-1].append(line.rstrip())
    return [b for b in blocks if any(b)]


def _joined(lines: list[str]) -> list[str]:
    """Lines with entries whose long names wrap onto the next line joined back into one."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        if line.strip() and previous and _ENTRY.match(previous) is None and _ENTRY_START.match(previous) \
                and _ENTRY_START.match(line) is None:
            out[-1] = previous + " " + line.strip()
        else:
            out.append(line)
    return out


def _segment_specs(text: str, doc: dict[str, Any]) -> None:
    """Segments (and, from their entries, composites and element formats) of an EDSD/TRSD file."""
    for block in _blocks(text):
        lines = [line for line in block if line.strip()]
        head = _SEGMENT_HEAD.match(lines[0]) if lines else None
        if head is None:
            continue
        items: list[list[Any]] = []
        composite: list[list[Any]] | None = None
        notes = [f"D{m[1]}({m[2]})" for line in block for m in _NOTE.finditer(line)
                 if "/" not in m[2]]  # component-level notes are not checked
        for line in _joined(block[block.index(lines[0]) + 1:]):
            if not line.strip():
                composite = None
                continue
            entry = _ENTRY.match(line)
            if entry is None:
                continue
            ref, required = entry["id"], entry["status"] == "M"
            if composite is not None and ref[0].isdigit() and not entry["repeat"] \
                    and not entry["name"].isupper():  # components are named in mixed case
                composite.append([ref, required])
            else:
                repeat = int(entry["repeat"] or 1)
                items.append([ref, required] + ([repeat] if repeat != 1 else []))
                composite = None
                if not ref[0].isdigit():
                    composite = doc["composites"].setdefault(ref, [])
                    composite.clear()
            if entry["format"]:
                doc["elements"][ref] = _format(entry["format"])
        if items:
            doc["segments"][head["tag"]] = {"elements": items, "notes": notes}


def _segment_table(text: str) -> list[Any]:
    """The structure of one message from its segment table."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if re.search(r"segment table", line, re.I)]
    root: list[Any] = []
    stack: list[list[Any]] = [root]
    table = lines[(starts[-1] if starts else 0) + 1:]
    for i, text_line in enumerate(table):
        line = text_line
        # a long name wraps: its status and repeat are on the next line
        if _TABLE_SEGMENT.match(line) is None and _TABLE_START.match(line) and i + 1 < len(table):
            line = line.rstrip(" │|") + " " + table[i + 1].strip()
        group = _TABLE_GROUP.search(line)
        if group:
            loop: dict[str, Any] = {"loop": f"SG{group['number']}", "required": group["status"] == "M",
                    "max": int(group["repeat"]), "children": []}
            stack[-1].append(loop)
            stack.append(loop["children"])
            continue
        match = _TABLE_SEGMENT.match(line)
        if match is None:
            continue
        stack[-1].append([match["tag"], match["status"] == "M", int(match["repeat"])])
        rest = match["rest"]
        closes = rest.count("┘") + rest.count("┴") or rest.count("+")
        for _ in range(min(closes, len(stack) - 1)):
            stack.pop()
        if match["tag"] == "UNT":
            break
    return root


def _code_lists(text: str, doc: dict[str, Any]) -> None:
    """Code values per element from a UNCL file (codes sit left of their descriptions)."""
    for block in _blocks(text):
        lines = [line for line in block if line.strip()]
        head = _CODE_HEAD.match(lines[0]) if lines else None
        if head is None:
            continue
        indent = None
        values: list[str] = []
        seen_repr = False
        for line in lines[1:]:
            stripped = line.strip()
            if stripped.startswith(("Desc:", "Repr:", "Note:")):
                seen_repr |= stripped.startswith("Repr:")
                indent = None if stripped.startswith("Repr:") else indent
                continue
            if not seen_repr:
                continue
            match = _CODE.match(line)
            start = len(line) - len(line.lstrip(" +*#|X"))
            if match is None:
                continue
            if indent is None:
                indent = start
            if start <= indent + 4 and (len(line) - len(stripped)) < 12:
                values.append(match["code"])
        if values:
            doc["codes"][head["id"]] = sorted(set(values))


def directory_name(names: list[str]) -> str:
    """The directory ("D96A") of a UNECE zip, from its files' extensions ("ORDERS_D.96A")."""
    for name in names:
        match = re.fullmatch(r"[A-Z]{6}_([A-Z])\.(\d\d[A-Z])", name.upper())
        if match:
            return match.group(1) + match.group(2)
    raise ValueError("not a UN/EDIFACT directory: no message files (e.g. ORDERS_D.96A) in it")


def parse_directory(data: bytes, *, source: str = "") -> dict[str, Any]:
    """The definitions document of one UNECE directory zip (``data``: its bytes)."""
    files = list(_files(zipfile.ZipFile(io.BytesIO(data))))
    directory = directory_name([n for n, _ in files])
    doc: dict[str, Any] = {"standard": "EDIFACT", "version": directory,
                           "provenance": [{"source": "UNECE UN/EDIFACT directory " + directory,
                                           "file": source, "licence": "UN licence (LICENAGR.TXT)"}],
                           "elements": {}, "codes": {}, "composites": {}, "segments": {},
                           "messages": {}}
    for name, content in files:
        upper = name.upper()
        stem = upper.split(".")[0].split("-")[0]
        if stem in ("EDSD", "TRSD"):
            _segment_specs(_text(content), doc)
        elif stem == "UNCL":
            _code_lists(_text(content), doc)
    for name, content in files:
        match = re.fullmatch(r"([A-Z]{6})_[A-Z]\.\d\d[A-Z]", name.upper())
        if match:
            structure = _segment_table(_text(content))
            if structure:
                doc["messages"][match.group(1)] = {"versions": [directory], "structure": structure}
    return doc


def service_formats(archive: zipfile.ZipFile) -> dict[str, list[Any]]:
    """Service data element -> its representation (``["a", 4, 4]``) in the directory's service
    code list (UNSL, in the zip or in a UNSL zip within it; the only file read), {} without one."""
    for info in archive.infolist():
        name = PurePosixPath(info.filename).name.upper()
        if name == "UNSL.ZIP":
            return service_formats(zipfile.ZipFile(io.BytesIO(archive.read(info))))
        if name.startswith("UNSL."):
            formats: dict[str, list[Any]] = {}
            for block in _blocks(_text(archive.read(info))):
                text = "\n".join(block)
                ref = re.search(rf"^\s*{_CHANGE}(\d{{4}})\s+\S", text, re.M)
                rep = re.search(r"Repr:\s*((?:an|a|n)(?:\.\.)?\d+)", text)
                if ref and rep:
                    formats[ref[1]] = _format(rep[1])
            return formats
    return {}
