"""Message log: raw bytes kept (inline or archived), dead records replayed after a fix."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.fixtures.factories import batch, customer, order
from tests.store.test_store_apply import count
from waybill.canonical import model
from waybill.flows import replay
from waybill.store import message_log


def map_orders_page(system: str, raw: bytes) -> model.InboundMessage:
    """A test mapper: a JSON list of [order id, customer id]."""
    return model.InboundMessage(raw, entities=[order(o, c) for o, c in json.loads(raw)])


@pytest.fixture
def registered():
    replay.register("erp", "test", "tests.store.test_replay_and_log:map_orders_page")
    yield
    replay.MAPPERS.pop(("erp", "test"))


def test_a_record_that_waited_too_long_is_replayed_after_its_customer_arrives(store, registered, monkeypatch):
    monkeypatch.setattr(store, "cfg", replace(store.cfg, park_hours=0.0))  # WAYBILL_PARK_HOURS=0: no waiting
    raw = json.dumps([["SO1", "1"], ["SO2", "2"]]).encode()
    store.apply(batch(customer("1"), raw=b"customers"))
    first = store.apply(model.Batch("erp", "test", [map_orders_page("erp", raw)]))
    assert (first.inserted, first.parked, first.dead) == (1, 1, 0)
    assert store.redrive().dead == 1
    with store.engine.connect() as conn:
        dead = message_log.find(conn, state="dead")[0]
    assert "for customer erp:2, which never came" in dead.reason
    store.apply(batch(customer("2"), raw=b"more customers"))
    result = replay.replay(store, dead.id)
    assert (result.inserted, result.unchanged, result.dead) == (1, 0, 0)  # the failed record only, not its page
    assert count(store, "orders") == 2
    with store.engine.connect() as conn:
        assert message_log.get(conn, dead.id).state == "replayed"
        assert message_log.find(conn, state="dead") == []
    assert replay.replay(store, dead.id).counts() == replay.ApplyResult().counts()  # twice: nothing to do


def test_replaying_one_dead_record_leaves_the_others_of_its_page_dead(store, registered, monkeypatch):
    monkeypatch.setattr(store, "cfg", replace(store.cfg, park_hours=0.0))  # WAYBILL_PARK_HOURS=0: no waiting
    raw = json.dumps([["SO1", "1"], ["SO2", "2"], ["SO3", "3"]]).encode()
    store.apply(model.Batch("erp", "test", [map_orders_page("erp", raw)]))
    assert store.redrive().dead == 3  # their customers never came
    with store.engine.connect() as conn:
        first, second, _ = sorted(message_log.find(conn, state="dead"), key=lambda m: m.id)
    store.apply(batch(customer("1"), raw=b"customers"))
    result = replay.replay(store, first.id)
    assert (result.inserted, result.dead) == (1, 0)
    with store.engine.connect() as conn:
        assert message_log.get(conn, first.id).state == "replayed"
        assert message_log.get(conn, second.id).state == "dead"


def test_a_processed_message_is_applied_again_only_when_asked(store, registered):
    raw = json.dumps([]).encode()
    store.apply(batch(customer("1"), raw=b"customers"))
    done = store.apply(model.Batch("erp", "test", [model.InboundMessage(raw, entities=[order("SO1", "1")])]))
    assert replay.replay(store, done.messages[0]).received == 0  # processed, nothing dead: nothing to replay
    assert replay.replay(store, done.messages[0], reprocess=True).received == 1


def test_replay_refuses_unknown_messages_and_streams_without_mapper(store):
    with pytest.raises(replay.ReplayError, match="does not exist"):
        replay.replay(store, 999)
    store.apply(batch(customer("1"), stream="nomapper", raw=b"x"))
    with pytest.raises(replay.ReplayError, match="no mapper registered for erp/nomapper"):
        replay.replay(store, 1, reprocess=True)


def test_large_messages_are_archived_and_read_back_intact(store):
    big = b"ISA*" + b"x" * (message_log.INLINE_LIMIT + 10)
    result = store.apply(batch(customer("1"), raw=big))
    with store.engine.connect() as conn:
        logged = message_log.get(conn, result.messages[0])
        assert logged.size == len(big)
    assert store.raw_of(logged.id) == big
    archived = message_log.archive_path(store.archive, logged.id)
    assert archived.exists() and b"x" * 64 not in archived.read_bytes()  # sealed, not plain
    archived.write_bytes(archived.read_bytes()[:-1] + b"!")
    with pytest.raises(message_log.RawUnavailable, match="do not authenticate"):
        store.raw_of(logged.id)


def test_received_then_applied_message_is_not_its_own_duplicate(store):
    mid = store.receive("edi:ACME", "inbound", b"ISA...", key="po1.x12")
    result = store.apply(model.Batch("edi:ACME", "inbound", [
        model.InboundMessage(b"ISA...", "po1.x12", [customer("1")], message_id=mid)]))
    assert (result.duplicates, result.inserted, result.messages) == (0, 1, [mid])
