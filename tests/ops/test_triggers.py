"""The partner inbox trigger: runs in the triggerer, announces complete files once each."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.module_loading import import_string

from sim import sftp as sftp_sim
from tests.fixtures.targets import set_conn
from waybill.ops.airflow_home import REPO
from waybill.ops.triggers import PARTNER_INBOXES, PartnerInboxTrigger


@pytest.fixture
def acme_inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """One partner (acme) whose SFTP inbox starts empty."""
    partners = tmp_path / "partners"
    partners.mkdir()
    shutil.copy(REPO / "partners" / "acme.toml", partners)
    monkeypatch.setenv("WAYBILL_PARTNERS", str(partners))
    server = sftp_sim.start(tmp_path / "sftp", password="partner", seed=7, orders=0)
    set_conn(monkeypatch, "waybill_partner_acme", conn_type="waybill_sftp", host="127.0.0.1", port=server.port,
             login="acme", password="partner",
             extra={"host_key": server.host_key_line, "settle_seconds": 0.05, "max_seconds": 5})
    yield server.root / "inbox"
    server.shutdown()


def names(trigger_event: Any) -> list[str]:
    return [f["name"] for f in trigger_event.payload["files"]]


def test_complete_files_are_announced_once_and_in_progress_ones_not(acme_inbox: Path) -> None:
    async def watch() -> list[list[str]]:
        (acme_inbox / "po1.x12").write_bytes(b"ISA*complete")
        (acme_inbox / "po2.x12.part").write_bytes(b"ISA*still uploading")
        events = PartnerInboxTrigger(poll_seconds=0.1).run()
        first = await asyncio.wait_for(anext(events), 30)
        (acme_inbox / "po3.x12").write_bytes(b"ISA*next")
        second = await asyncio.wait_for(anext(events), 30)
        await events.aclose()
        return [names(first), names(second)]

    first, second = asyncio.run(watch())
    assert first == ["po1.x12"]  # the .part upload is not complete
    assert second == ["po3.x12"]  # po1 is not announced again


def test_an_unreadable_inbox_fires_nothing(acme_inbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (acme_inbox / "po1.x12").write_bytes(b"ISA*complete")
    set_conn(monkeypatch, "waybill_partner_acme", conn_type="waybill_sftp", host="127.0.0.1", port=1,
             login="acme", password="partner", extra={"host_key": "ssh-rsa AAAA", "max_seconds": 1})

    async def watch() -> None:
        events = PartnerInboxTrigger(poll_seconds=0.1).run()
        try:
            await asyncio.wait_for(anext(events), 3)
        finally:
            await events.aclose()

    with pytest.raises(TimeoutError):
        asyncio.run(watch())


def test_the_trigger_serializes_for_the_triggerer_and_watches_edi_inbound(dagbag: Any) -> None:
    path, kwargs = PartnerInboxTrigger(poll_seconds=30).serialize()
    again = import_string(path)(**json.loads(json.dumps(kwargs)))
    assert isinstance(again, PartnerInboxTrigger) and again.poll_seconds == 30
    assert isinstance(PARTNER_INBOXES.watchers[0].trigger, PartnerInboxTrigger)
    condition = dagbag.dags["edi_inbound"].timetable.asset_condition
    assert "partner_inboxes" in repr(condition) and "0 * * * *" in repr(dagbag.dags["edi_inbound"].timetable)
