"""`waybill pull SOURCE`: one run of a source's pull flow with its DAG's Params as options."""

from __future__ import annotations

import pytest

from tests.ops.conftest import SeededHub
from tests.ops.test_commands import as_json, run

pytestmark = pytest.mark.e2e


def test_pull_runs_a_source_with_streams_since_full_refresh_and_dry_run(hub: SeededHub, logistics, capsys):
    tms = logistics[1]
    counted = as_json(capsys, "pull", "tms", "--json")
    assert counted["source"] == "tms" and counted["counts"]["received"] == 0  # from the cursor: nothing new
    at = tms.events[-5]["recorded_at"]
    since = as_json(capsys, "pull", "tms", "--since", at.replace(" ", "T"), "--dry-run")
    assert since["dry_run"] is True and since["counts"]["received"] == sum(e["recorded_at"] >= at for e in tms.events)
    full = as_json(capsys, "pull", "wms", "--stream", "stock", "--full-refresh")["counts"]
    assert full["received"] == len(logistics[0].feeds["stock"].rows) and full["stored"] == 0
    code, out, _ = run(capsys, "pull", "wms", "--stream", "stock")
    assert code == 0 and "received" in out and "wms: pulled" in out
    for args, says in ((("pull", "tms", "--stream", "stock"), "tms has no stream stock; its streams are events"),
                       (("pull", "erp", "--since", "1d", "--full-refresh"), "give one"),
                       (("pull", "wms", "--since", "soon"), "'soon' is not a time")):
        code, _, err = run(capsys, *args)
        assert code == 2 and says in err and "Traceback" not in err, (args, err)
