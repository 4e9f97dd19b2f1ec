"""Flow delivery_exceptions: tell the account team of a delivery problem before the customer notices.

Reads the shipments worth watching (waybill.store.reads.exceptions: open ones, and delivered ones
with an open case), applies the rules of waybill.canonical.exceptions with the policy of each
customer's value tier, and stores the resulting cases like any batch (system `hub`, stream
`delivery_cases`): one case per shipment and problem, opened, updated when its detail changes,
closed when the parcel is delivered. Each stored change queues the CRM's Case upsert (by external
id, linked to the Account, the Order and the Shipment__c) in the same transaction; a rerun on the
same facts changes nothing and queues nothing, so a case is never opened twice.

The tiers' rules can be tuned in a TOML file named by WAYBILL_EXCEPTION_RULES, e.g.

    [A]
    stall_hours = 12
    [C]
    problems = ["failed_delivery", "returning", "late"]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from waybill.canonical import exceptions, model
from waybill.core.errors import ConfigError
from waybill.core.logs import event, get_logger
from waybill.flows.counts import FlowCounts
from waybill.store.reads import exceptions as reads
from waybill.store.store import Store, utcnow

log = get_logger("flows.delivery_exceptions")
SYSTEM = "hub"
STREAM = "delivery_cases"


def policies() -> dict[str, exceptions.TierPolicy]:
    """The tiers' policies: the defaults, tuned by the file WAYBILL_EXCEPTION_RULES names."""
    path = os.environ.get("WAYBILL_EXCEPTION_RULES")
    if not path:
        return dict(exceptions.DEFAULT_POLICIES)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"delivery exception rules {path}: {err}") from None
    return exceptions.policies_from(data)


def run(store: Store | None = None, *, now: dt.datetime | None = None,
        rules: Mapping[str, exceptions.TierPolicy] | None = None) -> FlowCounts:
    """Evaluate every watched shipment once: shipments looked at (received), cases opened, updated
    or closed (stored), cases that stayed as they were (unchanged), outbox rows (queued)."""
    store = store or Store.open()
    now = now or utcnow()
    with store.engine.connect() as conn:
        watched = reads.watches(conn)
        held = {c.ref: c for c in reads.cases(conn, [w.shipment_id for w in watched]).values()}
    found = exceptions.cases(watched, held, rules or policies(), now)
    counts = FlowCounts(received=len(watched))
    if found:
        result = store.apply(model.Batch(SYSTEM, STREAM, [_message(found, now)]))
        counts = FlowCounts(received=len(watched), stored=result.inserted + result.updated,
                            unchanged=result.unchanged + result.stale, dead=result.dead, queued=result.outbox)
    event(log, "cases", system=SYSTEM, watched=len(watched), **counts.as_dict(),
          open=sum(c.state == "open" for c in found), closed=sum(c.state == "closed" for c in found))
    return counts


def _message(found: list[model.DeliveryCase], now: dt.datetime) -> model.InboundMessage:
    """The cases of one run as a message: its bytes name the run's time, so a later run is never
    taken for a duplicate of this one (the store's row hashes tell what really changed)."""
    raw = json.dumps({"evaluated_at": now, "cases": [[str(c.ref), c.state, c.detail] for c in found]},
                     default=str, sort_keys=True).encode()
    return model.InboundMessage(raw, key=f"cases {now:%Y-%m-%dT%H:%M:%S}", entities=list(found))
