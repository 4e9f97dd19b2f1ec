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
    assert (result.inserted, result.unchanged, result.dead) == (1, 1, 0)
    assert count(store, "orders") == 2
    with store.engine.connect() as conn:
        assert message_log.get(conn, dead.id).state == "replayed"
        assert message_log.find(conn, state="dead") == []


def test_replay_refuses_unknown_messages_and_streams_without_mapper(store):
    with pytest.raises(replay.ReplayError, match="does not exist"):
        replay.replay(store, 999)
    store.apply(batch(customer("1"), stream="nomapper", raw=b"x"))
    with pytest.raises(replay.ReplayError, match="no mapper registered for erp/nomapper"):
        replay.replay(store, 1)


def test_large_messages_are_archived_and_read_back_intact(store):
    big = b"ISA*" + b"x" * (message_log.INLINE_LIMIT + 10)
    result = store.apply(batch(customer("1"), raw=big))
    with store.engine.connect() as conn:
        logged = message_log.get(conn, result.messages[0])
        assert logged.size == len(big)
        assert message_log.raw_of(conn, logged.id) == big
    archived = store.archive / logged.sha256[:2] / logged.sha256
    assert archived.exists()
    archived.write_bytes(b"tampered")
    with store.engine.connect() as conn, pytest.raises(ValueError, match="do not match their sha256"):
        message_log.raw_of(conn, logged.id)


def test_received_then_applied_message_is_not_its_own_duplicate(store):
    mid = store.receive("edi:ACME", "inbound", b"ISA...", key="po1.x12")
    result = store.apply(model.Batch("edi:ACME", "inbound", [
        model.InboundMessage(b"ISA...", "po1.x12", [customer("1")], message_id=mid)]))
    assert (result.duplicates, result.inserted, result.messages) == (0, 1, [mid])
