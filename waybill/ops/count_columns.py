"""The count columns of every table `waybill` prints (status, demo): FlowCounts' names, in order."""

from __future__ import annotations

from collections.abc import Mapping

from waybill.flows.counts import NAMES

WIDTH = 9


def header() -> str:
    """The column titles."""
    return " ".join(f"{name:>{WIDTH}}" for name in NAMES)


def cells(counts: Mapping[str, object] | None) -> str:
    """One row's counts under `header()`; a count the row does not have shows as '-'."""
    return " ".join(f"{counts[name]:>{WIDTH}}" if counts and name in counts else f"{'-':>{WIDTH}}"
                    for name in NAMES)
