"""Flow privacy_purge: remove what is past its retention (waybill.store.retention), once a day."""

from __future__ import annotations

from waybill.core.logs import event, get_logger
from waybill.store import retention
from waybill.store.store import Store

log = get_logger("flows.privacy_purge")


def run(store: Store | None = None) -> dict[str, int]:
    """Purge raw messages, dead letters, archive files, outbox history, landing and quarantine
    copies past their retention; what was removed, per kind (also in the privacy audit trail)."""
    store = store or Store.open()
    report = retention.purge(store).as_dict()
    event(log, "purged", **report)
    return report
