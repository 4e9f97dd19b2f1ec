"""Syntax rules shared by both standards and by the layers above the readers.

Dates and times as the envelopes and the data types DT/TM write them, and EDIFACT character sets:
the codec of a syntax identifier and the re-decoding of values read as latin-1.
"""

from __future__ import annotations

import calendar

from waybill.edi.model import Segment

_EDIFACT_SYNTAX = {
    "UNOA": "ascii", "UNOB": "ascii", "UNOC": "latin-1", "UNOD": "iso8859-2", "UNOE": "iso8859-5",
    "UNOF": "iso8859-7", "UNOG": "iso8859-3", "UNOH": "iso8859-4", "UNOI": "iso8859-6",
    "UNOJ": "iso8859-8", "UNOK": "iso8859-9", "UNOL": "iso8859-15", "UNOW": "utf-8", "UNOX": "iso2022_jp",
    "UNOY": "utf-8", "KECA": "euc_kr",
}


#: UNB 0001 syntax identifiers per syntax version (UNSL code list 0001; StAEDI EDIFACT/v3.xml, v4*.xml)
_SYNTAX_IDS_V3 = frozenset({"UNOA", "UNOB", "UNOC", "UNOD", "UNOE", "UNOF"})
_SYNTAX_IDS_V4 = _SYNTAX_IDS_V3 | {"UNOG", "UNOH", "UNOI", "UNOJ", "UNOK", "UNOL", "UNOW", "UNOX",
                                   "UNOY"}


def syntax_identifier_allowed(identifier: str, version: str) -> bool:
    """True when UNB 0001 ``identifier`` belongs to syntax ``version`` (0002, "1" to "4")."""
    if version in ("1", "2", "3"):
        return identifier in _SYNTAX_IDS_V3
    return version == "4" and identifier in _SYNTAX_IDS_V4


def unb_date_length(version: str) -> int:
    """Digits of the UNB date 0017: n6 in syntax versions 1-3, n8 in version 4."""
    return 8 if version == "4" else 6


def valid_date(value: str) -> bool:
    """CCYYMMDD or YYMMDD (YY taken as 20YY for the leap-year rule)."""
    if not value.isdigit() or len(value) not in (6, 8):
        return False
    year, month, day = int(value[:-4]), int(value[-4:-2]), int(value[-2:])
    if len(value) == 6:
        year += 2000
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def valid_time(value: str) -> bool:
    """HHMM, optionally followed by seconds and decimal seconds."""
    if not value.isdigit() or len(value) < 4 or len(value) == 5 or len(value) > 8:
        return False
    return int(value[:2]) < 24 and int(value[2:4]) < 60 and (len(value) < 6 or int(value[4:6]) < 60)


def charset(syntax_identifier: str) -> str | None:
    """Python codec of an EDIFACT syntax identifier such as "UNOC" (None when unknown)."""
    return _EDIFACT_SYNTAX.get(syntax_identifier)


def recode(segment: Segment, encoding: str) -> Segment:
    """Re-decode a latin-1-decoded segment in its interchange's real encoding (e.g. UTF-8)."""

    def fix(value: str) -> str:
        return value if value.isascii() else value.encode("latin-1").decode(encoding, "replace")

    return [tuple(fix(c) for c in v) if isinstance(v, tuple) else fix(v) for v in segment]
