"""The generic pull loop records a pass that read a stream to its end, and no other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from waybill.connectors.pages import Page
from waybill.flows import sync
from waybill.store import cursors
from waybill.store.store import Store, utcnow


def _source(*positions: str, broken: bool = False) -> sync.Fetch:
    """A stream of empty pages ending at each of `positions`; `broken`: the source fails after them."""
    def fetch(cursor: str | None) -> Iterator[Page]:
        for i, position in enumerate(positions):
            yield Page(b"[]", f"page-{i}", [], position)
        if broken:
            raise ConnectionError("the source went away")
    return fetch


def _pull(store: Store, fetch: sync.Fetch, **options: Any) -> sync.Pulled:
    return sync.pull(store, "erp", "invoices", fetch=fetch, map_page=lambda page: ([], []),
                     options=sync.Options(**options))


def _complete_since(store: Store) -> dt.datetime | None:
    with store.engine.connect() as conn:
        return cursors.complete_since(conn, "erp", "invoices")


def test_only_a_pass_that_read_the_stream_to_its_end_from_the_hubs_cursor_is_recorded(store: Store) -> None:
    with pytest.raises(ConnectionError):
        _pull(store, _source("1", "2", broken=True))
    assert store.get_cursor("erp", "invoices") == "2" and _complete_since(store) is None  # stopped half way
    _pull(store, _source("3"), dry_run=True)
    _pull(store, _source("3"), start={"invoices": "3"})  # from a given place: what came before may be missing
    assert _complete_since(store) is None

    before = utcnow()
    _pull(store, _source("3", "4"))
    first = _complete_since(store)
    assert first is not None and before <= first <= utcnow()
    _pull(store, _source())  # nothing new: complete all the same, as of this later pass
    later = _complete_since(store)
    assert later is not None and later >= first
    with store.begin() as conn:  # an overlapping pass that started earlier ends later: the time stays
        cursors.record_pass(conn, "erp", "invoices", started=first, finished=utcnow())
    assert _complete_since(store) == later
