"""Bulk writes: every chunk size lands every row with its values; the collector pause is undone."""

from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal

import pytest

from waybill.store import bulk, tables
from waybill.store.schema import cursor
from waybill.store.store import collector_paused


@pytest.mark.parametrize("n", [1, 2, 7, 64, 1000, bulk.SQLITE_MAX_PARAMS // 2 + 3])
def test_insert_rows_writes_every_row_and_value(store, n):
    now = dt.datetime(2026, 11, 23, 12, 30, 15, 250)
    rows = [(f"sys{i}", "stream", f"v{i}", now) for i in range(n)]
    with store.begin() as conn:
        bulk.insert_rows(conn, cursor, ("system", "stream", "value", "updated_at"), rows)
    with store.engine.connect() as conn:
        stored = tables.rows(conn, "cursor", order_by=("system",))
    assert sorted(tuple(r) for r in stored) == sorted(rows)


def test_decimals_and_dates_read_back_as_written(store):
    from tests.fixtures.factories import batch, customer, order

    store.apply(batch(customer("1"), order(lines=3)))
    with store.engine.connect() as conn:
        qty = [r.quantity for r in tables.rows(conn, "order_line", order_by=("line_no",))]
    assert qty == [Decimal(2), Decimal(3), Decimal(4)]


def test_collector_pause_restores_the_previous_state_also_after_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a pause inside a pause leaves the outer one in charge
    finally:
        gc.enable()
