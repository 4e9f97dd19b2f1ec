"""Everything Waybill creates that holds personal data or secrets is owner-only, whatever the umask:
the store (and its WAL), the key file, the archive, landing and quarantine copies, and a finance
feed until it is delivered."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.fixtures.factories import batch, customer
from waybill.connectors import finance
from waybill.flows import edi_inbound
from waybill.store import message_log
from waybill.store.store import Store


@pytest.fixture
def open_umask():
    """A umask that would leave every new file world-readable."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_store_key_archive_and_quarantine_are_owner_only(waybill_env, monkeypatch, open_umask):
    monkeypatch.delenv("WAYBILL_SECRET_KEY")
    store = Store.open(create_key=True)  # as `waybill db upgrade`: creates the key file
    store.upgrade()
    mid = store.apply(batch(customer("1"), raw=b"x" * (message_log.INLINE_LIMIT + 1))).messages[0]
    archived = message_log.archive_path(store.archive, mid)
    edi_inbound._quarantine(store, SimpleNamespace(id="acme"), "bad.x12", b"N1*ST*Jane Doe~", reason="unreadable")
    db = waybill_env / "waybill.db"
    files = [db, Path(f"{db}-wal"), store.cfg.secret_key_file, archived,
             waybill_env / "quarantine" / "acme" / "bad.x12", waybill_env / "quarantine" / "acme" / "bad.x12.error.txt"]
    folders = [waybill_env, store.archive, archived.parent, waybill_env / "quarantine" / "acme"]
    assert {str(p): mode(p) for p in files} == {str(p): 0o600 for p in files}
    assert {str(p): mode(p) for p in folders} == {str(p): 0o700 for p in folders}
    store.engine.dispose()


def test_a_finance_feed_is_owner_only_until_delivered(tmp_path, monkeypatch, open_umask):
    seen = {}
    link = os.link

    def watching_link(src, dst):
        seen["mode"] = mode(Path(src))
        link(src, dst)

    monkeypatch.setattr(os, "link", watching_link)
    target = finance.FolderTarget(tmp_path / "feed")
    assert target.put("ar_2026-12-01.csv", b"customer;amount\n") == "written"
    assert seen["mode"] == 0o600
    assert mode(tmp_path / "feed" / "ar_2026-12-01.csv") == 0o640  # delivered: finance's group reads it
