"""Waybill's Airflow hooks against the simulators: each reads its Connection through Airflow,
registers the secrets for masking, and its test_connection() tells a working Connection from a
refused or unreachable one."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from airflow.sdk._shared.secrets_masker.secrets_masker import redact

from sim import dataset as gen
from sim import erp as erp_sim
from sim import sftp as sftp_sim
from sim import tms as tms_sim
from sim import wms as wms_sim
from sim.http_server import SimServer
from tests.fixtures.sources import connect
from tests.fixtures.targets import set_conn
from waybill.connectors.erp import ErpConnector
from waybill.connectors.sftp import SftpClient
from waybill.ops.hooks import CarrierHook, CrmHook, ErpHook, FinanceHook, PartnerSftpHook, TmsHook, WmsHook


def refuse(monkeypatch: pytest.MonkeyPatch, conn_id: str, **changes: object) -> None:
    """Change fields of the Connection in AIRFLOW_CONN_<ID>."""
    name = f"AIRFLOW_CONN_{conn_id.upper()}"
    value = json.loads(os.environ[name])
    monkeypatch.setenv(name, json.dumps({**value, **changes}))


@pytest.mark.parametrize(("module", "conn_id", "hook", "found"), [
    (erp_sim, "waybill_erp", ErpHook, "partners visible"),
    (wms_sim, "waybill_wms", WmsHook, "page of stock"),
    (tms_sim, "waybill_tms", TmsHook, "page of events"),
])
def test_back_office_hooks(module: object, conn_id: str, hook: type, found: str, data: gen.Dataset,
                           serve: Callable[..., SimServer], sim_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(module, sim_folder, data)
    connect(monkeypatch, conn_id, server, max_attempts=2)
    ok, message = hook(conn_id).test_connection()
    assert ok and found in message, message
    refuse(monkeypatch, conn_id, password="not-the-password")
    ok, message = hook(conn_id).test_connection()
    assert not ok and ("401" in message or "refused" in message), message
    server.shutdown()
    ok, message = hook(conn_id).test_connection()
    assert not ok and "Transient" in message, message


def test_the_erp_hook_gives_waybills_connector_with_its_policy(data: gen.Dataset, serve: Callable[..., SimServer],
                                                               sim_folder: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    connect(monkeypatch, "waybill_erp", serve(erp_sim, sim_folder, data), read_timeout=3, max_attempts=4)
    client = ErpHook().connector()
    assert isinstance(client, ErpConnector)
    assert client.http.policy.read_timeout == 3 and client.http.policy.max_attempts == 4


def test_carrier_hook(fedex: object, monkeypatch: pytest.MonkeyPatch) -> None:
    meter = str(secrets.randbelow(10**9) + 10**9)  # the masker is per process: a value no test used
    refuse(monkeypatch, "waybill_carrier_fedex_soap", extra={"credentials": {"account": "510087020", "meter": meter}})
    assert meter in redact(f"meter {meter}")  # an extra Airflow does not know as secret...
    ok, message = CarrierHook("waybill_carrier_fedex_soap").test_connection()
    assert ok and "answered" in message, message
    assert meter not in redact(f"meter {meter}")  # ...is masked once the hook has read it
    refuse(monkeypatch, "waybill_carrier_fedex_soap", port=1)
    ok, message = CarrierHook("waybill_carrier_fedex_soap").test_connection()
    assert not ok, message


def test_crm_hook_and_masking(crm: object, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = f"wrong-{secrets.token_hex(8)}"
    refuse(monkeypatch, "waybill_crm", password=wrong)
    ok, message = CrmHook().test_connection()
    assert not ok and ("400" in message or "401" in message), message
    assert wrong not in redact(f"client_secret={wrong}")
    refuse(monkeypatch, "waybill_crm", password="s3cret")
    ok, message = CrmHook().test_connection()
    assert ok and "signed in" in message, message


@pytest.fixture
def partner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sftp_sim.SftpSim]:
    server = sftp_sim.start(tmp_path / "sftp", password="partner", seed=7, orders=2)
    set_conn(monkeypatch, "waybill_partner_acme", conn_type="waybill_sftp", host="127.0.0.1", port=server.port,
             login="acme", password="partner",
             extra={"host_key": server.host_key_line, "settle_seconds": 0.05, "max_seconds": 5,
                    "private_key": "", "inbox": "inbox"})
    yield server
    server.shutdown()


def test_partner_sftp_hook_pins_the_host_key(partner: sftp_sim.SftpSim, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    hook = PartnerSftpHook("waybill_partner_acme")
    ok, message = hook.test_connection()
    assert ok and "host key verified, 2 files" in message, message
    with hook.connector() as sftp:
        assert isinstance(sftp, SftpClient) and len(sftp.ready_files()) == 2
    impostor = sftp_sim.start(tmp_path / "impostor", password="partner")
    try:
        refuse(monkeypatch, "waybill_partner_acme", port=impostor.port)
        ok, message = PartnerSftpHook("waybill_partner_acme").test_connection()
        assert not ok and "HostKeyRefused" in message, message
    finally:
        impostor.shutdown()


def test_finance_hook(tmp_path: Path, partner: sftp_sim.SftpSim, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "waybill_finance", conn_type="waybill_finance", extra={"path": str(tmp_path / "ar")})
    ok, message = FinanceHook().test_connection()
    assert ok and "writable" in message, message
    set_conn(monkeypatch, "waybill_finance", conn_type="waybill_finance", host="127.0.0.1", port=partner.port,
             login="acme", password="partner", extra={"host_key": partner.host_key_line})
    ok, message = FinanceHook().test_connection()
    assert ok and "signed in" in message, message
    set_conn(monkeypatch, "waybill_finance", conn_type="waybill_finance", host="127.0.0.1", port=partner.port,
             login="acme", password="partner", extra={})
    ok, message = FinanceHook().test_connection()
    assert not ok and "host_key" in message, message


def test_extras_saved_by_the_connection_form_are_read_under_their_names(partner: sftp_sim.SftpSim,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's form may save extras as extra__<type>__<field>; the hooks read them all the same."""
    set_conn(monkeypatch, "waybill_partner_acme", conn_type="waybill_sftp", host="127.0.0.1", port=partner.port,
             login="acme", password="partner",
             extra={"extra__waybill_sftp__host_key": partner.host_key_line, "extra__waybill_sftp__max_seconds": "5"})
    ok, message = PartnerSftpHook("waybill_partner_acme").test_connection()
    assert ok, message
