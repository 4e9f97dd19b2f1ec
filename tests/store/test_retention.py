"""Retention per stream, `waybill purge` (never what an unfinished message still needs, audited)
and `waybill forget CUSTOMER` (personal data erased, business records kept)."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from tests.fixtures.factories import batch, customer, order
from waybill.canonical import model
from waybill.ops import cli
from waybill.store import audit, message_log, outbox, retention, tables
from waybill.store.schema import customer as customer_table
from waybill.store.schema import message
from waybill.store.schema import outbox as outbox_table
from waybill.store.store import utcnow

LATER = dt.timedelta(days=91)


def _state(store, mid):
    with store.engine.connect() as conn:
        return conn.execute(select(message.c.state, message.c.purged_at).where(message.c.id == mid)).one()


def test_purge_removes_only_what_is_past_retention_and_done_with(store):
    done = store.apply(batch(customer("1"), raw=b"customers page", stream="customers")).messages[0]
    big = store.apply(batch(customer("2"), raw=b"x" * (message_log.INLINE_LIMIT + 1), stream="customers")).messages[0]
    waiting = store.receive("edi:acme", "inbound", b"ISA* still being processed", key="po.x12")
    # a page with one dead record: the page's bytes are needed to replay it
    parent = store.apply(batch(customer("3"), order("SO9", cust="3", currency="XXX"), raw=b"orders page",
                               stream="orders")).messages[0]
    archived = message_log.archive_path(store.archive, big)
    assert archived.exists()

    report = retention.purge(store, now=utcnow() + LATER)

    assert (report.raw, report.dead, report.archive_files) == (2, 0, 1)
    assert _state(store, done).purged_at is not None and not archived.exists()
    assert _state(store, waiting).purged_at is None and store.raw_of(waiting).startswith(b"ISA*")
    assert _state(store, parent).purged_at is None  # its dead record awaits replay
    with pytest.raises(message_log.RawUnavailable, match="purged"):
        store.raw_of(done)
    # the digest stays: the same content is still recognised as a duplicate
    assert store.apply(batch(customer("1"), raw=b"customers page", stream="customers")).duplicates == 1

    # past the dead letters' retention, the dead record goes, and then its page
    later = retention.purge(store, now=utcnow() + dt.timedelta(days=181))
    assert _state(store, parent).purged_at is not None
    with store.engine.connect() as conn:
        purges = audit.entries(conn, "purge")
    assert [(p.detail["raw"], p.detail["dead"]) for p in purges] == [(2, 0), (2, 1)]  # the page and the duplicate
    assert later.dead == 1
    assert purges[0].detail["retention"]["days"]["raw"] == 90


def test_retention_per_stream_from_the_configuration(store, waybill_env, monkeypatch):
    path = waybill_env / "retention.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[days]\nraw = 30\n\n[raw]\n"erp/customers" = 400\n')
    monkeypatch.setenv("WAYBILL_RETENTION", str(path))
    kept = store.apply(batch(customer("1"), raw=b"customers", stream="customers")).messages[0]
    gone = store.apply(batch(customer("2"), raw=b"stock", stream="stock")).messages[0]
    from waybill.core.config import settings

    policy = retention.load(settings())
    assert (policy.raw_days("erp", "customers"), policy.raw_days("erp", "stock")) == (400, 30)
    assert policy.raw_days("carrier:fedex", "track-request") == 7  # the defaults stay
    path.write_text('[raw]\n"carrier:*/*" = 2\n')
    assert retention.load(settings()).raw_days("carrier:fedex", "track-request") == 2  # the file's wins
    retention.purge(store, policy, now=utcnow() + dt.timedelta(days=31))
    assert _state(store, kept).purged_at is None and _state(store, gone).purged_at is not None


def test_bad_retention_configuration_is_a_clear_error(waybill_env, monkeypatch):
    path = waybill_env / "retention.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[days]\nraws = 3\n")
    monkeypatch.setenv("WAYBILL_RETENTION", str(path))
    from waybill.core.config import settings

    with pytest.raises(Exception, match="unknown \\[days\\] raws"):
        retention.load(settings())


def test_outbox_history_landing_and_quarantine_are_purged(store, waybill_env):
    store.apply(batch(customer("1"), customer("2")))
    with store.begin() as conn:
        ids = [i.id for i in outbox.pending(conn, "crm")]
        outbox.mark_delivered(conn, ids[:1], utcnow() - dt.timedelta(days=100))
        outbox.mark_delivered(conn, ids[1:], utcnow())
    old, new = waybill_env / "landing" / "acme" / "old.x12", waybill_env / "quarantine" / "acme" / "new.x12"
    for p in (old, new):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"ISA*")
    stale = (utcnow() - dt.timedelta(days=10)).replace(tzinfo=dt.UTC).timestamp()
    os.utime(old, (stale, stale))

    report = retention.purge(store)

    assert (report.outbox, report.landing, report.quarantine) == (1, 1, 0)
    assert not old.exists() and new.exists()
    with store.engine.connect() as conn:
        assert [r.id for r in conn.execute(select(outbox_table.c.id))] == ids[1:]


def _person(ext: str, name: str, email: str, phone: str, street: str) -> model.Customer:
    return customer(ext, name=name, tax_id=f"DE{ext}99", contacts=(model.Contact(name, email, phone, "main"),),
                    addresses=(model.Address("billing", street, "Berlin", "10115", "DE"),))


def test_forget_erases_a_person_but_keeps_the_business_records(store, monkeypatch, capsys):
    jane = _person("1", "Jane Roe", "jane.roe@example.org", "+49 30 5550123", "Lindenstrasse 5")
    other = _person("2", "Max Muster", "max@example.org", "+49 30 5550999", "Ahornweg 9")
    store.apply(batch(jane, raw=json.dumps({"email": "jane.roe@example.org"}).encode(), stream="customers"))
    store.apply(batch(other, raw=b'{"email": "max@example.org"}', stream="customers"))
    ship_to = model.Address("shipping", "Lindenstrasse 5", "Berlin", name="Jane Roe")
    store.apply(batch(order("SO1", cust="1", ship_to=ship_to), order("SO2", cust="2"), raw=b"orders: Jane Roe, Max",
                      stream="orders"))
    inv = model.Invoice(model.Ref("erp", "INV1"), model.Ref("erp", "1"), "1", "INV1", dt.date(2026, 3, 1),
                        dt.date(2026, 4, 1), "EUR", Decimal(100), Decimal(100))
    store.apply(batch(inv, raw=b"invoices", stream="invoices"))
    pending = store.receive("erp", "customers", b"JANE ROE moved", key="late")
    monkeypatch.setenv("WAYBILL_DB_URL", store.engine.url.render_as_string(hide_password=False))

    assert cli.main(["forget", "erp:1"]) == 1  # one message is still being processed
    out = capsys.readouterr()
    assert "2 raw messages purged" in out.out and "still being processed" in out.err

    with store.engine.connect() as conn:
        row = conn.execute(select(customer_table).where(customer_table.c.id == 1)).one()
        orders = {o.external_id: o for o in tables.rows(conn, "orders")}
        invoices = tables.rows(conn, "invoice")
        purged = {m.id: m.purged_at for m in conn.execute(select(message.c.id, message.c.purged_at))}
        [entry] = audit.entries(conn, "forget")
    assert (row.name, row.tax_id, row.contacts_enc, row.addresses) == ("erased customer 1", None, None, None)
    assert orders["SO1"].ship_to is None and orders["SO1"].amount_total == orders["SO1"].amount_total
    assert len(orders) == 2 and len(invoices) == 1 and invoices[0].customer_id == 1
    assert purged[1] is not None and purged[3] is not None  # Jane's customer page and the orders page naming her
    assert purged[2] is None and purged[4] is None  # Max's page, the invoices page
    assert purged[pending] is None
    assert entry.subject == "customer 1" and "Jane" not in json.dumps(entry.detail)
    # the other customer is untouched
    with store.engine.connect() as conn:
        other_row = conn.execute(select(customer_table).where(customer_table.c.id == 2)).one()
    assert other_row.name == "Max Muster" and "max@example.org" in store.cipher.decrypt(other_row.contacts_enc)


def test_forget_of_an_unknown_customer_is_a_clear_error(store, monkeypatch, capsys):
    monkeypatch.setenv("WAYBILL_DB_URL", store.engine.url.render_as_string(hide_password=False))
    assert cli.main(["forget", "erp:nobody"]) == 1
    assert "is not in the hub" in capsys.readouterr().err


def test_purge_command_reports_what_it_removed(store, monkeypatch, capsys):
    monkeypatch.setenv("WAYBILL_DB_URL", store.engine.url.render_as_string(hide_password=False))
    store.apply(batch(customer("1")))
    with store.begin() as conn:
        conn.execute(update(message).values(received_at=utcnow() - LATER))
    assert cli.main(["purge"]) == 0
    assert "raw 1" in capsys.readouterr().out


def test_replaying_a_purged_message_is_a_clear_error(store):
    parent = store.apply(batch(customer("1"), order("SO9", currency="XXX"), raw=b"orders page",
                               stream="orders")).messages[0]
    with store.engine.connect() as conn:
        [dead] = message_log.find(conn, state="dead")
    retention.purge(store, now=utcnow() + dt.timedelta(days=400))  # past the dead letters' retention too
    assert _state(store, parent).purged_at is not None
    from waybill.flows import replay

    with pytest.raises(replay.ReplayError, match="purged"):
        replay.replay(store, dead.id)
