"""Partner implementation guides: a partner's narrowing of a standard set, in a small TOML file.

A guide names one set and says, on top of the standard, which segments the partner requires or
does not accept, how often a segment may occur, and which codes an element may hold::

    set = "850"                     # X12 set id or EDIFACT message type
    versions = ["004010"]           # optional: GS08 / directory prefixes it applies to

    [segments]
    CUR = "required"                # or "not used"
    PO4 = "not used"

    [max_use]
    N1 = 2                          # occurrences in one message

    [codes]
    BEG01 = ["00", "05"]            # element BEG01 (component: "C50101-1")
    PO103 = ["EA", "CA"]

Violations are reported like the standard's own: a missing required segment as mandatory
segment missing (X12 AK304 3, EDIFACT UCS 13), a segment not used as unexpected (AK304 2, UCS
15), too many as AK304 5 / UCS 35, a code outside the subset as AK403 7 / UCD 12.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waybill.core.errors import ConfigError
from waybill.edi.errors import Issue, Level
from waybill.edi.model import Element, Separators

_SEGMENT = {"X12": {"missing": "3", "not used": "2", "max_use": "5"},
            "EDIFACT": {"missing": "13", "not used": "15", "max_use": "35"}}
_CODE = {"X12": "7", "EDIFACT": "12"}
_ELEMENT_REF = re.compile(r"([A-Z][A-Z0-9]{1,2})(\d{2})(?:-(\d+))?")


class GuideError(ConfigError):
    """A guide file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Guide:
    set: str
    versions: tuple[str, ...]
    required: frozenset[str]
    not_used: frozenset[str]
    max_use: dict[str, int]
    codes: dict[tuple[str, int, int], frozenset[str]]  # (tag, element, component or 0) -> codes

    def covers(self, message_type: str, version: str) -> bool:
        return message_type == self.set and (not self.versions or version.startswith(self.versions))


def load_guide(path: str | Path) -> Guide:
    """Read and check one guide file."""
    try:
        with open(path, "rb") as file:
            data: dict[str, Any] = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise GuideError(f"{path}: cannot be read as a guide: {exc}") from None
    if not isinstance(data.get("set"), str):
        raise GuideError(f"{path}: set is required (an X12 set id or EDIFACT message type)")
    segments = data.get("segments", {})
    bad = {k: v for k, v in segments.items() if v not in ("required", "not used")}
    if bad:
        raise GuideError(f"{path}: segments must say \"required\" or \"not used\", found {bad!r}")
    codes: dict[tuple[str, int, int], frozenset[str]] = {}
    for ref, values in data.get("codes", {}).items():
        match = _ELEMENT_REF.fullmatch(ref)
        if match is None or not isinstance(values, list):
            raise GuideError(f"{path}: codes.{ref} must name an element like BEG01 or C50101-1 and list codes")
        codes[match[1], int(match[2]), int(match[3] or 0)] = frozenset(map(str, values))
    return Guide(data["set"], tuple(data.get("versions", ())),
                 frozenset(k for k, v in segments.items() if v == "required"),
                 frozenset(k for k, v in segments.items() if v == "not used"),
                 {k: int(v) for k, v in data.get("max_use", {}).items()}, codes)


def _value(seg: Sequence[Element], element: int, component: int, seps: Separators | None) -> str:
    value = seg[element] if element < len(seg) else ""
    if isinstance(value, tuple):
        return value[component - 1] if component and component <= len(value) else value[0] if value else ""
    if component and seps is not None and seps.component and seps.component in value:
        parts = value.split(seps.component)
        return parts[component - 1] if component <= len(parts) else ""
    return value if component <= 1 else ""


def check(guide: Guide, standard: str, segments: Sequence[Sequence[Element]],
          separators: Separators | None) -> list[Issue]:
    """The guide's findings on one message (segments finished or raw)."""
    issues: list[Issue] = []
    codes = _SEGMENT[standard]
    tags = [s[0] if isinstance(s[0], str) else ":".join(s[0]) for s in segments]
    seen = Counter(tags)
    end = len(segments)
    for tag in sorted(guide.required - set(seen)):
        issues.append(Issue(Level.SEGMENT, codes["missing"], f"the partner's guide requires segment {tag}",
                            end, tag))
    reported: set[str] = set()
    for position, tag in enumerate(tags, 1):
        if tag in guide.not_used:
            issues.append(Issue(Level.SEGMENT, codes["not used"], f"the partner's guide does not use segment {tag}",
                                position, tag))
        if tag in guide.max_use and seen[tag] > guide.max_use[tag] and tag not in reported:
            reported.add(tag)
            issues.append(Issue(Level.SEGMENT, codes["max_use"], f"the partner's guide allows segment {tag} "
                                f"{guide.max_use[tag]} times, found {seen[tag]}", position, tag))
        for (ref_tag, element, component), allowed in guide.codes.items():
            if ref_tag != tag:
                continue
            value = _value(segments[position - 1], element, component, separators)
            if value and value not in allowed:
                issues.append(Issue(Level.ELEMENT, _CODE[standard],
                                    f"{tag}{element:02d}{f'-{component}' if component else ''} code {value!r} "
                                    f"is not among the partner's {sorted(allowed)}", position, tag, element,
                                    component or None))
    return issues
