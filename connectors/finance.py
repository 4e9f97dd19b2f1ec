"""Finance's drop point for the receivables feed: a folder, or an SFTP server.

The Connection `waybill_finance` names either a folder (extra {"path": "/srv/finance/in"}) or an
SFTP server (host, login, password or key, host_key/known_hosts as for waybill.connectors.sftp; extra
`outbox` is the remote folder). A file is owner-only until it is delivered, then gets extra `mode`
(octal, default 640: finance's group reads it). Each file is written under a temporary name and renamed, so finance
never reads half a file; the control file goes last. A file already there is never overwritten:
the same content counts as already delivered (a rerun for the same cut-off duplicates nothing),
different content is a FeedConflict for an engineer to look at. The one exception is a data file
whose control file is not there (a run killed between the two): finance does not read it yet, so
`put(..., replace=True)` supersedes it with the current snapshot.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Literal, Protocol

from waybill.connectors.connection import ConnectionInfo, get_connection
from waybill.core.errors import ConfigError, WaybillError
from waybill.core.files import FILE_MODE
from waybill.core.logs import event, get_logger

log = get_logger("finance")
SYSTEM = "finance"
Outcome = Literal["written", "unchanged"]


class FeedConflict(WaybillError):
    """A feed file of that name is already delivered with other content."""


class FeedTarget(Protocol):
    def put(self, name: str, data: bytes, *, replace: bool = False) -> Outcome:
        """Deliver one file atomically; "unchanged" when it is already there (with `replace`, a
        file there with other content is superseded instead of a FeedConflict)."""
        ...

    def exists(self, name: str) -> bool:
        """Whether a file of that name was delivered."""
        ...

    def read(self, name: str) -> bytes | None:
        """A delivered file's bytes (None: not there), for reconciliation."""
        ...


class FolderTarget:
    """A local or mounted folder."""

    def __init__(self, folder: Path, delivered_mode: int = 0o640) -> None:
        self.folder = Path(folder)
        self.delivered_mode = delivered_mode

    def exists(self, name: str) -> bool:
        return (self.folder / name).exists()

    def read(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.is_file() else None

    def put(self, name: str, data: bytes, *, replace: bool = False) -> Outcome:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / name
        if target.exists() and (not replace or target.read_bytes() == data):
            return _same(name, target.read_bytes(), data)
        tmp = self.folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
        # owner-only while it is being written; readable by finance's group once delivered
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            if replace:
                os.replace(tmp, target)  # atomic: finance sees the old file or the new one
                os.chmod(target, self.delivered_mode)
                event(log, "feed-superseded", system=SYSTEM, name=name, bytes=len(data))
                return "written"
            os.link(tmp, target)  # fails if the name appeared meanwhile: never overwrite
        except FileExistsError:
            return _same(name, target.read_bytes(), data)
        finally:
            tmp.unlink(missing_ok=True)
        os.chmod(target, self.delivered_mode)
        event(log, "feed-written", system=SYSTEM, name=name, bytes=len(data))
        return "written"


class SftpTarget:
    """finance's SFTP server, through waybill.connectors.sftp (verified host keys, atomic uploads)."""

    def __init__(self, info: ConnectionInfo) -> None:
        from waybill.connectors.sftp import SftpClient, SftpSettings

        self.client = SftpClient(SftpSettings.from_connection(info, SYSTEM))

    def exists(self, name: str) -> bool:
        with self.client as sftp:
            return sftp.exists(name)

    def read(self, name: str) -> bytes | None:
        with self.client as sftp:
            return sftp.read(name)

    def put(self, name: str, data: bytes, *, replace: bool = False) -> Outcome:
        from waybill.connectors.sftp import RemoteFileExists

        with self.client as sftp:
            try:
                sftp.upload(name, data, replace=replace)
            except RemoteFileExists:
                # Finance may have moved the file on; it was delivered once, which is what counts.
                event(log, "feed-already-delivered", system=SYSTEM, name=name)
                return "unchanged"
        return "written"


def target(conn_id: str = "waybill_finance") -> FeedTarget:
    """The drop point the Connection describes."""
    return target_for(get_connection(conn_id))


def target_for(info: ConnectionInfo) -> FolderTarget | SftpTarget:
    """The drop point of a Connection already read: a folder (extra path) or an SFTP server (host)."""
    if info.extra.get("path"):
        return FolderTarget(Path(info.extra["path"]), int(str(info.extra.get("mode", "640")), 8))
    if info.host:
        return SftpTarget(info)
    raise ConfigError(f"connection {info.conn_id!r}: set extra path (a folder) or host (an SFTP server)")


def _same(name: str, held: bytes, data: bytes) -> Outcome:
    if held == data:
        return "unchanged"
    raise FeedConflict(f"{SYSTEM}: {name} already delivered with other content "
                       f"(sha256 {hashlib.sha256(held).hexdigest()[:12]}, new {hashlib.sha256(data).hexdigest()[:12]})")
