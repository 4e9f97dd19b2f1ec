"""A trading partner's SFTP server, built on paramiko, for the embedded main job (no root, no sshd).

    server = start(folder, password="secret", seed=1, orders=3)   # 127.0.0.1, ephemeral port
    server.host_key_line   # "ssh-ed25519 AAAA..." to pin in the partner's Connection
    server.shutdown()

or `python -m sim.sftp --folder F --port N --password secret`. The server keeps its host key in
F/host_key (created once, so it stays the same across restarts: the client pins it) and serves
F/root with inbox/, outbox/ and archive/ folders; the files are its state. Authentication is by
password or by the public keys in F/authorized_keys. On first start, `orders` X12 850 purchase
orders from a seeded generator (same seed, same files) are dropped into inbox/.

Like OpenSSH's internal-sftp, a plain rename refuses to replace an existing file, and paths are
confined to the served root.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import random
import socket
import threading
from pathlib import Path

import paramiko
from paramiko import SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_OK, SFTP_PERMISSION_DENIED, SFTPAttributes, SFTPHandle

FOLDERS = ("inbox", "outbox", "archive")


class _Auth(paramiko.ServerInterface):
    def __init__(self, password: str | None, keys: list[paramiko.PKey]) -> None:
        self.password = password
        self.keys = keys

    def get_allowed_auths(self, username: str) -> str:
        return ",".join(k for k, on in (("password", self.password), ("publickey", self.keys)) if on)

    def check_auth_password(self, username: str, password: str) -> int:
        ok = self.password is not None and password == self.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return paramiko.AUTH_SUCCESSFUL if key in self.keys else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(SFTPHandle):
    def stat(self) -> SFTPAttributes | int:
        try:
            return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as err:
            return paramiko.SFTPServer.convert_errno(err.errno)


class _Files(paramiko.SFTPServerInterface):
    """The served folder; every path is resolved inside it or refused."""

    def __init__(self, server: paramiko.ServerInterface, root: Path, *args: object, **kwargs: object) -> None:
        super().__init__(server)
        self.root = root.resolve()

    def _path(self, path: str) -> Path:
        target = (self.root / path.lstrip("/")).resolve()
        if target != self.root and self.root not in target.parents:
            raise PermissionError(path)
        return target

    def _guard(self, fn, *args):  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        except PermissionError:
            return SFTP_PERMISSION_DENIED
        except FileNotFoundError:
            return SFTP_NO_SUCH_FILE
        except OSError as err:
            return paramiko.SFTPServer.convert_errno(err.errno)

    def canonicalize(self, path: str) -> str:
        return "/" + str(self._path(path).relative_to(self.root)).lstrip(".")

    def list_folder(self, path: str):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            folder = self._path(path)
            out = []
            for name in sorted(os.listdir(folder)):
                attr = SFTPAttributes.from_stat(os.lstat(folder / name))
                attr.filename = name
                out.append(attr)
            return out
        return self._guard(run)

    def stat(self, path: str):  # type: ignore[no-untyped-def]
        return self._guard(lambda: SFTPAttributes.from_stat(os.stat(self._path(path))))

    lstat = stat

    def open(self, path: str, flags: int, attr: SFTPAttributes):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            target = self._path(path)
            fd = os.open(target, flags | getattr(os, "O_BINARY", 0), 0o644)
            mode = "ab" if flags & os.O_APPEND else ("r+b" if flags & os.O_RDWR else
                                                     "wb" if flags & os.O_WRONLY else "rb")
            handle = _Handle(flags)
            f = os.fdopen(fd, mode)
            handle.readfile = handle.writefile = f
            return handle
        return self._guard(run)

    def remove(self, path: str) -> int:
        return self._guard(lambda: (os.remove(self._path(path)), SFTP_OK)[1])

    def rename(self, oldpath: str, newpath: str) -> int:
        def run() -> int:
            src, dst = self._path(oldpath), self._path(newpath)
            if dst.exists():
                return SFTP_FAILURE  # never replace a file, as a plain SFTP rename
            os.rename(src, dst)
            return SFTP_OK
        return self._guard(run)

    def mkdir(self, path: str, attr: SFTPAttributes) -> int:
        return self._guard(lambda: (os.mkdir(self._path(path)), SFTP_OK)[1])

    def rmdir(self, path: str) -> int:
        return self._guard(lambda: (os.rmdir(self._path(path)), SFTP_OK)[1])


class SftpSim:
    """The listening server; one thread per connection."""

    def __init__(self, folder: Path, port: int = 0, password: str | None = None, host: str = "127.0.0.1") -> None:
        self.folder = folder
        self.root = folder / "root"
        for name in FOLDERS:
            (self.root / name).mkdir(parents=True, exist_ok=True)
        key_file = folder / "host_key"
        if not key_file.exists():  # RSA: paramiko cannot generate Ed25519 keys
            paramiko.RSAKey.generate(2048).write_private_key_file(str(key_file))
        self.host_key = paramiko.RSAKey.from_private_key_file(str(key_file))
        self.password = password
        self.sock = socket.create_server((host, port))
        self.sock.settimeout(0.2)  # accept() wakes up to notice a shutdown
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def host_key_line(self) -> str:
        return f"{self.host_key.get_name()} {self.host_key.get_base64()}"

    def publish_host_key(self, path: Path, name: str) -> None:
        """Write the host key as a known_hosts line for `name` (the address clients dial), atomically:
        a client reading the file sees no line or the whole line."""
        entry = name if self.port == 22 else f"[{name}]:{self.port}"
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(f"{entry} {self.host_key_line}\n")
        partial.replace(path)

    def authorized_keys(self) -> list[paramiko.PKey]:
        path = self.folder / "authorized_keys"
        if not path.exists():
            return []
        keys = []
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2:
                keys.append(paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1])))
        return keys

    def start(self) -> SftpSim:
        self._thread = threading.Thread(target=self.serve_forever, name="sftp-sim", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        transport.add_server_key(self.host_key)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Files, self.root)
        try:
            transport.start_server(server=_Auth(self.password, self.authorized_keys()))
            while transport.is_active() and not self._stop.is_set():
                self._stop.wait(0.2)
        except (paramiko.SSHException, EOFError, OSError):
            pass
        finally:
            transport.close()

    def wait(self) -> None:
        """Block until shutdown (the foreground `python -m sim.sftp`)."""
        self._stop.wait()

    def shutdown(self) -> None:
        self._stop.set()
        self.sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def purchase_orders(seed: int, count: int, partner: str = "AAAAAAAAAA",
                    us: str = "test22222") -> list[tuple[str, bytes]]:
    """`count` X12 850 files from a seeded generator: (file name, bytes); same seed, same files."""
    rng = random.Random(seed)
    day = dt.datetime(2026, 1, 5, 9, 30) + dt.timedelta(days=rng.randrange(300))
    files = []
    for n in range(1, count + 1):
        po = f"PO{seed:03d}{n:05d}"
        lines = [(rng.randrange(1, 40), rng.choice((4, 6, 12, 24)), f"SKU-{rng.randrange(1000, 9999)}",
                  f"{rng.randrange(500, 9900) / 100:.2f}") for _ in range(rng.randrange(1, 6))]
        body = [f"BEG*00*SA*{po}**{day:%Y%m%d}", "CUR*BY*USD", "N1*BY*ACME Retail*92*33333",
                "N1*ST*ACME DC East*UL*0614141000005", "N3*100 Dock Road", "N4*Newark*NJ*07114*US"]
        body += [f"PO1*{i}*{q}*EA*{price}**VN*{sku}" for i, (q, _, sku, price) in enumerate(lines, 1)]
        body += [f"CTT*{len(lines)}"]
        control = f"{seed % 1000:03d}{n:06d}"
        segs = [f"ST*850*{n:04d}", *body, f"SE*{len(body) + 2}*{n:04d}"]
        text = (f"ISA*00*          *00*          *08*{partner:<15}*ZZ*{us:<15}*{day:%y%m%d}*{day:%H%M}*U*00401*"
                f"{control}*0*P*>~\nGS*PO*{partner}*{us}*{day:%Y%m%d}*{day:%H%M}*{n}*X*004010~\n"
                + "".join(s + "~\n" for s in segs) + f"GE*1*{n}~\nIEA*1*{control}~\n")
        files.append((f"{po}.x12", text.encode("ascii")))
        day += dt.timedelta(hours=rng.randrange(1, 30))
    return files


def start(folder: Path, port: int = 0, password: str | None = None, seed: int = 1, orders: int = 0,
          host: str = "127.0.0.1") -> SftpSim:
    """Start the simulator in a background thread; on a new folder, drop `orders` generated 850s."""
    fresh = not (folder / "root").exists()
    server = SftpSim(folder, port, password, host).start()
    if fresh:
        for name, data in purchase_orders(seed, orders):
            (server.root / "inbox" / name).write_bytes(data)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description="A trading partner's SFTP server (paramiko).")
    parser.add_argument("--folder", type=Path, default=Path(".waybill/sim/sftp"))
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=2222)
    parser.add_argument("--password", default=os.environ.get("WAYBILL_SIM_SFTP_PASSWORD", "partner"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--known-hosts", type=Path, help="write the host key here as a known_hosts line")
    parser.add_argument("--advertise", help="the host name clients dial, for --known-hosts (default --host)")
    args = parser.parse_args()
    server = start(args.folder, args.port, args.password, args.seed, args.orders, args.host)
    if args.known_hosts:
        server.publish_host_key(args.known_hosts, args.advertise or args.host)
    print(f"sftp://{args.host}:{server.port} serving {server.root}; host key: {server.host_key_line}", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
