"""Customer insights the CRM wants, computed from canonical data. Pure: no database here.

Definitions (as of a cut-off day `as_of`):
- revenue_12m: invoices minus credit notes dated in the trailing 12 months (as_of - 364 .. as_of).
  Amounts are summed as stored: the hub assumes one reporting currency for insights.
- tier: customers ranked by revenue_12m; a customer is A when fewer than ceil(5% of all customers)
  have strictly more revenue, B when fewer than ceil(20%) do, else C. Ties share the better tier;
  a customer without revenue is always C.
- lifetime_value: average monthly revenue x 12 x expected relationship years, where the average is
  revenue_12m over the months the customer has been active within those 12 months (first invoice
  month to as_of, at least 1, at most 12), so a new customer is not diluted by months before it.
- churn_warning: the order rate over the last 90 days (orders/day) is below half of the rate over
  the 365 days before them; never for a customer with no orders in that earlier year.
- aging: open invoice amounts by bucket of days overdue (waybill.canonical.model.AGING_BUCKETS);
  overdue_total is the open amount of every item past its due date.

The facts are canonical entities (waybill.canonical.model.CustomerFacts), stored like any other.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from waybill.canonical.model import AGING_BUCKETS, CustomerFacts, aging_bucket, version_of

YEAR_DAYS = 365
RECENT_DAYS = 90
TIER_A_SHARE = Decimal("0.05")
TIER_B_SHARE = Decimal("0.20")  # top 5% + next 15%


@dataclass
class History:
    """What insights need to know about one customer."""

    customer_id: int
    #: (invoice date, signed amount: invoices positive, credit notes negative)
    revenue: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    order_dates: list[dt.date] = field(default_factory=list)
    #: (due date, open amount) of open invoices
    open_items: list[tuple[dt.date, Decimal]] = field(default_factory=list)


def compute(histories: list[History], as_of: dt.date, expected_years: Decimal) -> list[CustomerFacts]:
    """The facts of every customer in `histories`, as of `as_of`."""
    revenue = {h.customer_id: revenue_12m(h, as_of) for h in histories}
    tiers = value_tiers(revenue)
    return [
        CustomerFacts(
            customer_id=h.customer_id,
            version=version_of(as_of),
            as_of=as_of,
            tier=tiers[h.customer_id],
            revenue_12m=revenue[h.customer_id],
            lifetime_value=lifetime_value(h, as_of, revenue[h.customer_id], expected_years),
            churn_warning=churn_warning(h.order_dates, as_of),
            overdue_total=sum((a for d, a in h.open_items if (as_of - d).days > 0), Decimal(0)),
            aging=aging(h.open_items, as_of),
        )
        for h in histories
    ]


def _window_start(as_of: dt.date) -> dt.date:
    return as_of - dt.timedelta(days=YEAR_DAYS - 1)


def revenue_12m(h: History, as_of: dt.date) -> Decimal:
    start = _window_start(as_of)
    return sum((a for d, a in h.revenue if start <= d <= as_of), Decimal(0))


def value_tiers(revenue: dict[int, Decimal]) -> dict[int, str]:
    """A/B/C by rank of revenue; see the module docstring for ties and zero revenue."""
    n = len(revenue)
    a_slots = math.ceil(n * TIER_A_SHARE)
    b_slots = math.ceil(n * TIER_B_SHARE)
    ordered = sorted(revenue.values(), reverse=True)
    tiers: dict[int, str] = {}
    for cid, r in revenue.items():
        better = _count_greater(ordered, r)
        if r <= 0:
            tiers[cid] = "C"
        elif better < a_slots:
            tiers[cid] = "A"
        elif better < b_slots:
            tiers[cid] = "B"
        else:
            tiers[cid] = "C"
    return tiers


def _count_greater(descending: list[Decimal], value: Decimal) -> int:
    lo, hi = 0, len(descending)
    while lo < hi:  # first index whose value is <= value
        mid = (lo + hi) // 2
        if descending[mid] > value:
            lo = mid + 1
        else:
            hi = mid
    return lo


def lifetime_value(h: History, as_of: dt.date, revenue: Decimal, expected_years: Decimal) -> Decimal:
    start = _window_start(as_of)
    dates = [d for d, _ in h.revenue if start <= d <= as_of]
    if not dates:
        return Decimal(0)
    first = min(dates)
    months = (as_of.year - first.year) * 12 + as_of.month - first.month + 1
    months = min(12, max(1, months))
    return (revenue / months * 12 * expected_years).quantize(Decimal("0.01"))


def churn_warning(order_dates: list[dt.date], as_of: dt.date) -> bool:
    recent_start = as_of - dt.timedelta(days=RECENT_DAYS - 1)
    prior_start = recent_start - dt.timedelta(days=YEAR_DAYS)
    recent = sum(1 for d in order_dates if recent_start <= d <= as_of)
    prior = sum(1 for d in order_dates if prior_start <= d < recent_start)
    if prior == 0:
        return False
    return Decimal(recent) / RECENT_DAYS < Decimal(prior) / YEAR_DAYS / 2


def aging(open_items: list[tuple[dt.date, Decimal]], as_of: dt.date) -> dict[str, Decimal]:
    buckets = {name: Decimal(0) for name, _ in AGING_BUCKETS}
    for due, amount in open_items:
        buckets[aging_bucket((as_of - due).days)] += amount
    return buckets
