"""Outbox claims: two workers at once never hold the same row; a claim runs out by itself."""

from __future__ import annotations

import datetime as dt
import threading
import time

from tests.fixtures.factories import batch, order
from tests.fixtures.factories import customer as cust
from waybill.store import outbox
from waybill.store.store import utcnow

LEASE = dt.timedelta(minutes=10)


def test_two_workers_claiming_at_once_get_disjoint_rows(store):
    store.apply(batch(cust("1"), *[order(f"SO{i}", "1") for i in range(8)]))
    got: dict[str, list[int]] = {}

    def claim(worker: str, hold: float) -> None:
        with store.begin() as conn:
            got[worker] = [i.id for i in outbox.claim(conn, "crm", worker=worker, now=utcnow(), lease=LEASE,
                                                       limit=5)]
            time.sleep(hold)  # still in the transaction: the other worker claims meanwhile

    first = threading.Thread(target=claim, args=("a", 0.5))
    first.start()
    time.sleep(0.1)
    claim("b", 0)
    first.join()
    assert len(got["a"]) == 5 and len(got["b"]) == 4
    assert not set(got["a"]) & set(got["b"])
    with store.begin() as conn:  # all nine held: nothing left for a third
        assert outbox.claim(conn, "crm", worker="c", now=utcnow(), lease=LEASE) == []


def test_a_claim_runs_out_and_a_release_frees_the_rows_at_once(store):
    store.apply(batch(cust("1"), order("SO1", "1")))
    with store.begin() as conn:
        held = outbox.claim(conn, "crm", worker="a", now=utcnow(), lease=LEASE)
    later = utcnow() + LEASE + dt.timedelta(seconds=1)
    with store.begin() as conn:
        assert outbox.claim(conn, "crm", worker="b", now=utcnow(), lease=LEASE) == []
        assert [i.id for i in outbox.claim(conn, "crm", worker="b", now=later, lease=LEASE)] == [i.id for i in held]
        outbox.release(conn, [i.id for i in held], "a")  # not a's any more: left as it is
        assert outbox.claim(conn, "crm", worker="c", now=utcnow(), lease=LEASE) == []
        outbox.release(conn, [i.id for i in held], "b")
        assert len(outbox.claim(conn, "crm", worker="c", now=utcnow(), lease=LEASE)) == 2
