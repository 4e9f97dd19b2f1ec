"""DAG privacy_purge: once a day, remove what is past its retention."""

from __future__ import annotations

from _wiring import dag_args, scheduled
from airflow.sdk import dag, task

DOC = """
### Privacy purge
Removes, once a day, what the retention configuration (`WAYBILL_RETENTION`, README "Privacy and
data at rest") says is no longer needed: raw inbound messages and their archived copies, dead
letters, delivered outbox history, landing and quarantine files. A message still being processed,
or whose dead records await replay, keeps its bytes. Each purge is recorded in the privacy audit
trail.

- From: the hub store and WAYBILL_HOME. To: the same, smaller. No external Connection.
- Pool `waybill_hub`.
"""


@dag(schedule=scheduled("@daily"), **dag_args(DOC, ["hub", "privacy"]))
def privacy_purge() -> None:
    @task(pool="waybill_hub")
    def purge() -> dict[str, int]:
        from waybill.flows import privacy_purge as flow

        return flow.run()

    purge()


privacy_purge()
