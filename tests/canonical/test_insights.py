"""Customer insights against hand-computed expectations (waybill.canonical.insights is pure)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from waybill.canonical import insights
from waybill.canonical.insights import History

AS_OF = dt.date(2026, 6, 30)


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def test_revenue_window_is_the_trailing_365_days_net_of_credit_notes():
    h = History(1, revenue=[(days_ago(0), D(100)), (days_ago(364), D(50)), (days_ago(365), D(999)),
                            (days_ago(10), D(-30))])
    assert insights.revenue_12m(h, AS_OF) == D(120)


def test_tiers_top_5_next_15_rest_80_of_20_customers():
    revenue = {i: D(1000 - i * 10) for i in range(20)}  # customer 0 has the most
    tiers = insights.value_tiers(revenue)
    # ceil(20 * 5%) = 1 A, ceil(20 * 20%) = 4 in A or B
    assert [tiers[i] for i in range(20)] == ["A"] + ["B"] * 3 + ["C"] * 16


def test_ties_share_the_better_tier_and_zero_revenue_is_c():
    revenue = {1: D(500), 2: D(500), 3: D(100), 4: D(0), 5: D(0), 6: D(50), 7: D(40), 8: D(30),
               9: D(20), 10: D(10)}
    tiers = insights.value_tiers(revenue)
    # 10 customers: 1 A slot, 2 A-or-B slots. Customers 1 and 2 tie for first: both A.
    # Customer 3 has two customers above it: not < 2, so C.
    assert (tiers[1], tiers[2], tiers[3], tiers[4], tiers[5]) == ("A", "A", "C", "C", "C")


def test_lifetime_value_uses_active_months_within_the_year():
    # First invoice 2026-04-15: active months April, May, June = 3; revenue 900 -> 300/month.
    h = History(1, revenue=[(dt.date(2026, 4, 15), D(600)), (dt.date(2026, 6, 1), D(300))])
    assert insights.lifetime_value(h, AS_OF, D(900), D(3)) == D("10800.00")  # 300 x 12 x 3
    old = History(2, revenue=[(days_ago(364), D(1200))])  # 2025-07-01: 12 active months
    assert insights.lifetime_value(old, AS_OF, D(1200), D(2)) == D("2400.00")  # 1200/12 x 12 x 2
    assert insights.lifetime_value(History(3), AS_OF, D(0), D(3)) == D(0)


@pytest.mark.parametrize(
    "recent, prior, warned",
    [
        (0, 12, True),     # stopped ordering
        (1, 12, True),     # 1/90 = 0.0111 < 12/365/2 = 0.0164
        (2, 12, False),    # 2/90 = 0.0222 >= 0.0164
        (0, 0, False),     # no history: no warning
        (5, 0, False),     # new customer
    ],
)
def test_churn_warning_when_the_90_day_rate_halves(recent, prior, warned):
    dates = [days_ago(i) for i in range(recent)] + [days_ago(100 + i * 20) for i in range(prior)]
    assert insights.churn_warning(dates, AS_OF) is warned


def test_aging_buckets_and_overdue_total():
    items = [(days_ago(-5), D(10)), (days_ago(0), D(20)), (days_ago(1), D(30)), (days_ago(30), D(40)),
             (days_ago(31), D(50)), (days_ago(90), D(60)), (days_ago(91), D(70))]
    assert insights.aging(items, AS_OF) == {
        "current": D(30), "1-30": D(70), "31-60": D(50), "61-90": D(60), "over_90": D(70)}
    facts = insights.compute([History(1, open_items=items)], AS_OF, D(3))[0]
    assert facts.overdue_total == D(250)


def test_customer_with_no_history_gets_neutral_facts():
    f = insights.compute([History(7)], AS_OF, D(3))[0]
    assert (f.tier, f.revenue_12m, f.lifetime_value, f.churn_warning, f.overdue_total) == ("C", 0, 0, False, 0)
    assert set(f.aging.values()) == {D(0)}
