"""`waybill edi ...` in the hub: the EDI engine's commands, with acknowledgments numbered from the
store's per-partner counters (the same ones the inbound flow uses), so an acknowledgment printed
here never reuses a control number a partner has already seen."""

from __future__ import annotations

import argparse

from waybill.edi import cli
from waybill.edi.hooks import ControlNumbers


def _store_numbers() -> ControlNumbers:
    # the store is imported when a command needs its counters: `waybill edi validate` starts faster
    from waybill.store.edi_state import StoreControlNumbers
    from waybill.store.store import Store

    store = Store.open()
    store.upgrade()  # the counters' table, on a fresh home
    return StoreControlNumbers(store)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``waybill edi`` with store-backed control numbers."""
    cli.register(subparsers, control_numbers=_store_numbers)
