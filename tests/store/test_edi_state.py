"""The EDI engine's state on the hub store: duplicates, control numbers, acknowledgment ledger."""

from __future__ import annotations

from waybill.edi.hooks import AckStatus, OutboundKey
from waybill.store.edi_state import InboundKey, StoreControlNumbers, StoreLedger, StoreRegistry, register_inbound
from waybill.store.store import utcnow


def register(store, key: InboundKey, message_id: int) -> None:
    with store.begin() as conn:
        register_inbound(conn, [key], message_id, utcnow())


def test_an_interchange_is_seen_once_registered_and_only_by_its_partner(store):
    acme = StoreRegistry(store, message_id=1, partner="acme")
    assert acme.seen("X12", "ACME ", "WAYBILL", "000000001") is False
    assert StoreRegistry(store, message_id=2, partner="acme").seen("X12", "ACME", "WAYBILL", "000000001") is False
    register(store, InboundKey("acme", "X12", "ACME ", "WAYBILL", "000000001"), 1)
    assert acme.seen("X12", "ACME", "WAYBILL", "000000001") is False  # a retry of the same message
    assert StoreRegistry(store, message_id=2, partner="acme").seen("X12", "ACME", "WAYBILL", "000000001") is True
    assert StoreRegistry(store, message_id=2, partner="acme").seen("X12", "ACME", "WAYBILL", "000000002") is False
    # the same envelope through another partner's inbox is that inbox's business, not a duplicate
    assert StoreRegistry(store, message_id=3, partner="globex").seen("X12", "ACME", "WAYBILL", "000000001") is False
    register(store, InboundKey("acme", "X12", "ACME", "WAYBILL", "000000001"), 2)  # kept as first registered
    assert StoreRegistry(store, message_id=2, partner="acme").seen("X12", "ACME", "WAYBILL", "000000001") is True


def test_control_numbers_never_repeat_across_instances(store):
    a = StoreControlNumbers(store)
    assert [a.next("acme", "ISA") for _ in range(3)] == [1, 2, 3]
    assert a.next("acme", "GS") == 1
    assert StoreControlNumbers(store).next("acme", "ISA") == 4  # a restart continues, never reuses


def test_ledger_applies_acknowledgments_to_our_interchanges_only(store):
    ledger = StoreLedger(store)
    ours = OutboundKey("X12", "WAYBILL", "ACME", "group", "17")
    ledger.expect(ours, ["0001", "0002"])
    assert ledger.state(ours) == "sent"
    assert ledger.acknowledge(ours, AckStatus("P", {"0001": "A", "0002": "R"})) is True
    assert ledger.state(ours) == "P"
    assert ledger.acknowledge(OutboundKey("X12", "WAYBILL", "ACME", "group", "99"), AckStatus("A")) is False


def test_two_workers_taking_a_partners_first_control_number_at_once_get_two_numbers(store):
    """The first number of a partner creates its row: two workers doing it at the same moment
    (two overlapping inbound runs acknowledging their files) must both get a number, not one an
    IntegrityError on the row the other created."""
    import threading

    numbers = StoreControlNumbers(store)

    def take(partner: str, barrier: threading.Barrier, got: list) -> None:
        barrier.wait()
        try:
            got.append(numbers.next(partner, "ISA"))
        except Exception as err:  # kept for the assertion below
            got.append(err)

    for round_ in range(15):
        barrier, got = threading.Barrier(2), []
        threads = [threading.Thread(target=take, args=(f"p{round_}", barrier, got)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got, key=str) == [1, 2], got
