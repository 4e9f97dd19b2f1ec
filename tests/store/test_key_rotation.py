"""Keys have ids; rotation adds a key and re-encrypts contacts, raw messages and archived copies
under it in resumable batches; old keys stay until nothing uses them."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from tests.fixtures.factories import batch, customer
from waybill.canonical import model
from waybill.ops import cli
from waybill.store import audit, keys, message_log
from waybill.store.crypto import Cipher, key_id, load_keys
from waybill.store.schema import customer as customer_table
from waybill.store.store import Store


@pytest.fixture
def file_keyed(store, monkeypatch):
    """The store with its key in the key file (rotation writes there), as `waybill db upgrade` makes it."""
    monkeypatch.delenv("WAYBILL_SECRET_KEY")
    store_file = Store(store.engine, store.cipher, store.cfg.__class__(**{**store.cfg.__dict__,
                                                                           "secret_key_b64": None}))
    from waybill.store.crypto import write_key_file

    write_key_file(store.cfg.secret_key_file, [base64.b64decode(store.cfg.secret_key_b64)])
    return store_file


def _seed(store: Store, n: int) -> dict[str, bytes]:
    """n customers with contacts, each in its own message; one message large enough to be archived."""
    raws = {}
    for i in range(n):
        contact = model.Contact(name=f"Person {i}", email=f"p{i}@example.com", phone=f"+49 30 555 01{i:02d}")
        raw = f"page {i} p{i}@example.com".encode() + (b"x" * message_log.INLINE_LIMIT if i == 0 else b"")
        raws[f"c{i}"] = raw
        address = model.Address("billing", f"Lindenstrasse {i}", "Berlin", "10115", "DE")
        store.apply(batch(customer(f"c{i}", contacts=(contact,), addresses=(address,)), raw=raw, key=f"c{i}"))
    return raws


def _everything(store: Store) -> tuple[list[bytes], list[str]]:
    """Every message's raw bytes and every customer's contacts, opened with the store's keys."""
    with store.engine.connect() as conn:
        ids = [m.id for m in message_log.find(conn, limit=1000)]
        contacts = [store.cipher.decrypt(t) for row in conn.execute(
            select(customer_table.c.contacts_enc, customer_table.c.addresses).order_by(customer_table.c.id))
            for t in row]
    return [store.raw_of(i) for i in sorted(ids)], contacts


def test_rotating_twice_loses_nothing_and_leaves_old_keys_unused(file_keyed):
    store = file_keyed
    _seed(store, 12)
    first = store.cipher.current
    again = customer("c3", contacts=(model.Contact(name="Person 3", email="p3@example.com", phone="+49 30 555 0103"),),
                     addresses=(model.Address("billing", "Lindenstrasse 3", "Berlin", "10115", "DE"),))
    unchanged = store.apply(batch(again, raw=b"again"))
    before = _everything(store)

    store, done = keys.rotate(store, batch=5)
    assert (done.fields, done.messages) == (24, 13)
    second = store.cipher.current
    store, done = keys.rotate(Store.open(store.engine.url.render_as_string(hide_password=False)), batch=5)
    third = store.cipher.current

    assert len({first, second, third}) == 3
    assert _everything(store) == before
    with store.engine.connect() as conn:
        used = keys.usage(conn)
        rotations = audit.entries(conn, "rotate")
    assert used == {third: 24 + 13}
    assert [e.detail["current"] for e in rotations] == [second, third]
    # the change-detection hashes did not move: an unchanged record is still unchanged
    assert unchanged.unchanged == 1
    assert store.apply(batch(again, raw=b"again 2")).unchanged == 1
    # the old keys are kept until pruned; pruning keeps the oldest (it keys the hashes) and the current
    assert [key_id(k) for k in load_keys(store.cfg)] == [first, second, third]
    assert keys.prune(store) == [second]
    assert [key_id(k) for k in load_keys(store.cfg)] == [first, third]
    assert _everything(Store.open(store.engine.url.render_as_string(hide_password=False)))[0][:-1] == before[0]


def test_an_interrupted_rotation_resumes_where_it_stopped(file_keyed, monkeypatch, capsys):
    store = file_keyed
    monkeypatch.setenv("WAYBILL_DB_URL", store.engine.url.render_as_string(hide_password=False))
    _seed(store, 7)
    before = _everything(store)
    new = keys.add_key(store)
    done = keys.reencrypt(new, batch=3, limit_batches=1)  # the run stops after one batch
    assert (done.fields, done.messages) == (6, 3)
    with store.engine.connect() as conn:
        assert keys.usage(conn)[new.cipher.current] == 6 + 3
    # later, `waybill keys rotate --resume` carries on under the key the first run added
    assert cli.main(["keys", "rotate", "--resume", "--batch", "2"]) == 0
    assert "re-encrypted 8 personal-data fields and 4 raw messages" in capsys.readouterr().out
    reopened = Store(store.engine, Cipher(load_keys(store.cfg)), store.cfg)
    with store.engine.connect() as conn:
        assert keys.usage(conn) == {new.cipher.current: 14 + 7}
    assert _everything(reopened) == before


def test_rotation_needs_the_operator_when_keys_come_from_the_environment(store):
    with pytest.raises(Exception, match="WAYBILL_SECRET_KEY"):
        keys.rotate(store)
