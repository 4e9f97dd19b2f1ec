"""Inbound partner files over a real OpenSSH server: orders stored, acknowledgments sent back,
duplicates recognised, corrupt files quarantined, a crash between steps processed exactly once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from waybill.edi.envelope import read_interchanges
from waybill.edi.model import element
from waybill.edi.validator import validate
from waybill.flows import edi_inbound
from waybill.flows.counts import FlowCounts
from waybill.flows.partners import partners_dir
from waybill.store import message_log
from waybill.store.reads import edi as reads

pytestmark = pytest.mark.sftp

DATA = Path(__file__).resolve().parents[1] / "data" / "partners"
X12_850 = "bots_x12_850_fixed_x12_850tofixed_850_850-004010-01.x12"


def acks(outbox: Path) -> list:
    """Every interchange in the partner's outbox, read and validated by our own engine."""
    return [ic for p in sorted(outbox.iterdir()) for ic in read_interchanges(p.read_bytes(), on_message=validate)]


def _claims_run_out(store, monkeypatch) -> None:
    """From now on the claims of a killed worker on inbox files are past their lease."""
    import dataclasses

    monkeypatch.setattr(store, "cfg", dataclasses.replace(store.cfg, claim_seconds=0))


def order_rows(store) -> list:
    """The partner's orders in the hub, by external id."""
    with store.engine.connect() as conn:
        return reads.orders_from(conn, store.cipher, "edi:acme")


def test_850_becomes_an_order_and_a_997_goes_back(store, partners: Path) -> None:
    (partners / "inbox" / "po1.x12").write_bytes((DATA / X12_850).read_bytes())
    (partners / "inbox" / "po2.x12.part").write_bytes(b"ISA")
    assert [f["name"] for f in edi_inbound.ready("acme")] == ["po1.x12"]
    counts = edi_inbound.run(store, partner="acme", files=edi_inbound.ready("acme"))
    assert counts.received == 1 and counts.stored == 1 and counts.acks == 1
    rows = order_rows(store)
    assert [r.ref.external_id for r in rows] == ["850/91393058"]
    lines = rows[0].lines
    assert len(lines) == 8 and lines[0].sku == "17920108" and lines[0].unit_price == 12
    [ack] = acks(partners / "outbox")
    assert ack.accepted and ack.receiver == "AAAAAAAAAA" and ack.sender == "test22222"
    [m] = ack.messages
    ak9 = next(s for s in m.segments if s[0] == "AK9")
    assert m.type == "997" and m.validated and element(ak9, 1) == "A"
    assert [p.name for p in (partners / "inbox").iterdir()] == ["po2.x12.part"]  # still being written
    assert (partners / "archive" / "po1.x12").exists()


def test_a_listed_file_is_processed_as_listed_and_only_once(store, partners: Path) -> None:
    """The DAG's mapped task gets the listing's FileRef: it processes exactly that file, lists no
    other, and a retry after the file was archived finds nothing to do."""
    raw = (DATA / X12_850).read_bytes()
    (partners / "inbox" / "po.x12").write_bytes(raw)
    [ref] = edi_inbound.ready("acme")
    (partners / "inbox" / "late.x12").write_bytes(raw)  # arrived after the listing: another task's file
    counts = edi_inbound.run(store, partner="acme", files=[ref])
    assert counts.received == 1 and counts.stored == 1
    assert [p.name for p in (partners / "inbox").iterdir()] == ["late.x12"]
    assert edi_inbound.run(store, partner="acme", files=[ref]) == FlowCounts()


def test_same_content_twice_is_a_duplicate(store, partners: Path) -> None:
    raw = (DATA / X12_850).read_bytes()
    (partners / "inbox" / "a.x12").write_bytes(raw)
    edi_inbound.run(store, partner="acme")
    (partners / "inbox" / "again.x12").write_bytes(raw)
    counts = edi_inbound.run(store, partner="acme")
    assert counts.unchanged == 1 and counts.acks == 0
    assert len(order_rows(store)) == 1 and len(list((partners / "outbox").iterdir())) == 1
    with store.engine.connect() as conn:
        states = message_log.counts_by_state(conn)
    assert states.get("duplicate") == 1


