"""The one HTTP policy every HTTP connector (and zeep) goes through.

- connect and read timeouts are always set;
- 429 (honouring Retry-After), 502/503/504, timeouts and connection resets are retried with
  tenacity: exponential backoff with jitter, bounded attempts and total time;
- other 4xx (and 500/501) are permanent: PermanentHTTPError at once, for the caller to dead-letter;
- each attempt ends at the call's deadline (max_total_seconds from the first attempt) in every phase:
  a watchdog shuts the attempt's socket down when the deadline passes, so a server that sends a
  byte now and then, inside every read timeout, cannot stretch the TLS handshake, the status line
  and headers or the body past it (zeep's calls go through the same session and deadline);
- TLS verification is on and set explicitly (REQUESTS_CA_BUNDLE would otherwise override it);
- each request is logged with system, stream, method, path, status and attempt, never credentials;
  an error body the server sends back (which may echo the request) is kept with the client's
  secrets (the Connection's password, tokens the connector adds) replaced by ***.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from waybill.connectors.connection import ConnectionInfo
from waybill.core.errors import WaybillError
from waybill.core.logs import event, get_logger

log = get_logger("http")

TRANSIENT_STATUS = frozenset({408, 429, 502, 503, 504})


@dataclass(frozen=True)
class HttpPolicy:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 6
    max_total_seconds: float = 120.0
    backoff_initial: float = 0.5
    backoff_max: float = 20.0
    #: a Retry-After longer than this is not waited for: the call fails as transient
    retry_after_cap: float = 60.0


def client_for(conn: ConnectionInfo, system: str, headers: dict[str, str] | None = None,
               policy: HttpPolicy | None = None, *, secrets: Iterable[str] = ()) -> HttpClient:
    """The client of a Connection: its base URL, the policy tuned by its extras (any HttpPolicy
    field, e.g. {"read_timeout": 10}) unless `policy` is given, TLS verification set explicitly
    from extra `verify` (true, false or a CA bundle path), and the secrets to keep out of what it
    reports (the Connection's password and `secrets`)."""
    tuned = {f.name: type(getattr(HttpPolicy, f.name))(conn.extra[f.name])
             for f in fields(HttpPolicy) if f.name in conn.extra}
    verify = conn.extra.get("verify", True)
    if isinstance(verify, str) and verify.lower() in ("true", "false"):
        verify = verify.lower() == "true"
    return HttpClient(system, conn.base_url(), policy or HttpPolicy(**tuned), verify=verify, headers=headers,
                      secrets=(conn.password or "", *secrets))


class TransientHTTPError(WaybillError):
    """A failure worth retrying; raised to the caller only when the retry budget is spent."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class PermanentHTTPError(WaybillError):
    """A 4xx (other than 408/429) or 500/501: retrying will not help; dead-letter the record."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


class HttpClient:
    """A requests session bound to one system, with the policy above."""

    def __init__(self, system: str, base_url: str = "", policy: HttpPolicy | None = None, *,
                 verify: bool | str = True, headers: dict[str, str] | None = None,
                 session: requests.Session | None = None, secrets: Iterable[str] = ()) -> None:
        self.system = system
        #: values never to report (error bodies may echo them); connectors add tokens they obtain
        self.secrets = {s for s in secrets if s}
        self.base_url = base_url.rstrip("/")
        self.policy = policy or HttpPolicy()
        self.session = session or requests.Session()
        self.session.verify = verify
        self.session.headers.update(headers or {})
        self.session.headers.setdefault("User-Agent", "waybill/0.1")
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, _WatchedAdapter())

    def request(self, method: str, path: str, *, stream: str = "-", **kwargs: Any) -> requests.Response:
        """Send with retries; returns a 2xx/3xx response or raises Transient/PermanentHTTPError."""
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"
        kwargs.setdefault("timeout", (self.policy.connect_timeout, self.policy.read_timeout))
        deadline = time.monotonic() + self.policy.max_total_seconds
        retrying = Retrying(
            retry=retry_if_exception_type(TransientHTTPError),
            stop=stop_after_attempt(self.policy.max_attempts) | stop_after_delay(self.policy.max_total_seconds),
            wait=self._wait,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._send_once(method, url, stream, attempt=attempt.retry_state.attempt_number, kwargs=kwargs,
                                       deadline=deadline)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, method: str, url: str, stream: str, *, attempt: int, kwargs: dict[str, Any],
                   deadline: float) -> requests.Response:
        path = urlsplit(url).path
        started = time.monotonic()
        watch: _Watch | None = None
        try:
            if started >= deadline:
                raise TransientHTTPError(f"{self.system} {method} {path}: no time left of "
                                         f"{self.policy.max_total_seconds:g} s")
            connect, read = kwargs["timeout"]
            timeout = (connect, min(read, deadline - started))  # no single wait beyond the deadline
            with _watched(deadline) as watch:
                resp = self.session.request(method, url, **{**kwargs, "timeout": timeout, "stream": True})
                _read_body(resp, deadline, f"{self.system} {method} {path}")
            if watch.expired:  # a body without a length ends at the shut socket: it may be cut short
                raise requests.ConnectionError("socket shut at the deadline")
        except (requests.Timeout, requests.ConnectionError, TransientHTTPError) as err:
            event(log, "http-error", system=self.system, stream=stream, method=method, path=path,
                  attempt=attempt, error=type(err).__name__)
            if watch is not None and watch.expired:
                raise TransientHTTPError(f"{self.system} {method} {path}: the answer took longer than the call's "
                                         f"deadline ({self.policy.max_total_seconds:g} s)") from err
            if isinstance(err, TransientHTTPError):
                raise
            raise TransientHTTPError(f"{self.system} {method} {path}: {type(err).__name__}") from err
        event(log, "http", system=self.system, stream=stream, method=method, path=path, status=resp.status_code,
              attempt=attempt, ms=round((time.monotonic() - started) * 1000))
        if resp.status_code in TRANSIENT_STATUS:
            raise TransientHTTPError(f"{self.system} {method} {path}: HTTP {resp.status_code}",
                                     resp.status_code, retry_after_seconds(resp.headers.get("Retry-After")))
        if resp.status_code >= 400:
            # the whole body for the caller to parse (Odoo's JSON errors carry KBs of traceback), secrets
            # removed; cut in the message
            body = self.redact(resp.text)
            raise PermanentHTTPError(f"{self.system} {method} {path}: HTTP {resp.status_code}: {body[:500]}",
                                     resp.status_code, body)
        return resp

    def redact(self, text: str) -> str:
        """`text` with every secret of this client, as itself or URL-encoded, replaced by ***."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, "***")
        return text

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(initial=self.policy.backoff_initial, max=self.policy.backoff_max)(state)
        err = state.outcome.exception() if state.outcome else None
        if isinstance(err, TransientHTTPError) and err.retry_after is not None:
            if err.retry_after > self.policy.retry_after_cap:
                raise err
            return max(err.retry_after, 0.0)
        return backoff


def _read_body(resp: requests.Response, deadline: float, what: str) -> None:
    """Read the response body by what each read returns, up to `deadline` (time.monotonic): a
    server sending a byte now and then inside the read timeout cannot stretch the call past the
    policy's total time. The body is kept where requests keeps it (`content`, `text`, `json()`)."""
    if resp.raw is None:  # an adapter that answered with its body already read (no stream to time)
        return
    chunks: list[bytes] = []
    try:
        while True:
            if time.monotonic() >= deadline:
                raise TransientHTTPError(f"{what}: the answer took longer than the call's deadline")
            chunk = resp.raw.read1(1 << 16, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
    except (urllib3.exceptions.HTTPError, OSError) as err:
        raise TransientHTTPError(f"{what}: {type(err).__name__} reading the answer") from err
    finally:
        resp.close()
    resp._content = b"".join(chunks)  # requests' own slot for a body read in full (no public setter)


class _Watch:
    """The sockets of one attempt, shut down by a timer at the call's deadline: a blocked read then
    returns at once (end of stream, or an error), whatever phase the answer is in."""

    def __init__(self, deadline: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
        self._timer.daemon = True

    def attach(self, sock: socket.socket | None) -> None:
        """Watch `sock` (a connection's socket as it opens, or a pooled one as it is reused)."""
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


#: The watch of the attempt running in this thread (the connection classes below attach to it).
_current = threading.local()


@contextlib.contextmanager
def _watched(deadline: float) -> Iterator[_Watch]:
    watch = _Watch(deadline)
    _current.watch = watch
    watch._timer.start()
    try:
        yield watch
    finally:
        watch._timer.cancel()
        _current.watch = None


def _attach(sock: socket.socket | None) -> None:
    watch: _Watch | None = getattr(_current, "watch", None)
    if watch is not None:
        watch.attach(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by its connection: nothing left to stop
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(HTTPConnection):
    """urllib3's connection, its socket watched from the moment it opens (before any TLS handshake)."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _attach(sock)
        return sock


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _attach(sock)
        return sock


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _attach(getattr(conn, "sock", None))  # a kept-alive connection: its socket is already open
        return conn


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _attach(getattr(conn, "sock", None))
        return conn


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter with the watched pools (HttpClient mounts it for http and https)."""

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
