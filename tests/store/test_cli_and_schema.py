"""The waybill command (run as a user would), migrations against the schema, masked logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from waybill.core.logs import get_logger, mask
from waybill.flows.counts import NAMES
from waybill.store.schema import metadata


def waybill(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waybill.ops.cli", *args], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=120, check=False)


def test_db_upgrade_status_messages_and_replay_from_the_command_line(waybill_env, monkeypatch):
    monkeypatch.delenv("WAYBILL_SECRET_KEY")
    up = waybill("db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert (waybill_env / "secret.key").stat().st_mode & 0o777 == 0o600
    from tests.fixtures.factories import batch, customer, order
    from waybill.canonical import model
    from waybill.store.store import Store

    Store.open().apply(batch(customer("1"), order("SO1", "1"), order("SO2", "1", currency="XXX")))
    status = json.loads(waybill("status", "--json").stdout)
    assert status["entities"]["orders"] == 1 and status["messages"] == {"processed": 1, "dead": 1}
    assert status["outbox"]["crm"]["pending"] == 2
    dead = waybill("messages", "--state", "dead")
    assert "unknown currency 'XXX' at order.currency" in dead.stdout
    replayed = waybill("replay", "2")
    assert replayed.returncode == 1 and "no mapper registered" in replayed.stderr
    assert waybill("replay").returncode == 2  # usage error
    assert isinstance(model.Ref("a", "b"), tuple)


def test_status_shows_the_counts_of_recent_flow_runs_in_the_flow_counts_order(waybill_env):
    assert waybill("db", "upgrade").returncode == 0
    from waybill.store.store import Store

    store = Store.open()
    store.record_flow_run("erp_sync", "r1", "success", detail="sync try 1", counts={"received": 7, "stored": 5})
    store.record_flow_run("wms_stock", "r1", "failed", detail="sync try 1: OSError: down")
    assert store.status()["flow_runs"][1]["counts"] == {"received": 7, "stored": 5}
    lines = waybill("status").stdout.splitlines()
    header = lines.index("recent flow runs:") + 1
    assert lines[header].split() == ["at", "flow", "state", *NAMES]
    failed, succeeded = lines[header + 1].split(), lines[header + 3].split()
    assert failed[1:3] == ["wms_stock", "failed"] and set(failed[3:]) == {"-"}
    assert lines[header + 2].strip() == "sync try 1: OSError: down"
    assert succeeded[1:] == ["erp_sync", "success", "7", "5", *["-"] * (len(NAMES) - 2)]


def test_migrations_create_exactly_the_schema(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_personal_data_is_masked_in_log_lines(caplog):
    log = get_logger("test")
    with caplog.at_level(logging.INFO, logger="waybill"):
        log.info("contact %s at %s", "jo.smith@example.com", "+49 (30) 123-4567")
    assert "jo.smith" not in caplog.text and "123-4567" not in caplog.text
    assert "j***@***" in caplog.text and "***-67" in caplog.text
    assert mask("order 2026-05-04 08:00:00 qty 12.5 id 4711000") == "order 2026-05-04 08:00:00 qty 12.5 id 4711000"
    assert mask("call 030 1234567 or 004930123456789") == "call ***-67 or ***-89"