def test_resent_interchange_with_new_bytes_is_refused_as_duplicate(store, partners: Path) -> None:
    raw = (DATA / X12_850).read_bytes()
    (partners / "inbox" / "a.x12").write_bytes(raw)
    edi_inbound.run(store, partner="acme")
    (partners / "inbox" / "b.x12").write_bytes(raw.replace(b"KAK PRINT PANT", b"KAK PRINT PANTS"))
    counts = edi_inbound.run(store, partner="acme")
    assert counts.rejected == 1
    ta1 = [s for ic in acks(partners / "outbox") for s in ic.ta1]
    # ISA14=1 asks for a TA1: accepted for the first interchange, refused as a duplicate after
    assert [(element(s, 4), element(s, 5)) for s in ta1] == [("A", "000"), ("R", "025")]


def test_corrupt_file_is_quarantined_and_the_run_goes_on(store, partners: Path, waybill_env: Path) -> None:
    raw = (DATA / X12_850).read_bytes()
    (partners / "inbox" / "a_bad.x12").write_bytes(b"this is not EDI at all\n")
    (partners / "inbox" / "b_count.x12").write_bytes(raw.replace(b"SE*39*4567", b"SE*38*4567"))
    counts = edi_inbound.run(store, partner="acme")
    assert counts.received == 2 and counts.rejected == 1 and counts.dead == 1
    note = (waybill_env / "quarantine" / "acme" / "a_bad.x12.error.txt").read_text()
    assert "not readable as EDI" in note
    with store.engine.connect() as conn:
        refused = message_log.find(conn, state="rejected")
        dead = message_log.find(conn, state="dead")
    assert refused[0].key == "a_bad.x12" and "not readable as EDI" in refused[0].reason
    assert dead[0].field_path.startswith("850/4567/SE") and "AK502:4" in dead[0].reason
    [ack] = acks(partners / "outbox")  # the 997 for the file with the wrong count says R
    ak5 = next(s for s in ack.messages[0].segments if s[0] == "AK5")
    assert element(ak5, 1) == "R"
    assert sorted(p.name for p in (partners / "archive").iterdir()) == ["a_bad.x12", "b_count.x12"]


def test_unknown_customer_is_dead_lettered_with_field_path(store, partners: Path, tmp_path: Path,
                                                         monkeypatch) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (partners_dir() / "acme.toml").read_text()
    (profiles / "acme.toml").write_text(text.replace('customer = "erp:res.partner/1"\n', ""))  # no default
    monkeypatch.setenv("WAYBILL_PARTNERS", str(profiles))
    raw = (DATA / X12_850).read_bytes().replace(b"N1*BY**92*33333", b"N1*BY**92*99999")
    (partners / "inbox" / "a.x12").write_bytes(raw)
    counts = edi_inbound.run(store, partner="acme")
    assert counts.dead == 1 and counts.stored == 0
    with store.engine.connect() as conn:
        [dead] = message_log.find(conn, state="dead")
    assert dead.field_path == "850/4567/N1[2]" and "99999" in dead.reason


def test_crash_before_archiving_processes_the_file_exactly_once(store, partners: Path, monkeypatch) -> None:
    (partners / "inbox" / "po.x12").write_bytes((DATA / X12_850).read_bytes())
    from waybill.connectors.sftp import SftpClient

    real = SftpClient.done_with

    def crash(self, name):  # the worker dies after storing, before the remote file is archived
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr(SftpClient, "done_with", crash)
    with pytest.raises(KeyboardInterrupt):
        edi_inbound.run(store, partner="acme")
    monkeypatch.setattr(SftpClient, "done_with", real)
    assert edi_inbound.run(store, partner="acme") == FlowCounts()  # still the dead worker's claim
    _claims_run_out(store, monkeypatch)
    counts = edi_inbound.run(store, partner="acme")
    assert counts.unchanged == 1 and counts.acks == 0
    assert len(order_rows(store)) == 1 and len(list((partners / "outbox").iterdir())) == 1
    assert (partners / "archive" / "po.x12").exists()


def test_crash_after_receive_reuses_the_logged_message(store, partners: Path, monkeypatch) -> None:
    (partners / "inbox" / "po.x12").write_bytes((DATA / X12_850).read_bytes())

    def crash(*_a, **_k):
        raise KeyboardInterrupt("worker killed")

    real = edi_inbound.read_file
    monkeypatch.setattr(edi_inbound, "read_file", crash)
    with pytest.raises(KeyboardInterrupt):
        edi_inbound.run(store, partner="acme")
    monkeypatch.setattr(edi_inbound, "read_file", real)
    _claims_run_out(store, monkeypatch)
    counts = edi_inbound.run(store, partner="acme")
    assert counts.stored == 1
    with store.engine.connect() as conn:
        states = message_log.counts_by_state(conn)
    n = sum(states.values())
    assert n == 2 and states == {"processed": 2}  # the customers' message and the file, once each


