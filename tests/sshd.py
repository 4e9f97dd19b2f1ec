"""The `sshd` fixture: a real OpenSSH server on loopback, playing a partner's or finance's SFTP server.

sshd runs as the current user (root) with its own config, a throwaway host key and a throwaway
user key, on an ephemeral loopback port, chrooted nowhere: the partner's folders live in a tmp
folder that is the user's working directory on the server side (absolute paths are used).
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = Path("/usr/sbin/sshd")


def ensure_sshd() -> None:
    """Install Debian's openssh-server when missing (root only), else skip with the reason."""
    if SSHD.exists():
        return
    if os.geteuid() != 0:
        pytest.skip("/usr/sbin/sshd is missing and installing openssh-server needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "openssh-server"], env=env, check=True, capture_output=True,
                   timeout=600)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> str:
    """A new ed25519 key pair at `path`; returns the public key line ("ssh-ed25519 AAAA...")."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "waybill-test", "-f", str(path)],
                   check=True, capture_output=True)
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


@dataclass
class Sshd:
    """A running sshd and what a client needs: port, user, keys, and the partner's root folder."""

    port: int
    user: str
    root: Path
    host_key_line: str
    user_key: Path
    folder: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.folder / "sshd.log", "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(self.folder / "sshd_config")],
                                            stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not start: {(self.folder / 'sshd.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def new_host_key(self) -> None:
        """Replace the server's host key (a partner re-installed its server, or an impostor)."""
        self.stop()
        key = self.folder / "host_ed25519"
        key.unlink()
        key.with_suffix(".pub").unlink()
        self.host_key_line = keygen(key)
        self.start()

    def connection(self, **extra: object) -> str:
        """AIRFLOW_CONN_* JSON for this server with the pinned host key and the user key."""
        extras = {"host_key": self.host_key_line, "key_file": str(self.user_key),
                  "inbox": str(self.root / "inbox"), "outbox": str(self.root / "outbox"),
                  "archive": str(self.root / "archive"), "settle_seconds": 0.3, "max_seconds": 10}
        extras.update(extra)
        return json.dumps({"conn_type": "sftp", "host": "127.0.0.1", "port": self.port,
                           "login": self.user, "extra": extras})


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """An OpenSSH server on 127.0.0.1:<ephemeral> for the whole session."""
    ensure_sshd()
    folder = tmp_path_factory.mktemp("sshd")
    host_key_line = keygen(folder / "host_ed25519")
    keygen(folder / "user_ed25519")
    shutil.copy(folder / "user_ed25519.pub", folder / "authorized_keys")
    port = free_port()
    (folder / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1:{port}\n"
        f"HostKey {folder / 'host_ed25519'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\n"
        f"PidFile {folder / 'sshd.pid'}\n"
        "UsePAM no\nStrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
        "MaxStartups 50\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege-separation directory
    server = Sshd(port, getpass.getuser(), folder / "partner", host_key_line,
                  folder / "user_ed25519", folder)
    server.start()
    yield server
    server.stop()
