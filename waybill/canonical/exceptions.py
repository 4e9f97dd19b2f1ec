"""Proactive delivery exceptions: rules on the canonical tracking state, per customer tier. Pure.

Problems (model.CASE_PROBLEMS):
- failed_delivery: the parcel's status is exception or attempt_failed;
- stalled: in transit (or out for delivery) with no scan for the tier's `stall_hours`;
- late: the carrier's ETA falls after the order's promised (requested) date plus the tier's grace;
- returning: the parcel goes back to the sender.

Each tier has its own policy (thresholds, which problems open a case, the case's priority): tier A
first, as the value tiers say. A customer without facts yet counts as the lowest tier.

`cases` turns what the rules see now, and the cases already held, into the cases to store: a new
problem opens a case, a known one is updated (its detail follows what is known, its opened_at
stays), and every case of a delivered parcel is closed. Details carry no clock time, so a rerun on
the same facts yields the same cases and the store writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from waybill.canonical import model
from waybill.canonical.views import ShipmentWatch
from waybill.core.errors import ConfigError

FAILED = frozenset({"exception", "attempt_failed"})
MOVING = frozenset({"in_transit", "out_for_delivery"})


@dataclass(frozen=True)
class TierPolicy:
    """What opens a case for a customer of one tier."""

    stall_hours: float
    late_grace_days: int
    problems: frozenset[str]
    priority: str


DEFAULT_POLICIES: dict[str, TierPolicy] = {
    "A": TierPolicy(stall_hours=24, late_grace_days=0, problems=frozenset(model.CASE_PROBLEMS), priority="High"),
    "B": TierPolicy(stall_hours=48, late_grace_days=0, problems=frozenset(model.CASE_PROBLEMS), priority="Medium"),
    "C": TierPolicy(stall_hours=96, late_grace_days=2, problems=frozenset({"failed_delivery", "returning"}),
                    priority="Low"),
}


def policies_from(data: Mapping[str, Any], base: Mapping[str, TierPolicy] = DEFAULT_POLICIES) -> dict[str, TierPolicy]:
    """Policies from configuration ({"A": {"stall_hours": 12, "problems": [...]}, ...}) over `base`;
    ConfigError naming the tier and field on a mistake."""
    out = dict(base)
    for tier, fields in data.items():
        if tier not in model.VALUE_TIERS or not isinstance(fields, Mapping):
            raise ConfigError(f"delivery exception rules: [{tier}] must be a table of one of the tiers "
                              f"{', '.join(model.VALUE_TIERS)}")
        unknown = sorted(set(fields) - {"stall_hours", "late_grace_days", "problems", "priority"})
        problems = set(fields.get("problems", out[tier].problems))
        if unknown or not problems <= set(model.CASE_PROBLEMS):
            raise ConfigError(f"delivery exception rules [{tier}]: unknown {unknown or sorted(problems)}; "
                              f"problems are {', '.join(model.CASE_PROBLEMS)}")
        out[tier] = replace(out[tier], stall_hours=float(fields.get("stall_hours", out[tier].stall_hours)),
                            late_grace_days=int(fields.get("late_grace_days", out[tier].late_grace_days)),
                            problems=frozenset(problems), priority=str(fields.get("priority", out[tier].priority)))
    return out


def policy_of(watch: ShipmentWatch, policies: Mapping[str, TierPolicy]) -> TierPolicy:
    """The policy of the shipment's customer's tier (the lowest tier when it has none yet)."""
    tier = watch.tier if watch.tier is not None and watch.tier in policies else model.VALUE_TIERS[-1]
    return policies[tier]


def problems(watch: ShipmentWatch, policy: TierPolicy, now: dt.datetime) -> dict[str, str]:
    """The problems the rules see in the shipment now, each with a detail for the case."""
    found: dict[str, str] = {}
    what = f"{watch.carrier} {watch.tracking_number or '(no tracking number)'}"
    since = f"{watch.status_at:%Y-%m-%d %H:%M}" if watch.status_at else "no scan yet"
    if watch.status in FAILED:
        found["failed_delivery"] = (f"{what}: {watch.status}"
                                    f"{f' ({watch.substatus})' if watch.substatus else ''}, carrier code "
                                    f"{watch.status_code or '-'}, at {since}")
    if watch.status == "return_to_sender":
        found["returning"] = f"{what}: going back to the sender since {since}"
    if (watch.status in MOVING and watch.status_at is not None
            and now - watch.status_at >= dt.timedelta(hours=policy.stall_hours)):
        found["stalled"] = f"{what}: {watch.status}, no scan since {since} (limit {policy.stall_hours:g} h)"
    if (watch.promised is not None and watch.eta is not None and watch.delivered_at is None
            and watch.eta.date() > watch.promised + dt.timedelta(days=policy.late_grace_days)):
        found["late"] = f"{what}: expected {watch.eta:%Y-%m-%d}, promised {watch.promised:%Y-%m-%d}"
    return {p: d for p, d in found.items() if p in policy.problems}


def case_ref(shipment_id: int, problem: str) -> model.Ref:
    """The one case of a shipment and problem."""
    return model.Ref("hub", f"case/{shipment_id}/{problem}")


def cases(watches: Iterable[ShipmentWatch], held: Mapping[model.Ref, model.DeliveryCase],
          policies: Mapping[str, TierPolicy], now: dt.datetime) -> list[model.DeliveryCase]:
    """The cases to store: opened or updated for the problems seen now, closed for delivered
    parcels; cases held whose problem is gone stay as they are (open until delivery)."""
    version = model.version_of(now)
    out: list[model.DeliveryCase] = []
    for w in watches:
        if w.status == "delivered":
            for problem in model.CASE_PROBLEMS:
                case = held.get(case_ref(w.shipment_id, problem))
                if case is not None and case.state == "open":
                    out.append(replace(case, version=version, state="closed", closed_at=w.delivered_at or now))
            continue
        policy = policy_of(w, policies)
        for problem, detail in problems(w, policy, now).items():
            ref = case_ref(w.shipment_id, problem)
            case = held.get(ref)
            out.append(model.DeliveryCase(
                ref=ref, version=version, shipment_id=w.shipment_id, customer_id=w.customer_id, problem=problem,
                state="open", priority=policy.priority, detail=detail, order_id=w.order_id,
                opened_at=case.opened_at if case is not None and case.state == "open" else now))
    return out
