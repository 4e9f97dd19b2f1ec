"""SFTP spoke for trading partners: pick up complete files, upload without overwriting.

Configured by one Airflow Connection per partner (waybill_partner_<id>): host, port, login, and a
password or a private key; extras:

    host_key        pinned "<type> <base64>" public key of the server, or
    known_hosts     path of an OpenSSH known_hosts file (one of the two is required)
    private_key     PEM/OpenSSH private key text, or key_file: its path
    inbox, outbox   remote folders (default "inbox", "outbox")
    archive         remote folder for picked-up files; "" deletes them instead (default "archive")
    in_progress     name suffixes the partner uses while uploading (default .tmp .part .filepart)
    pattern         shell pattern of the names to pick up (default "*")
    settle_seconds  pause between the two listings that prove a file complete (default 1)
    connect_timeout, timeout, max_attempts, max_seconds

Host keys are always verified: an unknown or changed key raises HostKeyRefused, never a silent
accept. Only names made of safe characters are touched (RemoteNameRefused otherwise), so a hostile
listing cannot make us write outside the landing folder. Transient network/SSH failures are retried
with tenacity, bounded in attempts and time, on a fresh connection.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fnmatch
import hashlib
import io
import posixpath
import re
import socket
import stat
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import paramiko
from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential_jitter

from waybill.connectors.connection import ConnectionInfo, get_connection
from waybill.core.errors import ConfigError, WaybillError
from waybill.core.files import private_dir, write_private
from waybill.core.logs import event, get_logger

log = get_logger("sftp")
T = TypeVar("T")

#: Names we accept from a partner's listing: no separators, no leading dot, no "..".
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


class SftpError(WaybillError):
    """An SFTP failure, naming the system, the operation and the remote name."""


class HostKeyRefused(SftpError):
    """The server's host key is unknown or differs from the pinned/known one: we do not talk to it."""


class RemoteNameRefused(SftpError):
    """A remote file name that could escape its folder or is not a plain file name."""


class RemoteFileExists(SftpError):
    """An upload would overwrite a file already in the partner's folder."""


@dataclass(frozen=True)
class SftpSettings:
    system: str
    host: str
    port: int
    username: str
    password: str | None = None
    private_key: str | None = None
    host_key: str | None = None
    known_hosts: str | None = None
    inbox: str = "inbox"
    outbox: str = "outbox"
    archive: str = "archive"
    in_progress: tuple[str, ...] = (".tmp", ".part", ".filepart")
    pattern: str = "*"
    settle_seconds: float = 1.0
    connect_timeout: float = 10.0
    timeout: float = 30.0
    max_attempts: int = 4
    max_seconds: float = 60.0

    @classmethod
    def from_connection(cls, info: ConnectionInfo, system: str) -> SftpSettings:
        """Settings from an Airflow Connection (see the module docstring for the extras)."""
        x = info.extra
        key = x.get("private_key")
        if not key and x.get("key_file"):
            key = Path(x["key_file"]).read_text()
        if not (x.get("host_key") or x.get("known_hosts")):
            raise ConfigError(f"connection {info.conn_id!r}: set extra host_key or known_hosts; "
                              "host keys are always verified")
        if not (key or info.password):
            raise ConfigError(f"connection {info.conn_id!r}: set a password or extra private_key/key_file")
        if x.get("host_key"):
            _parse_key(x["host_key"])  # a garbled pinned key is a configuration error now, not at connect
        suffixes = x.get("in_progress", cls.in_progress)
        return cls(
            system=system, host=info.host, port=int(info.port or 22), username=info.login or "",
            password=info.password, private_key=key, host_key=x.get("host_key"),
            known_hosts=x.get("known_hosts"), inbox=x.get("inbox", cls.inbox),
            outbox=x.get("outbox", cls.outbox), archive=x.get("archive", cls.archive),
            in_progress=tuple(suffixes.split() if isinstance(suffixes, str) else suffixes),
            pattern=x.get("pattern", cls.pattern),
            settle_seconds=float(x.get("settle_seconds", cls.settle_seconds)),
            connect_timeout=float(x.get("connect_timeout", cls.connect_timeout)),
            timeout=float(x.get("timeout", cls.timeout)),
            max_attempts=int(x.get("max_attempts", cls.max_attempts)),
            max_seconds=float(x.get("max_seconds", cls.max_seconds)),
        )


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: int


#: the temporary names `upload` writes before its rename
_OUR_PART = re.compile(r".+\.[0-9a-f]{8}\.part")
#: an inbox file claimed by one worker (`claim`): `<name>.<unix time of the claim>.<worker>.claim`
_CLAIM = re.compile(r"(?P<name>.+)\.(?P<at>\d{1,12})\.(?P<worker>[0-9a-f]{8})\.claim")


