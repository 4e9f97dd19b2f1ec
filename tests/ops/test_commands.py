"""The operations commands on a seeded hub (tests/ops/conftest.py `hub`): messages, show, replay,
outbox, cursor, partners, reconcile; their errors, exit codes, help texts and JSON output."""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.ops.conftest import REFUSED, SeededHub
from waybill.canonical import validate
from waybill.ops import cli
from waybill.store import message_log, outbox, tables

pytestmark = pytest.mark.e2e


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command in this process, as `waybill ARGS` would run it: exit code, stdout, stderr."""
    try:
        code = cli.main(list(args))
    except SystemExit as exit_:  # argparse's usage errors
        code = int(exit_.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def as_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    code, out, err = run(capsys, *args, "--json")
    assert code in (0, 1), err
    return json.loads(out)


def waybill(*args: str, cwd: Path, env: dict[str, str] | None = None, pipeline: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    """`waybill ARGS` in a child process (or a shell pipeline running it as $WAYBILL)."""
    full = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **(env or {})}
    command = [sys.executable, "-m", "waybill.ops.cli", *args]
    if pipeline:
        full["WAYBILL"] = " ".join(command)
        return subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], capture_output=True, text=True, env=full,
                              cwd=cwd, timeout=120, check=False)
    return subprocess.run(command, capture_output=True, text=True, env=full, cwd=cwd, timeout=120, check=False)


# --- errors, exit codes, help -------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["status"], ["messages"], ["show", "1"], ["replay", "1"], ["outbox"],
                                     ["cursor", "list"], ["partners"], ["reconcile"], ["pull", "erp"]])
def test_outside_a_project_every_command_says_so_and_creates_nothing(command, tmp_path, monkeypatch):
    monkeypatch.delenv("WAYBILL_HOME")
    done = waybill(*command, cwd=tmp_path)
    assert done.returncode == 2
    assert "no hub store at" in done.stderr and "waybill db upgrade" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / ".waybill").exists()


def test_a_store_not_migrated_and_a_bad_url_are_configuration_errors(tmp_path, waybill_env):
    (tmp_path / "empty.db").touch()
    empty = waybill("status", cwd=tmp_path, env={"WAYBILL_DB_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert empty.returncode == 2 and "never migrated" in empty.stderr and "run `waybill db upgrade`" in empty.stderr
    assert "Traceback" not in empty.stderr
    for url in ("nonsense", "foo://user:secret@host/db"):
        bad = waybill("messages", cwd=tmp_path, env={"WAYBILL_DB_URL": url})
        assert bad.returncode == 2 and "WAYBILL_DB_URL" in bad.stderr
        assert "Traceback" not in bad.stderr and "secret" not in bad.stderr


def test_edi_validate_usage_errors_exit_2_without_a_traceback(tmp_path):
    sample = tmp_path / "a.x12"
    sample.write_text("ISA*00*")
    bogus = waybill("edi", "validate", "--encoding", "bogus", str(sample), cwd=tmp_path)
    assert bogus.returncode == 2 and "unknown encoding 'bogus'" in bogus.stderr and "Traceback" not in bogus.stderr
    missing = waybill("edi", "validate", str(tmp_path / "nope.x12"), cwd=tmp_path)
    assert missing.returncode == 2 and "nope.x12" in missing.stderr and "Traceback" not in missing.stderr


def test_unknown_ids_bad_days_missing_zips_and_folders_are_usage_errors_in_one_line(hub: SeededHub, capsys, tmp_path):
    for args, says in ((("replay", "99999"), "message 99999 does not exist (see `waybill messages`)"),
                       (("replay", "99999", "--json"), "message 99999 does not exist"),
                       (("outbox", "requeue", "99999"), "no outbox row 99999 (see `waybill outbox list`)"),
                       (("reconcile", "--cutoff", "yesterday"), "'yesterday' is not a day: give YYYY-MM-DD"),
                       (("edi", "directory", "add", str(tmp_path / "d01c.zip")), "no such file"),
                       (("edi", "show", str(tmp_path)), "a folder, not a file"),
                       (("edi", "ack", "--json", str(tmp_path)), "a folder, not a file")):
        code, _, err = run(capsys, *args)
        assert code == 2, args
        assert says in err and len(err.strip().splitlines()) <= 3 and "Traceback" not in err, (args, err)


def test_requeue_of_a_row_that_is_not_dead_leaves_it_and_says_so(hub: SeededHub, capsys):
    with hub.store.engine.connect() as conn:
        some_row = next(r.id for r in tables.rows(conn, "outbox") if r.state == "delivered")
    result = as_json(capsys, "outbox", "requeue", str(some_row))
    assert result == {"dry_run": False, "requeued": [], "left": [some_row]}
    code, out, _ = run(capsys, "outbox", "requeue", str(some_row))
    assert code == 0 and f"left as they are (not dead, or not matching --target/--reason): {some_row}" in out


def parsers(parser: argparse.ArgumentParser, path: str):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from parsers(child, f"{path} {name}")


def test_every_command_answers_in_json_too():
    # cursor, db and edi are groups of commands
    commands = [(path, p) for path, p in parsers(cli.build_parser(), "waybill")
                if path.count(" ") >= 1
                and not any(isinstance(a, argparse._SubParsersAction) and a.required for a in p._actions)
                and path not in ("waybill edi", "waybill db")]
    assert len(commands) >= 14
    assert [path for path, p in commands if "--json" not in p._option_string_actions] == []


def test_every_option_of_every_command_has_a_help_text():
    missing = [f"{path}: {action.option_strings or action.dest}"
               for path, parser in parsers(cli.build_parser(), "waybill") for action in parser._actions
               if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) and not action.help]
    assert missing == []


def test_listing_into_a_closed_pipe_is_quiet(hub: SeededHub, tmp_path):
    done = waybill(cwd=tmp_path, pipeline="$WAYBILL messages --limit 500 | head -2")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and len(done.stdout.splitlines()) == 2


# --- messages and show -----------------------------------------------------------------------------------

def test_messages_pages_with_headers_times_and_of_n(hub: SeededHub, capsys):
    with hub.store.engine.connect() as conn:
        total = tables.count(conn, "message")
    code, out, _ = run(capsys, "messages", "--limit", "5")
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split()[:4] == ["id", "received", "state", "system/stream"]
    assert f"5 of {total:,} (next page: --offset 5)" in out
    assert any(line.split()[1].startswith("20") and ":" in line.split()[2] for line in lines[3:8])
    listed = as_json(capsys, "messages", "--limit", "5", "--offset", "5")
    assert listed["total"] == total and len(listed["messages"]) == 5
    assert listed["messages"][0]["id"] == total - 5  # newest first, the second page


def test_messages_filters_by_state_system_stream_key_reason_and_time(hub: SeededHub, capsys):
    dead = as_json(capsys, "messages", "--state", "dead")
    assert dead["total"] == 1 and "unknown currency 'XXX'" in dead["messages"][0]["reason"]
    order_key = dead["messages"][0]["key"]  # erp:sale.order/<name>
    assert as_json(capsys, "messages", "--key", order_key.split("/")[-1])["total"] == 1
    assert as_json(capsys, "messages", "--system", "erp", "--stream", "customers")["total"] >= 1
    assert as_json(capsys, "messages", "--system", "erp", "--stream", "nothing")["total"] == 0
    assert as_json(capsys, "messages", "--reason", "currency")["total"] == 1
    assert as_json(capsys, "messages", "--partner", "acme")["total"] == 1
    assert as_json(capsys, "messages", "--since", "1h")["total"] == as_json(capsys, "messages")["total"]
    assert as_json(capsys, "messages", "--until", "2000-01-01")["total"] == 0
    po = as_json(capsys, "messages", "--key", "PO-1")  # the PO number of the EDI order in the hub
    assert [m["key"] for m in po["messages"]] == ["po-1.x12"]
    code, _, err = run(capsys, "messages", "--since", "yesterday")
    assert code == 2 and "is not a time" in err


def test_show_gives_the_raw_input_the_rows_it_wrote_where_they_went_and_its_dead_records(hub: SeededHub, capsys):
    [dead] = as_json(capsys, "messages", "--state", "dead")["messages"]
    page = as_json(capsys, "show", str(dead["parent_id"]))
    assert page["message"]["state"] == "processed" and page["raw"].startswith(("[", "{"))
    assert [r["reason"] for r in page["records"]] == [dead["reason"]]
    assert page["wrote"] and {r["entity"] for r in page["wrote"]} == {"order"}
    assert {s["target"] for s in page["sent"]} == {"crm"} and {s["state"] for s in page["sent"]} == {"delivered"}
    code, out, _ = run(capsys, "show", str(dead["id"]))
    assert code == 0 and "order.currency" in out and "unknown currency 'XXX'" in out
    assert f"message {dead['parent_id']}" in out
    with hub.store.engine.connect() as conn:
        raw = message_log.raw_of(conn, hub.store.cipher, dead["id"]).decode()
    assert raw[:100] in out
    code, _, err = run(capsys, "show", "999999")
    assert code == 2 and "does not exist" in err


# --- replay --------------------------------------------------------------------------------------------------

def test_replay_applies_only_the_failed_record_dry_run_first_and_twice_is_safe(hub: SeededHub, capsys, monkeypatch):
    [dead] = as_json(capsys, "messages", "--state", "dead")["messages"]
    with hub.store.engine.connect() as conn:
        orders = tables.count(conn, "orders")
    code, _, _ = run(capsys, "replay", str(dead["id"]))
    assert code == 1  # not fixed yet: it is dead-lettered again
    [again] = as_json(capsys, "messages", "--state", "dead")["messages"]
    monkeypatch.setattr(validate, "CURRENCIES", validate.CURRENCIES | {"XXX"})  # the fix

    dry = as_json(capsys, "replay", str(again["id"]), "--dry-run")
    assert dry["dry_run"] and dry["replays"][0]["inserted"] == 1
    with hub.store.engine.connect() as conn:
        assert tables.count(conn, "orders") == orders
    assert as_json(capsys, "messages", "--state", "dead")["total"] == 1

    done = as_json(capsys, "replay", str(again["id"]))
    [one] = done["replays"]
    # only the failed record of its page of 100: one insert, none of the page's other 99 orders touched
    assert (one["inserted"], one["updated"], one["unchanged"], one["dead"]) == (1, 0, 0, 0)
    assert one["records"] == [again["key"]]
    with hub.store.engine.connect() as conn:
        assert tables.count(conn, "orders") == orders + 1
    assert as_json(capsys, "messages", "--state", "dead")["total"] == 0
    assert as_json(capsys, "show", str(dead["parent_id"]))["message"]["attempts"] == 3

    twice = as_json(capsys, "replay", str(again["id"]))
    assert twice["replays"] == [] and twice["skipped"] == [again["id"]]


def test_replay_by_reason_takes_every_dead_record_of_that_reason(hub: SeededHub, capsys, monkeypatch):
    code, _, err = run(capsys, "replay")
    assert code == 2 and "give message ids" in err
    assert as_json(capsys, "replay", "--reason", "no such reason")["replays"] == []
    monkeypatch.setattr(validate, "CURRENCIES", validate.CURRENCIES | {"XXX"})
    code, out, _ = run(capsys, "replay", "--reason", "unknown currency")
    assert code == 0 and "inserted 1" in out
    code, _, _ = run(capsys, "replay", "--all")
    assert code == 0
    assert as_json(capsys, "messages", "--state", "replayed")["total"] == 1


def test_replay_refuses_a_processed_message_without_dead_records_unless_reprocessing(hub: SeededHub, capsys):
    customers = as_json(capsys, "messages", "--system", "erp", "--stream", "customers")["messages"][0]
    nothing = as_json(capsys, "replay", str(customers["id"]))
    assert nothing["replays"] == [] and nothing["skipped"] == [customers["id"]]
    again = as_json(capsys, "replay", str(customers["id"]), "--reprocess")
    assert again["replays"][0]["unchanged"] > 0 and again["replays"][0]["inserted"] == 0


# --- outbox, cursors, partners ----------------------------------------------------------------------------------

def test_outbox_shows_the_backlog_per_target_with_reasons_and_requeues_dead_rows(hub: SeededHub, capsys):
    backlog = as_json(capsys, "outbox")
    dead = [b for b in backlog["backlog"] if b["condition"] == "dead"]
    assert [(b["target"], b["reason"], b["rows"]) for b in dead] == [("erp", REFUSED, 1)]
    assert backlog["delivered"]["crm"] > 400
    code, out, _ = run(capsys, "outbox")
    assert code == 0 and "SKU 'SKU-7499'" in out and "condition" in out
    listed = as_json(capsys, "outbox", "list", "--condition", "dead")
    assert listed["total"] == 1 and listed["rows"][0]["reason"] == REFUSED
    row = listed["rows"][0]["id"]
    assert as_json(capsys, "outbox", "requeue", "--target", "erp", "--dry-run")["requeued"] == [row]
    assert as_json(capsys, "outbox", "list", "--condition", "dead")["total"] == 1
    assert as_json(capsys, "outbox", "requeue", "--target", "erp")["requeued"] == [row]
    assert as_json(capsys, "outbox", "requeue", "--target", "erp")["requeued"] == []  # twice is safe
    with hub.store.engine.connect() as conn:
        assert [i.id for i in outbox.pending(conn, "erp")] == [row]
    code, _, err = run(capsys, "outbox", "requeue")
    assert code == 2 and "which dead rows" in err


def test_cursor_list_and_reset_of_one_stream(hub: SeededHub, capsys):
    cursors = as_json(capsys, "cursor", "list")
    assert {(c["system"], c["stream"]) for c in cursors} >= {("erp", "customers"), ("erp", "orders")}
    code, out, _ = run(capsys, "cursor", "reset", "erp/orders")
    assert code == 0 and "forgotten" in out
    assert hub.store.get_cursor("erp", "orders") is None and hub.store.get_cursor("erp", "customers") is not None
    code, out, _ = run(capsys, "cursor", "reset", "orders", "--system", "erp")
    assert code == 0 and "had no cursor" in out
    code, _, err = run(capsys, "cursor", "reset", "nothing")
    assert code == 2 and "needs its system" in err


def test_partners_show_files_in_out_last_ack_and_overdue_acks(hub: SeededHub, capsys):
    code, out, _ = run(capsys, "partners", "--json")
    rows = {p["partner"]: p for p in json.loads(out)}
    assert code == 0 and rows["acme"]["files_in"] == 1 and rows["acme"]["sent"] == 1
    assert rows["acme"]["overdue"] == [] and rows["acme"]["last_ack_at"] is None
    code, out, _ = run(capsys, "partners", "acme", "--overdue-after", "0")
    assert code == 1 and "interchange 000000042" in out and "has no acknowledgment" in out
    code, _, err = run(capsys, "partners", "nobody")
    assert code == 2 and "nobody" in err


# --- reconcile -----------------------------------------------------------------------------------------------

def test_reconcile_finds_a_row_of_the_finance_feed_changed_there(hub: SeededHub, capsys):
    assert run(capsys, "reconcile", "--system", "finance")[0] == 0
    [feed] = hub.finance.glob("ar_open_items_*.csv")  # beside it, the open items' invoice lines
    rows = list(csv.reader(feed.read_text().splitlines()))
    invoice = rows[1][rows[0].index("invoice_number")]
    rows[1][rows[0].index("open_amount")] = "0.01"  # changed on finance's side
    with feed.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    code, out, _ = run(capsys, "reconcile", "--system", "finance")
    assert code == 1 and f"open_item {invoice}: differs in finance: open_amount" in out
    feed.unlink()
    code, out, _ = run(capsys, "reconcile", "--system", "finance")
    assert code == 1 and f"open_item {feed.name}: missing in finance" in out


def test_reconcile_finds_a_record_changed_in_the_crm_and_one_deleted_in_the_erp(hub: SeededHub, capsys):
    code, out, _ = run(capsys, "reconcile")
    assert code == 0, out  # in step, apart from the planted dead letter, which is named as known
    assert "known: dead letter" in out and "in step" in out

    account = next(r for r in hub.crm.state["records"]["Account"].values() if r.get("Waybill_Id__c") == "1")
    account["Name"] = "Changed In The CRM GmbH"  # behind the hub's back
    models = hub.erp.models
    gone = models["sale.order"].remove(next(iter(models["sale.order"].rows)))  # deleted in the ERP, with its lines
    for line in [ln for ln in models["sale.order.line"].rows.values() if ln["order_id"][0] == gone["id"]]:
        models["sale.order.line"].remove(line["id"])
    code, out, err = run(capsys, "reconcile")
    assert code == 1 and "DRIFT" in out, err
    assert "Account 1: differs in crm: Name" in out
    assert f"order sale.order/{gone['name']}: missing in erp" in out

    report = as_json(capsys, "reconcile", "--system", "erp")
    [orders_check] = [c for c in report["checks"] if c["entity"] == "order"]
    assert orders_check["counts"]["hub"] == orders_check["counts"]["erp"]  # one missing, one dead: same count
    assert orders_check["checksums"]["erp"] != orders_check["checksums"]["hub"]
    with hub.store.engine.connect() as conn:
        from waybill.store import reconcile as kept
        assert kept.last(conn).drift is True


def test_serve_refuses_a_busy_port_at_once(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = waybill("demo", "--serve", "--port", str(port), cwd=tmp_path)
    assert done.returncode == 2 and f"port {port} on 127.0.0.1 is in use" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / ".waybill").exists()


def as_backlog(hub: SeededHub) -> list[outbox.Backlog]:
    with hub.store.engine.connect() as conn:
        return outbox.backlog(conn)


def test_the_waybill_page_shows_the_hubs_numbers(hub: SeededHub, capsys):
    from waybill.ops import plugin

    assert run(capsys, "reconcile", "--system", "erp")[0] == 0
    data = plugin.summary(hub.store)
    capsys.readouterr()  # what Airflow logged while loading
    dead = as_json(capsys, "messages", "--state", "dead")
    assert data["dead_total"] == dead["total"] == 1 and data["dead"][0]["id"] == dead["messages"][0]["id"]
    processed = as_json(capsys, "messages", "--state", "processed")["total"]
    assert sum(per.get("processed", 0) for per in data["by_source"].values()) == processed
    assert sum(per.get("processed", 0) for per in data["by_day"].values()) == processed
    assert [(b["target"], b["rows"]) for b in data["outbox"] if b["condition"] == "dead"] == [("erp", 1)]
    assert data["outbox"] == [asdict(b) for b in as_backlog(hub)]
    acme = next(p for p in data["partners"] if p["partner"] == "acme")
    assert (acme["files_in"], acme["sent"]) == (1, 1)
    assert data["flows"]["erp_sync"]["success"] == 1 and data["flows"]["crm_publish"]["failed"] == 1
    assert data["reconciliation"]["drift"] is False
    page = plugin.render(data, token="t0k3n", may_replay=True)
    assert f'<span id="dead-total">{dead["total"]}</span>' in page
    assert f'<b data-total="processed">{processed:,}</b>' in page and "<svg id=\"chart\"" in page
    assert f'id="replay-{dead["messages"][0]["id"]}"' in page and 'value="t0k3n"' in page
    assert "SKU &#x27;SKU-7499&#x27;" in page  # reasons are escaped
    assert "Replay</button>" not in plugin.render(data, token="t", may_replay=False)
