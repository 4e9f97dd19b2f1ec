"""Partner inboxes watched by Airflow's triggerer, not by a task holding a worker slot.

PartnerInboxTrigger runs in the triggerer: every `poll_seconds` it asks each partner's SFTP inbox
for its complete files through Waybill's own client (pinned host key; files named as in progress
or still growing between two listings are not complete, see SftpClient.ready_files), in a thread so
the triggerer's event loop never blocks, and fires an event for the files it has not announced yet.
As the watcher of the Asset PARTNER_INBOXES it makes edi_inbound run when a file is ready; an
hourly timer stays as a safety net (a file that arrived while the triggerer was down).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from airflow.sdk import Asset, AssetWatcher
from airflow.sdk.definitions.timetables.assets import AssetOrTimeSchedule
from airflow.sdk.definitions.timetables.trigger import CronTriggerTimetable
from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from waybill.core.logs import event, get_logger

log = get_logger("airflow")

#: (partner, file name, size, mtime): a file as the trigger announced it
Seen = tuple[str, str, int, int]


def ready_files() -> list[Seen]:
    """Every partner's complete inbox files (blocking: SFTP). A partner whose inbox cannot be read
    is logged and skipped, so one partner's outage does not hide the others' files."""
    from waybill.flows import edi_inbound
    from waybill.flows.partners import partner_ids

    found: list[Seen] = []
    for partner in partner_ids():
        try:
            refs = edi_inbound.ready(partner)
        except Exception as err:  # the next poll tries again; the task run reports real failures
            event(log, "inbox-not-read", partner=partner, error=type(err).__name__)
            continue
        found += [(partner, r["name"], int(r["size"]), int(r["mtime"])) for r in refs]
    return found


class PartnerInboxTrigger(BaseEventTrigger):
    """Fires when a partner inbox holds complete files it has not announced before."""

    def __init__(self, poll_seconds: float = 60.0, lister: str = "waybill.ops.triggers.ready_files") -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow's BaseTrigger.__init__ is unannotated
        self.poll_seconds = poll_seconds
        self.lister = lister

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", {"poll_seconds": self.poll_seconds,
                                                                      "lister": self.lister}

    def _list(self) -> Callable[[], list[Seen]]:
        """The listing function named by dotted path (a path serializes; a function does not)."""
        module, _, name = self.lister.rpartition(".")
        return cast("Callable[[], list[Seen]]", getattr(importlib.import_module(module), name))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        lister = self._list()
        seen: set[Seen] = set()
        while True:
            current = set(await asyncio.to_thread(lister))
            new = sorted(current - seen)
            seen = current  # a file taken and archived leaves the inbox; one that comes back is new
            if new:
                event(log, "inbox-files-ready", files=len(new))
                files = [{"partner": p, "name": n, "size": s, "mtime": m} for p, n, s, m in new]
                yield TriggerEvent({"files": files})  # type: ignore[no-untyped-call]  # unannotated in Airflow
            await asyncio.sleep(self.poll_seconds)


#: The partners' inboxes as an Asset whose watcher is the trigger above.
PARTNER_INBOXES = Asset(name="partner_inboxes", uri="waybill://partner/inbox",
                        watchers=[AssetWatcher(name="partner_inbox_watcher", trigger=PartnerInboxTrigger())])


def inbox_schedule() -> AssetOrTimeSchedule:
    """edi_inbound's schedule: when the watcher sees a complete file, and hourly as a safety net."""
    return AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 * * * *", timezone="UTC"),
                               assets=PARTNER_INBOXES)