def unclaimed_name(name: str) -> str:
    """The partner's own name of an inbox file, with our claim suffix (if any) taken off."""
    m = _CLAIM.fullmatch(name)
    return m["name"] if m else name


def claimed_at(name: str) -> float | None:
    """When the claim a name carries was taken (unix time); None for a name without a claim."""
    m = _CLAIM.fullmatch(name)
    return float(m["at"]) if m else None


def check_name(name: str) -> str:
    """`name` if it is a plain, safe file name; RemoteNameRefused otherwise."""
    if not _SAFE_NAME.fullmatch(name) or ".." in name:
        raise RemoteNameRefused(f"remote name {name!r} is not a plain file name")
    return name


def local_path(folder: Path, name: str) -> Path:
    """The path of `name` inside `folder`, refusing anything that would resolve outside it."""
    base = folder.resolve()
    target = (base / check_name(name)).resolve()
    if target.parent != base:
        raise RemoteNameRefused(f"remote name {name!r} resolves outside {base}")
    return target


# paramiko ships no type information: to mypy its classes are Any, which a class may not subclass.
class _Refuse(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    """Like paramiko's RejectPolicy, with our error: an unknown host key is never accepted."""

    def __init__(self, system: str) -> None:
        self.system = system

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise HostKeyRefused(f"{self.system}: host key of {hostname} is unknown "
                             f"({key.get_name()} {key.fingerprint}); refusing")


def _transient(err: BaseException) -> bool:
    """Network and SSH transport failures are retried; auth, host key and our own refusals are not."""
    if isinstance(err, (paramiko.AuthenticationException, paramiko.BadHostKeyException, SftpError)):
        return False
    return isinstance(err, (socket.timeout, TimeoutError, ConnectionError, EOFError, paramiko.SSHException,
                            paramiko.ssh_exception.NoValidConnectionsError))


class SftpClient:
    """One partner's SFTP server. Use as a context manager; every call reconnects after a drop."""

    def __init__(self, settings: SftpSettings) -> None:
        self.s = settings
        self._ssh: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        #: inbox names the last listing refused (unsafe names), with their sizes, for the caller to record
        self.refused: dict[str, int] = {}
        #: this client's part of the claim names it gives inbox files (see `claim`)
        self.worker = uuid.uuid4().hex[:8]

    @classmethod
    def from_conn_id(cls, conn_id: str, system: str) -> SftpClient:
        return cls(SftpSettings.from_connection(get_connection(conn_id), system))

    def __enter__(self) -> SftpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- connection ------------------------------------------------------------------------------

    def _connect(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        s = self.s
        ssh = paramiko.SSHClient()
        if s.known_hosts:
            ssh.load_host_keys(s.known_hosts)
        if s.host_key:
            ssh.get_host_keys().add(_host_entry(s.host, s.port), *_parse_key(s.host_key))
        ssh.set_missing_host_key_policy(_Refuse(s.system))
        pkey = _private_key(s.private_key, s.system) if s.private_key else None
        try:
            ssh.connect(s.host, s.port, username=s.username, password=s.password, pkey=pkey,
                        timeout=s.connect_timeout, banner_timeout=s.connect_timeout,
                        auth_timeout=s.connect_timeout, channel_timeout=s.timeout,
                        look_for_keys=False, allow_agent=False)
        except paramiko.BadHostKeyException as err:
            ssh.close()
            raise HostKeyRefused(f"{s.system}: host key of {s.host}:{s.port} changed "
                                 f"(got {err.key.get_name()} {err.key.fingerprint}); refusing") from None
        except BaseException:
            ssh.close()
            raise
        sftp = ssh.open_sftp()
        sftp.get_channel().settimeout(s.timeout)
        self._ssh, self._sftp = ssh, sftp
        event(log, "sftp-connected", system=s.system, host=s.host, port=s.port)
        return sftp

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
        if self._ssh is not None:
            self._ssh.close()
        self._ssh = self._sftp = None

    def _call(self, op: str, fn: Callable[[paramiko.SFTPClient], T]) -> T:
        """Run `fn` on a connected client, retrying transient failures on a fresh connection."""
        retrying = Retrying(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(self.s.max_attempts) | stop_after_delay(self.s.max_seconds),
            wait=wait_exponential_jitter(initial=0.2, max=5.0),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                try:
                    return fn(self._connect())
                except Exception as err:
                    if _transient(err):
                        event(log, "sftp-retry", system=self.s.system, op=op, error=type(err).__name__,
                              attempt=attempt.retry_state.attempt_number)
                        self.close()
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # --- inbound ---------------------------------------------------------------------------------

    def listing(self, folder: str | None = None) -> dict[str, RemoteFile]:
        """Regular files in `folder` (default inbox) with safe names, by name."""
        folder = folder or self.s.inbox

        def run(sftp: paramiko.SFTPClient) -> dict[str, RemoteFile]:
            files = {}
            self.refused = {}
            for a in sftp.listdir_attr(folder):
                if not stat.S_ISREG(a.st_mode or 0):
                    continue
                try:
                    check_name(a.filename)
                except RemoteNameRefused:
                    event(log, "sftp-name-refused", system=self.s.system, folder=folder, name=a.filename[:80])
                    self.refused[a.filename] = a.st_size or 0
                    continue
                files[a.filename] = RemoteFile(a.filename, a.st_size or 0, a.st_mtime or 0)
            return files

        return self._call("list", run)

    def ready_files(self, lease: float = 600.0) -> list[RemoteFile]:
        """Inbox files matching the pattern that are complete: not named as in progress and unchanged
        over two listings; and files another worker claimed more than `lease` seconds ago (it died:
        see `claim`), under their claim names. Files claimed within the lease are another worker's."""
        first = self.listing()
        time.sleep(self.s.settle_seconds)
        second = {n: f for n, f in self.listing().items() if fnmatch.fnmatchcase(unclaimed_name(n), self.s.pattern)}
        stale_before = time.time() - lease
        ready = [f for name, f in sorted(second.items())
                 if not name.endswith(self.s.in_progress) and first.get(name) == f
                 and (claimed_at(name) or 0) <= stale_before]
        waiting = sum(1 for n in second if claimed_at(n) is None) - sum(1 for f in ready if claimed_at(f.name) is None)
        if waiting:
            event(log, "sftp-not-ready", system=self.s.system, files=waiting)
        return ready

    def claim(self, f: RemoteFile, lease: float = 600.0) -> RemoteFile | None:
        """Claim inbox file `f` for this worker alone: rename it on the server to a claim name of
        ours (`<name>.<now>.<worker>.claim`). The rename is atomic and fails when the file is gone,
        so of two workers that listed the same file only one gets it; the other gets None. A file
        already claimed is taken over only when its claim is older than `lease` seconds (its worker
        died before archiving it). Returns the file under its claim name."""
        check_name(f.name)
        at = claimed_at(f.name)
        if at is not None and at > time.time() - lease:
            return None  # another worker's claim, still running
        name = f"{unclaimed_name(f.name)}.{int(time.time())}.{self.worker}.claim"
        src, dst = posixpath.join(self.s.inbox, f.name), posixpath.join(self.s.inbox, check_name(name))

        def run(sftp: paramiko.SFTPClient) -> bool:
            try:
                sftp.rename(src, dst)
            except FileNotFoundError:  # another worker claimed (or archived) it first
                return False
            return True

        if not self._call("claim", run):
            event(log, "sftp-claimed-elsewhere", system=self.s.system, name=f.name)
            return None
        return RemoteFile(name, f.size, f.mtime)

    def release(self, f: RemoteFile) -> None:
        """Give up this worker's claim on `f` (a claimed name): the file gets its own name back, for
        the next run (e.g. it changed during the download). Best effort: a claim left in place is
        taken over once its lease runs out."""
        original = unclaimed_name(f.name)
        if original == f.name:
            return
        src, dst = posixpath.join(self.s.inbox, check_name(f.name)), posixpath.join(self.s.inbox, original)

        def run(sftp: paramiko.SFTPClient) -> None:
            with contextlib.suppress(OSError):  # gone, or the partner sent a new file of that name meanwhile
                sftp.rename(src, dst)

        self._call("release", run)

    def download(self, f: RemoteFile, landing: Path) -> bytes:
        """Fetch `f` into the landing folder (atomically) and return its bytes.

        The size must match the listing that proved the file complete, or the pickup is abandoned
        for this run (the partner is still writing)."""
        private_dir(landing)
        target = local_path(landing, unclaimed_name(f.name))

        def run(sftp: paramiko.SFTPClient) -> bytes:
            with sftp.open(posixpath.join(self.s.inbox, f.name), "rb") as remote:
                remote.prefetch(f.size)
                data: bytes = remote.read()
            return data

        data = self._call("get", run)
        if len(data) != f.size:
            raise SftpError(f"{self.s.system}: {f.name} changed during download ({f.size} -> {len(data)} bytes)")
        write_private(target, data)  # the landing copy holds the partner's personal data: owner-only
        event(log, "sftp-downloaded", system=self.s.system, name=f.name, bytes=len(data),
              sha256=hashlib.sha256(data).hexdigest())
        return data

    def done_with(self, name: str) -> None:
        """Archive (or delete, per settings) an inbox file once it is safely recorded.

        Idempotent: a file already moved (a rerun after a crash) is not an error. A claimed file is
        archived under the partner's own name. An archived copy with the same name is kept; the new
        one gets a unique suffix."""
        check_name(name)
        src = posixpath.join(self.s.inbox, name)
        name = unclaimed_name(name)

        def run(sftp: paramiko.SFTPClient) -> None:
            if not _exists(sftp, src):
                return
            if not self.s.archive:
                sftp.remove(src)
                return
            dst = posixpath.join(self.s.archive, name)
            if _exists(sftp, dst):
                dst = posixpath.join(self.s.archive, f"{name}.{uuid.uuid4().hex[:8]}")
            sftp.rename(src, dst)

        self._call("archive", run)

    # --- outbound --------------------------------------------------------------------------------

    def clean_stale_parts(self, folder: str | None = None, older_than: float = 3600.0) -> list[str]:
        """Remove our own temporary upload names (`<name>.<8 hex>.part`, see `upload`) left in
        `folder` (default outbox) by a worker killed mid-upload, once older than `older_than`
        seconds (a younger one may be an upload in progress); returns the names removed."""
        folder = folder or self.s.outbox
        cutoff = time.time() - older_than

        def run(sftp: paramiko.SFTPClient) -> list[str]:
            stale = [a.filename for a in sftp.listdir_attr(folder)
                     if _OUR_PART.fullmatch(a.filename) and (a.st_mtime or 0) < cutoff]
            for name in stale:
                with contextlib.suppress(FileNotFoundError):  # another worker cleaned it meanwhile
                    sftp.remove(posixpath.join(folder, name))
            return stale

        removed = self._call("clean", run)
        if removed:
            event(log, "sftp-stale-parts-removed", system=self.s.system, folder=folder, files=len(removed))
        return removed

    def exists(self, name: str, folder: str | None = None) -> bool:
        path = posixpath.join(folder or self.s.outbox, check_name(name))
        return self._call("stat", lambda sftp: _exists(sftp, path))

    def read(self, name: str, folder: str | None = None) -> bytes | None:
        """The bytes of `folder/name` (default outbox); None when there is no such file."""
        path = posixpath.join(folder or self.s.outbox, check_name(name))

        def run(sftp: paramiko.SFTPClient) -> bytes | None:
            if not _exists(sftp, path):
                return None
            with sftp.open(path, "rb") as remote:
                data: bytes = remote.read()
            return data

        return self._call("get", run)

    def upload(self, name: str, data: bytes, folder: str | None = None, *, replace: bool = False) -> None:
        """Write `data` as `folder/name` (default outbox): temporary name first, then an atomic rename.

        The rename is SFTP's plain rename, which fails when the target exists, so a partner's file
        is never overwritten (RemoteFileExists); with `replace` it is OpenSSH's posix-rename, which
        supersedes the file there atomically."""
        folder = folder or self.s.outbox
        target = posixpath.join(folder, check_name(name))
        tmp = posixpath.join(folder, f"{name}.{uuid.uuid4().hex[:8]}.part")

        def run(sftp: paramiko.SFTPClient) -> None:
            if replace:
                with sftp.open(tmp, "wb") as remote:
                    remote.write(data)
                sftp.posix_rename(tmp, target)
                return
            if _exists(sftp, target):
                raise RemoteFileExists(f"{self.s.system}: {target} already exists; not overwriting")
            with sftp.open(tmp, "wb") as remote:
                remote.write(data)
            try:
                sftp.rename(tmp, target)
            except OSError:
                sftp.remove(tmp)
                if _exists(sftp, target):
                    raise RemoteFileExists(
                        f"{self.s.system}: {target} appeared during upload; not overwriting") from None
                raise

        self._call("put", run)
        event(log, "sftp-uploaded", system=self.s.system, name=name, bytes=len(data))


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.stat(path)
        return True
    except FileNotFoundError:
        return False


def _private_key(text: str, system: str) -> paramiko.PKey:
    """The private key in `text`, whatever its type (paramiko's base class cannot tell)."""
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise ConfigError(f"{system}: private_key is not an Ed25519, ECDSA or RSA key (or is encrypted)")


def _host_entry(host: str, port: int) -> str:
    """known_hosts spelling of a host: bare for port 22, "[host]:port" otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


def _parse_key(line: str) -> tuple[str, paramiko.PKey]:
    """("ssh-ed25519", key) from "ssh-ed25519 AAAA... [comment]"."""
    parts = line.split()
    if len(parts) < 2:
        raise ConfigError("host_key must look like '<type> <base64 key>'")
    try:
        return parts[0], paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1], validate=True))
    except (binascii.Error, ValueError, paramiko.SSHException) as err:  # a configuration error, not transient
        raise ConfigError(f"host_key is not a {parts[0]!r} public key in base64: {type(err).__name__}") from None
