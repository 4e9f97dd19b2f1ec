"""Delivery-exception rules per customer tier, and the life of a case. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from waybill.canonical import exceptions
from waybill.canonical.views import ShipmentWatch
from waybill.core.errors import ConfigError

NOW = dt.datetime(2026, 3, 10, 12, 0)
RULES = exceptions.DEFAULT_POLICIES


def watch(status: str = "in_transit", hours_ago: float = 1, tier: str | None = "A", **kw) -> ShipmentWatch:
    fields = {"shipment_id": 7, "customer_id": 3, "tier": tier, "order_id": 11, "promised": None, "carrier": "UPS",
              "tracking_number": "1Z1", "status": status, "substatus": None, "status_code": "I/DP",
              "status_at": NOW - dt.timedelta(hours=hours_ago), "eta": None, "delivered_at": None}
    return ShipmentWatch(**{**fields, **kw})


def seen(w: ShipmentWatch) -> set[str]:
    return set(exceptions.problems(w, exceptions.policy_of(w, RULES), NOW))


@pytest.mark.parametrize("tier", ["A", "B", "C", None])
def test_a_failed_attempt_or_exception_and_a_return_are_problems_for_every_tier(tier):
    assert seen(watch("attempt_failed", tier=tier)) == {"failed_delivery"}
    assert seen(watch("exception", tier=tier)) == {"failed_delivery"}
    assert seen(watch("return_to_sender", tier=tier)) == {"returning"}
    assert seen(watch("in_transit", tier=tier)) == set()


@pytest.mark.parametrize(("tier", "hours", "stalled"), [
    ("A", 23, False), ("A", 24, True), ("B", 30, False), ("B", 48, True), ("C", 200, False), (None, 200, False)])
def test_no_scan_for_the_tier_s_hours_while_in_transit_is_a_stall(tier, hours, stalled):
    assert ("stalled" in seen(watch("in_transit", hours, tier))) is stalled
    assert "stalled" not in seen(watch("pre_transit", 500, tier))  # not yet moving: not a stall


@pytest.mark.parametrize(("tier", "days_late", "late"), [("A", 1, True), ("A", 0, False), ("B", 1, True),
                                                          ("C", 5, False)])
def test_an_eta_after_the_promised_date_is_late(tier, days_late, late):
    promised = dt.date(2026, 3, 12)
    w = watch(tier=tier, promised=promised, eta=dt.datetime(2026, 3, 12, 18) + dt.timedelta(days=days_late))
    assert ("late" in seen(w)) is late


def test_tiers_are_configurable():
    rules = exceptions.policies_from({"C": {"problems": ["failed_delivery", "late"], "late_grace_days": 1},
                                      "A": {"stall_hours": 6}})
    late_c = watch(tier="C", promised=dt.date(2026, 3, 12), eta=dt.datetime(2026, 3, 14, 9))
    assert set(exceptions.problems(late_c, rules["C"], NOW)) == {"late"}
    assert set(exceptions.problems(watch(hours_ago=7), rules["A"], NOW)) == {"stalled"}
    with pytest.raises(ConfigError, match="problems are"):
        exceptions.policies_from({"A": {"problems": ["lost"]}})
    with pytest.raises(ConfigError, match=r"\[D\]"):
        exceptions.policies_from({"D": {}})


def test_a_case_is_opened_once_updated_as_it_changes_and_closed_on_delivery():
    w = watch("attempt_failed", status_code="DE")
    (opened,) = exceptions.cases([w], {}, RULES, NOW)
    assert (opened.state, opened.priority, opened.opened_at, opened.order_id) == ("open", "High", NOW, 11)
    assert opened.ref == exceptions.case_ref(7, "failed_delivery") and "DE" in opened.detail
    later = NOW + dt.timedelta(hours=5)
    (again,) = exceptions.cases([w], {opened.ref: opened}, RULES, later)
    assert replace(again, version=opened.version) == opened  # same facts, same case: nothing to store
    (updated,) = exceptions.cases([replace(w, status_code="X1", status_at=later)], {opened.ref: opened}, RULES,
                                  later)
    assert updated.opened_at == NOW and "X1" in updated.detail
    delivered = replace(w, status="delivered", delivered_at=later)
    (closed,) = exceptions.cases([delivered], {opened.ref: updated}, RULES, later)
    assert (closed.state, closed.closed_at, closed.detail) == ("closed", later, updated.detail)
    assert exceptions.cases([delivered], {opened.ref: closed}, RULES, later) == []  # closed stays closed
