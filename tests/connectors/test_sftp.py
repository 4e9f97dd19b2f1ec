"""The SFTP connector against a real OpenSSH server: host keys, complete pickup, safe names, uploads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import paramiko
import pytest

from waybill.connectors.connection import parse
from waybill.connectors.sftp import (
    HostKeyRefused,
    RemoteFileExists,
    RemoteNameRefused,
    SftpClient,
    SftpSettings,
    local_path,
)

pytestmark = pytest.mark.sftp


def client(sshd, **extra) -> SftpClient:
    return SftpClient(SftpSettings.from_connection(parse("waybill_partner_t", sshd.connection(**extra)), "edi:t"))


def test_pickup_skips_in_progress_names_and_growing_files(sshd, partner_root: Path, tmp_path: Path) -> None:
    inbox = partner_root / "inbox"
    (inbox / "done.edi").write_bytes(b"ISA*complete~")
    (inbox / "upload.edi.part").write_bytes(b"ISA*half")
    growing = inbox / "slow.edi"
    growing.write_bytes(b"ISA*")
    stop = threading.Event()

    def slow_partner() -> None:  # appends a line every 50 ms while pickup runs
        while not stop.is_set():
            with growing.open("ab") as f:
                f.write(b"SEG*1~\n")
            time.sleep(0.05)

    writer = threading.Thread(target=slow_partner)
    writer.start()
    try:
        with client(sshd) as c:
            ready = c.ready_files()
    finally:
        stop.set()
        writer.join()
    assert [f.name for f in ready] == ["done.edi"]
    with client(sshd) as c:
        assert sorted(f.name for f in c.ready_files()) == ["done.edi", "slow.edi"]
        data = c.download(ready[0], tmp_path / "landing")
        c.done_with("done.edi")
        c.done_with("done.edi")  # a rerun after a crash: already archived, no error
    assert data == b"ISA*complete~"
    assert (tmp_path / "landing" / "done.edi").read_bytes() == data
    assert (tmp_path / "landing" / "done.edi").stat().st_mode & 0o777 == 0o600  # the landing copy is owner-only
    assert (tmp_path / "landing").stat().st_mode & 0o777 == 0o700
    assert not (inbox / "done.edi").exists()
    assert (partner_root / "archive" / "done.edi").read_bytes() == data


def test_pattern_limits_pickup(sshd, partner_root: Path) -> None:
    for name in ("a.x12", "b.edi", "notes.txt"):
        (partner_root / "inbox" / name).write_bytes(b"x")
    with client(sshd, pattern="*.x12") as c:
        assert [f.name for f in c.ready_files()] == ["a.x12"]


def test_delete_after_pickup_when_no_archive(sshd, partner_root: Path) -> None:
    (partner_root / "inbox" / "a.edi").write_bytes(b"x")
    with client(sshd, archive="") as c:
        c.done_with("a.edi")
    assert not (partner_root / "inbox" / "a.edi").exists()
    assert not any((partner_root / "archive").iterdir())


def test_unknown_and_changed_host_keys_are_refused(sshd, partner_root: Path, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    with pytest.raises(HostKeyRefused, match="unknown"), client(sshd, host_key=None, known_hosts=str(known)) as c:
        c.listing()
    old = sshd.host_key_line
    sshd.new_host_key()
    with pytest.raises(HostKeyRefused, match="changed"), client(sshd, host_key=old) as c:
        c.listing()
    known.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_key_line}\n")
    with client(sshd, host_key=None, known_hosts=str(known)) as c:
        assert c.listing() == {}


def test_upload_renames_atomically_and_never_overwrites(sshd, partner_root: Path) -> None:
    outbox = partner_root / "outbox"
    with client(sshd) as c:
        c.upload("ack.997", b"ISA*ack~")
        with pytest.raises(RemoteFileExists):
            c.upload("ack.997", b"ISA*other~")
        assert c.exists("ack.997")
    assert [p.name for p in outbox.iterdir()] == ["ack.997"]
    assert (outbox / "ack.997").read_bytes() == b"ISA*ack~"


@pytest.mark.parametrize("name", ["../../x.edi", "/tmp/x.edi", "..", ".hidden", "a/b.edi", "a\\b.edi", ""])
def test_hostile_names_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(RemoteNameRefused):
        local_path(tmp_path, name)


def test_listing_ignores_unsafe_names(sshd, partner_root: Path) -> None:
    (partner_root / "inbox" / "ok.edi").write_bytes(b"1")
    (partner_root / "inbox" / "bad name;rm.edi").write_bytes(b"2")
    (partner_root / "inbox" / "sub").mkdir()
    with client(sshd) as c:
        assert list(c.listing()) == ["ok.edi"]


def test_connect_timeout_is_bounded(tmp_path: Path) -> None:
    """A server that accepts but never speaks SSH: the connect gives up within the retry budget."""
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    settings = SftpSettings("edi:t", "127.0.0.1", srv.getsockname()[1], "u", password="p",
                            host_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcx/0kYhFuwMJvE9eStFA2qo3ETTHvvc0nX2C0krP8c",
                            connect_timeout=0.3, max_attempts=2, max_seconds=5)
    started = time.monotonic()
    with pytest.raises(paramiko.SSHException):  # "Error reading SSH protocol banner" or "No existing session"
        SftpClient(settings).listing()
    srv.close()
    assert time.monotonic() - started < 5


def test_a_garbled_host_key_is_a_configuration_error_not_a_transient_one() -> None:
    from waybill.core.errors import ConfigError

    conn = parse("waybill_partner_t", '{"conn_type": "sftp", "host": "h", "password": "p", '
                                      '"extra": {"host_key": "ssh-ed25519 AAAA!!not-base64"}}')
    with pytest.raises(ConfigError, match="host_key"):
        SftpSettings.from_connection(conn, "edi:t")