def test_slow_upload_is_picked_up_only_when_complete(store, partners: Path) -> None:
    raw = (DATA / X12_850).read_bytes()
    target = partners / "inbox" / "slow.x12"
    started = threading.Event()

    def partner_uploads() -> None:  # ~100 bytes every 60 ms, as over a slow line
        with target.open("wb") as f:
            for i in range(0, len(raw), 100):
                f.write(raw[i:i + 100])
                f.flush()
                started.set()
                time.sleep(0.06)

    writer = threading.Thread(target=partner_uploads)
    writer.start()
    started.wait(5)
    during = edi_inbound.run(store, partner="acme")
    writer.join()
    assert during.received == 0 and order_rows(store) == []
    after = edi_inbound.run(store, partner="acme")
    assert after.received == 1 and after.stored == 1 and after.dead == 0


def test_crash_after_the_ack_went_out_stores_once_and_acks_once(store, partners: Path, monkeypatch) -> None:
    (partners / "inbox" / "po.x12").write_bytes((DATA / X12_850).read_bytes())
    real = edi_inbound._send_acks

    def send_then_crash(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr(edi_inbound, "_send_acks", send_then_crash)
    with pytest.raises(KeyboardInterrupt):
        edi_inbound.run(store, partner="acme")
    monkeypatch.setattr(edi_inbound, "_send_acks", real)
    _claims_run_out(store, monkeypatch)
    counts = edi_inbound.run(store, partner="acme")
    assert counts.stored == 1 and counts.acks == 0
    assert len(order_rows(store)) == 1 and len(list((partners / "outbox").iterdir())) == 1


def test_ta1_only_interchange_updates_the_ledger_and_is_not_acknowledged(store, partners: Path) -> None:
    from waybill.edi.hooks import OutboundKey
    from waybill.store.edi_state import StoreLedger

    key = OutboundKey("X12", "test22222", "AAAAAAAAAA", "interchange", "000000042")
    StoreLedger(store).expect(key, ["0001"])
    (partners / "inbox" / "ta1.x12").write_bytes(
        b"ISA*00*          *00*          *08*AAAAAAAAAA     *ZZ*test22222      *261120*0800*U*00401*"
        b"000000901*0*P*>~TA1*000000042*261120*0759*R*022~IEA*0*000000901~")
    counts = edi_inbound.run(store, partner="acme")
    assert counts.received == 1 and counts.acks == 0
    assert StoreLedger(store).state(key) == "R"


def ak5(outbox: Path) -> list[str]:
    """The AK501 of every 997 in the partner's outbox, oldest first."""
    return [element(s, 1) for ic in acks(outbox) for m in ic.messages for s in m.segments if s[0] == "AK5"]


def test_an_order_the_store_refuses_gets_a_negative_997_and_its_resend_is_read(store, partners: Path) -> None:
    """A NUL in BEG03 (the PO number) passes the EDI syntax but no column holds it: the order is
    dead-lettered, the 997 says AK5*R, and the corrected resend under the same control number is
    stored, not refused as "already received"."""
    raw = (DATA / X12_850).read_bytes()
    (partners / "inbox" / "a.x12").write_bytes(raw.replace(b"BEG*00*SA*91393058", b"BEG*00*SA*9139\x003058"))
    first = edi_inbound.run(store, partner="acme")
    assert (first.received, first.stored, first.dead) == (1, 0, 1)
    assert ak5(partners / "outbox") == ["R"]
    (partners / "inbox" / "b.x12").write_bytes(raw)  # the corrected resend: same ISA13
    again = edi_inbound.run(store, partner="acme")
    assert (again.received, again.stored, again.rejected, again.dead) == (1, 1, 0, 0)
    assert ak5(partners / "outbox") == ["R", "A"]
    assert [r.ref.external_id for r in order_rows(store)] == ["850/91393058"]


def test_another_partners_envelope_in_an_inbox_does_not_block_that_partners_file(store, partners: Path, sshd,
                                                                               monkeypatch) -> None:
    orders = (DATA / "bots_one-on-one_edifact_order_xml_edifactorder2xml_edi_orders02.edi").read_bytes()
    (partners / "inbox" / "stray.edi").write_bytes(orders)  # eurotrade's file in acme's inbox
    stray = edi_inbound.run(store, partner="acme")
    assert stray.rejected == 1 and stray.stored == 0
    euro = partners.parent / "eurotrade"
    for name in ("inbox", "outbox", "archive"):
        (euro / name).mkdir(parents=True)
    (euro / "inbox" / "orders.edi").write_bytes(orders)
    sshd.root = euro
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_PARTNER_EUROTRADE", sshd.connection())
    genuine = edi_inbound.run(store, partner="eurotrade")
    assert genuine.rejected == 0 and genuine.stored > 0


def test_a_file_that_vanishes_between_listing_and_download_does_not_fail_the_run(store, partners: Path) -> None:
    raw = (DATA / X12_850).read_bytes()
    (partners / "inbox" / "a.x12").write_bytes(raw)
    (partners / "inbox" / "b.x12").write_bytes(raw.replace(b"91393058", b"91393059"))
    listed = edi_inbound.ready("acme")
    (partners / "inbox" / "a.x12").unlink()  # taken by another worker meanwhile
    counts = edi_inbound.run(store, partner="acme", files=listed)
    assert counts.received == 1 and counts.stored == 1
    assert [r.ref.external_id for r in order_rows(store)] == ["850/91393059"]


def test_a_refused_file_name_is_recorded_once_as_a_rejected_message(store, partners: Path) -> None:
    (partners / "inbox" / "po 1;rm.x12").write_bytes(b"ISA*...")  # a name the connector never downloads
    first = edi_inbound.run(store, partner="acme")
    again = edi_inbound.run(store, partner="acme")
    assert (first.rejected, again.rejected) == (1, 0)
    with store.engine.connect() as conn:
        [refused] = message_log.find(conn, state="rejected")
    assert refused.key == "po 1;rm.x12" and "not a plain file name" in refused.reason
    assert (partners / "inbox" / "po 1;rm.x12").exists()


def test_a_stale_part_file_of_a_killed_upload_is_removed_from_the_outbox(store, partners: Path) -> None:
    import os

    from waybill.connectors.sftp import SftpClient
    from waybill.flows.partners import load_partner

    outbox = partners / "outbox"
    stale, fresh = outbox / "855_x.x12.0123abcd.part", outbox / "855_y.x12.89abcdef.part"
    stale.write_bytes(b"ISA*half")
    fresh.write_bytes(b"ISA*being written")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    acme = load_partner("acme")
    with SftpClient.from_conn_id(acme.conn_id, acme.system) as client:
        assert client.clean_stale_parts() == [stale.name]
    assert sorted(p.name for p in outbox.iterdir()) == [fresh.name]


def _two_at_once(run_a, run_b) -> list:
    """Run both at the same moment in two threads; their results (or errors) in order."""
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def go(i: int, fn) -> None:
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as err:  # reported by the test, not lost in the thread
            results[i] = err

    threads = [threading.Thread(target=go, args=(i, fn)) for i, fn in enumerate((run_a, run_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


@pytest.mark.reliability
@pytest.mark.parametrize("listed", [True, False], ids=["same-listing", "own-listings"])
def test_two_overlapping_runs_process_each_remote_file_once(store, partners: Path, listed: bool) -> None:
    """Each remote file is claimed by one run (renamed to that run's claim name on the server):
    the other skips it. Each file is stored once and acknowledged by one 997."""
    from sim.sftp import purchase_orders

    files = purchase_orders(seed=5, count=8)
    for name, raw in files:
        (partners / "inbox" / name).write_bytes(raw)
    refs = edi_inbound.ready("acme") if listed else None

    a, b = _two_at_once(lambda: edi_inbound.run(store, partner="acme", files=refs),
                        lambda: edi_inbound.run(store, partner="acme", files=refs))

    assert isinstance(a, FlowCounts) and isinstance(b, FlowCounts), (a, b)
    assert a.received + b.received == 8 and a.acks + b.acks == 8
    with store.engine.connect() as conn:
        logged = message_log.find(conn, system="edi:acme", stream="edi")
    assert sorted(m.key for m in logged) == sorted(n for n, _ in files)
    assert {m.state for m in logged} == {"processed"}  # none read twice, none a duplicate
    assert len(order_rows(store)) == 8
    ack_controls = sorted(element(s, 2) for ic in acks(partners / "outbox") for m in ic.messages
                          for s in m.segments if s[0] == "AK1")
    assert len(ack_controls) == 8 == len(set(ack_controls))  # one 997 per file
    assert sorted(p.name for p in (partners / "archive").iterdir()) == sorted(n for n, _ in files)
    assert list((partners / "inbox").iterdir()) == []
