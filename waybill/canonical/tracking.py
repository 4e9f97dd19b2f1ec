"""The canonical tracking vocabulary and the lookup of carriers' raw status codes. Pure.

A carrier's (or partner's, or the TMS's) table maps its raw codes to "status" or
"status:substatus", status one of model.DELIVERY_STATUSES. A code missing from the table is not
guessed and not dropped: the scan is kept with status "unknown", substatus "unmapped_code" and its
raw code, so it is stored, shown, and found again by `flagged` once the table is fixed.
"""

from __future__ import annotations

from collections.abc import Mapping

from waybill.canonical.model import DELIVERY_STATUSES, DeliveryEvent

UNKNOWN = "unknown"
#: The substatus that flags a scan whose raw code no table knows.
UNMAPPED = "unmapped_code"


def parse(value: str) -> tuple[str, str | None]:
    """("status", "substatus" or None) of a table value "status[:substatus]"."""
    status, _, substatus = value.partition(":")
    return status, substatus or None


def lookup(table: Mapping[str, str], code: str) -> tuple[str, str | None]:
    """The (status, substatus) of raw `code`; (unknown, unmapped_code) when the table lacks it."""
    value = table.get(code)
    return parse(value) if value is not None else (UNKNOWN, UNMAPPED)


def invalid(table: Mapping[str, str]) -> dict[str, str]:
    """The entries of `table` whose status is not canonical (empty for a good table)."""
    return {code: value for code, value in table.items() if parse(value)[0] not in DELIVERY_STATUSES}


def flagged(event: DeliveryEvent) -> bool:
    """Whether the event's raw code was unknown to its table."""
    return event.status == UNKNOWN and event.substatus == UNMAPPED
