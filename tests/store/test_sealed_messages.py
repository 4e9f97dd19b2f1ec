"""Raw inbound content at rest is sealed (AES-256-GCM, the message id as associated data), inline
and archived, and readable only through Waybill."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.fixtures.factories import batch, customer
from waybill.store import message_log
from waybill.store.crypto import MAGIC
from waybill.store.schema import message

EMAIL = b"anna.kowalska@example.pl"


def test_inline_raw_is_sealed_and_reads_back(store):
    mid = store.apply(batch(customer("1"), raw=b'{"email": "' + EMAIL + b'"}')).messages[0]
    with store.engine.connect() as conn:
        stored, kid = conn.execute(select(message.c.raw, message.c.key_id).where(message.c.id == mid)).one()
    assert bytes(stored).startswith(MAGIC) and EMAIL not in bytes(stored)
    assert kid == store.cipher.current
    assert EMAIL in store.raw_of(mid)


def test_sealed_bytes_moved_to_another_message_do_not_open(store):
    first = store.apply(batch(customer("1"), raw=b"first " + EMAIL)).messages[0]
    second = store.apply(batch(customer("2"), raw=b"second")).messages[0]
    with store.begin() as conn:
        blob = conn.execute(select(message.c.raw).where(message.c.id == first)).scalar_one()
        conn.execute(update(message).where(message.c.id == second).values(raw=blob))
    with pytest.raises(message_log.RawUnavailable, match="do not authenticate"):
        store.raw_of(second)


def test_archived_raw_is_sealed_owner_only_and_named_by_message(store):
    big = EMAIL + b" " + b"x" * message_log.INLINE_LIMIT
    mid = store.apply(batch(customer("1"), raw=big)).messages[0]
    path = message_log.archive_path(store.archive, mid)
    data = path.read_bytes()
    assert data.startswith(MAGIC) and EMAIL not in data
    assert path.stat().st_mode & 0o777 == 0o600
    assert store.raw_of(mid) == big


def test_rows_logged_before_sealing_are_still_read(store):
    mid = store.apply(batch(customer("1"), raw=b"placeholder")).messages[0]
    with store.begin() as conn:  # as a row written before the store sealed raw bytes
        conn.execute(update(message).where(message.c.id == mid).values(raw=b"legacy plain", key_id=None,
                                                                           sha256=message_log.sha256(b"legacy plain")))
    assert store.raw_of(mid) == b"legacy plain"


def test_the_upgrade_purges_carrier_requests_logged_with_credentials(waybill_env):
    from waybill.store import db
    from waybill.store.store import Store, utcnow

    engine = db.make_engine(f"sqlite:///{waybill_env / 'old.db'}")
    db.upgrade(engine, "0002")
    old = {"system": "carrier:fedex", "key": "k", "size": 1, "state": "processed", "received_at": utcnow(),
           "attempts": 1}
    with engine.begin() as conn:
        conn.execute(message.insert(), [
            {**old, "stream": "track-request", "sha256": message_log.sha256(b"<Password>pw</Password>"),
             "raw": b"<Password>pw</Password>"},
            {**old, "stream": "track", "sha256": message_log.sha256(b"<TrackReply/>"), "raw": b"<TrackReply/>"}])
    db.upgrade(engine)
    store = Store.open(str(engine.url))
    with pytest.raises(message_log.RawUnavailable, match="purged"):
        store.raw_of(1)
    assert store.raw_of(2) == b"<TrackReply/>"  # logged before sealing: read as it is
