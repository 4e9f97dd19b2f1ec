"""A small base for the simulators: a JSON-over-HTTP server on loopback with fault injection.

A simulator is a function `handler(request) -> Response` (raise HttpError for an error answer)
served by `SimServer`:

    server = SimServer(handler, faults=Faults({"/orders": FaultRates(throttle=0.2)}, seed=1)).start()
    requests.get(server.url + "/orders")
    server.shutdown()

`start()` serves on 127.0.0.1 in a daemon thread (port 0 picks a free port; `url` says which);
`serve_forever()` serves in the foreground (the simulators' `python -m sim.<name> --port N`).
Connections are HTTP/1.1 keep-alive. Before the handler runs, the server asks the fault plan
about the request's endpoint (by default its path; `endpoint=` may name it finer, e.g. per
JSON-RPC model and method) and injects the fault it draws (see sim.faults).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sim.faults import Faults

_UNSET = object()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    _parsed: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._parsed = _UNSET

    def json(self) -> Any:
        """The body as JSON (parsed once, then cached); an HttpError 400 if it is not."""
        if self._parsed is _UNSET:
            try:
                self._parsed = json.loads(self.body or b"null")
            except ValueError as err:
                raise HttpError(400, f"invalid JSON body: {err}") from None
        return self._parsed

    def bearer(self) -> str | None:
        """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    """Raised by a handler: answered as `status` with a JSON body {"error": message, ...extra}."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response."""
    body = json.dumps(data, separators=(",", ":"), default=str).encode()
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


Handler = Callable[[Request], Response]


def utc_time(text: str | None, param: str) -> dt.datetime | None:
    """A query parameter holding an ISO time (UTC; naive, or with an offset converted to UTC); 400 if it is not one."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise HttpError(400, f"{param} must be an ISO 8601 time", param=param) from None
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


def by_path(request: Request) -> str:
    """The default endpoint name of a request for fault injection: its path."""
    return request.path


class SimServer:
    """A ThreadingHTTPServer on loopback that runs `handler` for every request, with faults."""

    def __init__(self, handler: Handler, faults: Faults | None = None, port: int = 0,
                 endpoint: Callable[[Request], str] = by_path, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.faults = faults or Faults()
        self.endpoint = endpoint
        self.httpd = ThreadingHTTPServer((host, port), _make_request_handler(self))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> SimServer:
        """Serve in a daemon thread; returns self (use `url`, then `shutdown()`)."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"sim:{self.port}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.httpd.server_close()

    def shutdown(self) -> None:
        """Stop serving and close the listening socket."""
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimServer:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def dispatch(self, request: Request) -> Response | None:
        """Run faults then the handler; None means: drop the connection without an answer."""
        drawn = self.faults.draw(self.endpoint(request))
        if drawn is not None:
            kind, rates = drawn
            if kind == "throttle":
                return json_response({"error": "rate limit exceeded"}, 429, {"Retry-After": str(rates.retry_after)})
            if kind == "error":
                return json_response({"error": "service unavailable"}, rates.status)
            if kind == "drop":
                return None
            time.sleep(rates.slow_seconds)  # "slow": the client has given up; answer anyway
        try:
            return self.handler(request)
        except HttpError as err:
            return json_response({"error": err.message, **err.extra}, err.status)


def _make_request_handler(server: SimServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Keep-alive replies are small writes: without TCP_NODELAY each waits ~40 ms for an ACK.
        disable_nagle_algorithm = True

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(self.command, parts.path, dict(parse_qsl(parts.query)), self.headers, body)
            response = server.dispatch(request)
            if response is None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            try:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
            except OSError:
                self.close_connection = True  # the client went away (e.g. timed out on a slow answer)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def finish(self) -> None:
            with contextlib.suppress(OSError):  # the connection was dropped on purpose or by the client
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the client logs every request it makes

    return _Handler


def cli_parser(description: str) -> argparse.ArgumentParser:
    """The simulators' common command line: --host, --port, --state, --seed, --faults."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    p.add_argument("--state", type=Path, default=Path("sim-state"), help="folder of the persistent state")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated dataset")
    p.add_argument("--faults", default=None, help='fault plan as JSON, e.g. {"seed": 7, "*": {"error": 0.1}}')
    return p


def faults_from_args(args: argparse.Namespace) -> Faults:
    return Faults.from_json(args.faults) if args.faults else Faults()


def serve_dataset_sim(make: Callable[..., Handler], name: str, description: str,
                      endpoint: Callable[[Request], str] = by_path) -> None:
    """The command line of a simulator fed by sim.dataset: --customers and --orders size the data."""
    p = cli_parser(description)
    p.add_argument("--customers", type=int, default=60)
    p.add_argument("--orders", type=int, default=400)
    args = p.parse_args()
    sim = make(args.state, args.seed, customers=args.customers, orders=args.orders)
    server = SimServer(sim, faults_from_args(args), args.port, endpoint, host=args.host)
    print(f"{name} simulator on {server.url}", flush=True)
    server.serve_forever()
