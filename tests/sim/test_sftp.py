"""The paramiko SFTP simulator: the same connector and flow work against it, without root or sshd."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim import sftp as sim
from waybill.canonical.model import Batch, Customer, InboundMessage, Ref
from waybill.connectors.connection import parse
from waybill.connectors.sftp import HostKeyRefused, RemoteFileExists, SftpClient, SftpSettings
from waybill.flows import edi_inbound
from waybill.store.reads import edi as reads


def conn_json(server: sim.SftpSim, **extra: object) -> str:
    extras = {"host_key": server.host_key_line, "settle_seconds": 0.1, "max_seconds": 5, **extra}
    return json.dumps({"conn_type": "sftp", "host": "127.0.0.1", "port": server.port, "login": "acme",
                       "password": "secret", "extra": {k: v for k, v in extras.items() if v is not None}})


@pytest.fixture
def server(tmp_path: Path):
    s = sim.start(tmp_path / "sim", password="secret", seed=7, orders=3)
    yield s
    s.shutdown()


def test_generator_is_deterministic() -> None:
    assert sim.purchase_orders(7, 3) == sim.purchase_orders(7, 3)
    assert sim.purchase_orders(7, 3) != sim.purchase_orders(8, 3)


def test_inbound_flow_against_the_simulator(server: sim.SftpSim, store, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_PARTNER_ACME", conn_json(server))
    store.apply(Batch("erp", "customers", [InboundMessage(b"c", entities=[
        Customer(Ref("erp", "res.partner/1"), "ACME Retail", "2026-01-01")])]))
    counts = edi_inbound.run(store, partner="acme")
    assert counts.received == 3 and counts.stored == 3 and counts.acks == 3
    with store.engine.connect() as conn:
        pos = sorted(o.po_number for o in reads.orders_from(conn, store.cipher, "edi:acme"))
    assert pos == sorted(name.removesuffix(".x12") for name, _ in sim.purchase_orders(7, 3))
    assert sorted(p.name for p in (server.root / "archive").iterdir()) == [f"{po}.x12" for po in pos]


def test_host_key_survives_restart_and_rename_never_overwrites(server: sim.SftpSim, tmp_path: Path) -> None:
    line = server.host_key_line
    server.shutdown()
    again = sim.start(tmp_path / "sim", password="secret")
    try:
        assert again.host_key_line == line
        settings = SftpSettings.from_connection(parse("waybill_partner_acme", conn_json(again)), "edi:acme")
        with SftpClient(settings) as c:
            c.upload("a.x12", b"1")
            with pytest.raises(RemoteFileExists):
                c.upload("a.x12", b"2")
        assert (again.root / "outbox" / "a.x12").read_bytes() == b"1"
        other = sim.start(tmp_path / "other", password="secret")
        try:
            impostor = SftpSettings.from_connection(
                parse("waybill_partner_acme", conn_json(other, host_key=line)), "edi:acme")
            with pytest.raises(HostKeyRefused), SftpClient(impostor) as c:
                c.listing()
        finally:
            other.shutdown()
    finally:
        again.shutdown()


def test_paths_outside_the_root_are_refused(server: sim.SftpSim, tmp_path: Path) -> None:
    settings = SftpSettings.from_connection(parse("waybill_partner_acme", conn_json(server)), "edi:acme")
    with SftpClient(settings) as c:
        sftp = c._connect()
        with pytest.raises(PermissionError):
            sftp.listdir("/../../")


def test_runs_as_a_process(tmp_path: Path) -> None:
    """`python -m sim.sftp` prints where it listens and its host key; a pinned client lists the orders."""
    import re
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "sim.sftp", "--folder", str(tmp_path / "p"), "--port", "0",
                             "--password", "secret", "--orders", "2"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port, key = re.search(r"sftp://127\.0\.0\.1:(\d+) .*host key: (.+)$", line.strip()).groups()
        settings = SftpSettings("edi:acme", "127.0.0.1", int(port), "acme", password="secret", host_key=key,
                                inbox="inbox")
        with SftpClient(settings) as c:
            assert sorted(c.listing()) == [name for name, _ in sim.purchase_orders(1, 2)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_published_known_hosts_line_pins_the_server(server: sim.SftpSim, tmp_path: Path) -> None:
    """The trial compose file hands each partner Connection the file its simulator publishes."""
    known = tmp_path / "keys" / "acme"
    server.publish_host_key(known, "127.0.0.1")
    assert known.read_text() == f"[127.0.0.1]:{server.port} {server.host_key_line}\n"
    settings = SftpSettings.from_connection(
        parse("waybill_partner_acme", conn_json(server, host_key=None, known_hosts=str(known))), "edi:acme")
    with SftpClient(settings) as c:
        assert len(c.listing()) == 3
    other = sim.start(tmp_path / "other", password="secret")
    try:
        known.write_text(f"[127.0.0.1]:{server.port} {other.host_key_line}\n")  # another server's key
        with pytest.raises(HostKeyRefused), SftpClient(settings) as c:
            c.listing()
    finally:
        other.shutdown()
