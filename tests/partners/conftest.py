"""Partner test fixtures: the demo partners on the session's OpenSSH server (tests/sshd.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sshd import Sshd
from waybill.canonical.model import Batch, Customer, InboundMessage, Ref


@pytest.fixture
def partner_root(sshd: Sshd, tmp_path: Path) -> Path:
    """Fresh inbox/outbox/archive folders for one test, served by the session's sshd."""
    root = tmp_path / "partner"
    for name in ("inbox", "outbox", "archive"):
        (root / name).mkdir(parents=True)
    sshd.root = root
    return root


@pytest.fixture
def partners(sshd: Sshd, partner_root: Path, store, monkeypatch: pytest.MonkeyPatch):
    """The demo partners acme (X12) and eurotrade (EDIFACT) on the test sshd, and their customers
    in the hub (created first, as the ERP would)."""
    for pid in ("acme", "eurotrade"):
        monkeypatch.setenv(f"AIRFLOW_CONN_WAYBILL_PARTNER_{pid.upper()}", sshd.connection())
    customers = [Customer(Ref("erp", "res.partner/1"), "ACME Retail", "2026-01-01"),
                 Customer(Ref("erp", "res.partner/2"), "Eurotrade GmbH", "2026-01-01", gln="8799999000000")]
    store.apply(Batch("erp", "customers", [InboundMessage(b"customers", entities=customers)]))
    return partner_root
