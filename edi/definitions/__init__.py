"""Transaction-set and message definitions, loaded from the JSON files beside this module.

Files (all plain data, readable beside an implementation guide):

* ``x12_elements.json`` / ``edifact_elements.json``: data element dictionary, ref -> "TYPE min/max"
  (X12: ``"AN 1/35"``, ``"ID 2/2"``, ``"N0 1/6"``, ``"R 1/10"``, ``"DT 8/8"``, ``"TM 4/8"``) or
  EDIFACT notation (``"an..35"``, ``"n..15"``, ``"a3"``).
* ``*_codes.json``: code lists, ref -> allowed values, for the qualifiers mappings rely on.
* ``*_composites.json`` / ``*_segments.json``: composite and segment layouts, a space-separated
  list of element (or composite) refs; ``!`` marks mandatory ones, ``*N`` one that repeats up to N
  times (split on the repetition separator). ``"?"`` names a segment of the
  standard whose elements are not described here: its place is checked, its elements are not.
* ``x12_<set>.json`` / ``edifact_<type>.json``: one message: versions it covers and its structure,
  a list of segment entries ``"TAG"`` (``!`` mandatory, ``*N`` max use, ``*>1`` unbounded) and loops
  ``{"loop": id, "max": N, "required": bool, "segments": [...]}`` whose first entry triggers them.

The validator compiles them (:func:`waybill.edi.validator.find_definition`).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load(name: str) -> Any:
    """Parse one JSON file of this package (any JSON: the callers know each file's shape)."""
    return json.loads(resources.files(__name__).joinpath(name).read_text("utf-8"))


def names() -> list[str]:
    """File names of the message definitions (not the dictionaries)."""
    skip = ("_elements.json", "_codes.json", "_composites.json", "_segments.json")
    return sorted(
        p.name for p in resources.files(__name__).iterdir()
        if p.name.endswith(".json") and not p.name.endswith(skip)
    )
