"""waybill.connectors.http.client_for: every HTTP connector takes its policy and TLS setting from the
Connection the same way."""

from __future__ import annotations

from waybill.connectors.connection import parse
from waybill.connectors.crm import CrmClient
from waybill.connectors.http import HttpPolicy, client_for


def test_extras_tune_the_policy_and_verification():
    conn = parse("waybill_x", '{"conn_type": "http", "host": "h", "port": 8443, "extra": {"scheme": "https", '
                              '"read_timeout": "7", "max_attempts": 2, "verify": "false"}}')
    client = client_for(conn, "x", {"Authorization": "Bearer t"})
    assert client.base_url == "https://h:8443"
    assert (client.policy.read_timeout, client.policy.max_attempts) == (7.0, 2)
    assert client.policy.connect_timeout == HttpPolicy().connect_timeout
    assert client.session.verify is False and client.session.headers["Authorization"] == "Bearer t"


def test_a_given_policy_wins_and_verification_defaults_on():
    conn = parse("waybill_x", "http://h:80?read_timeout=9")
    fast = HttpPolicy(read_timeout=0.5)
    assert client_for(conn, "x", policy=fast).policy is fast
    assert client_for(conn, "x").session.verify is True


def test_the_crm_connector_honours_the_same_extras():
    conn = parse("waybill_crm", '{"conn_type": "http", "host": "crm", "login": "id", "password": "s", '
                                '"extra": {"read_timeout": 4, "verify": "/etc/ssl/ca.pem"}}')
    crm = CrmClient(conn)
    assert crm.http.policy.read_timeout == 4.0 and crm.http.session.verify == "/etc/ssl/ca.pem"


def test_a_trickling_server_cannot_stretch_a_call_past_its_total_time():
    """One byte every 0.3 s keeps each read inside the read timeout; the call still ends at
    max_total_seconds (it used to last until the body was complete: 30 s here)."""
    import socket
    import threading
    import time

    import pytest

    from waybill.connectors.http import HttpClient, TransientHTTPError

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(5)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
                for _ in range(100):
                    if stop.is_set():
                        return
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        break
                    time.sleep(0.3)

    threading.Thread(target=serve, daemon=True).start()
    port = listener.getsockname()[1]
    client = HttpClient("slowpoke", f"http://127.0.0.1:{port}",
                        HttpPolicy(read_timeout=1.0, max_attempts=3, max_total_seconds=2.0, backoff_initial=0.01,
                                   backoff_max=0.01))
    started = time.monotonic()
    try:
        with pytest.raises(TransientHTTPError, match=r"deadline|no time left"):
            client.request("GET", "/feed")
        assert time.monotonic() - started < 3.5
    finally:
        stop.set()
        listener.close()


def _trickling_server(head: bytes, pause: float):
    """A local server that answers every request by sending `head` one byte every `pause` seconds
    (the status line and headers included); returns (port, stop)."""
    import socket
    import threading
    import time

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle(conn: socket.socket) -> None:
        with conn:
            conn.recv(4096)
            for byte in head:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(pause)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()

    def close() -> None:
        stop.set()
        listener.close()

    return listener.getsockname()[1], close


def test_a_server_trickling_its_status_line_and_headers_cannot_stretch_a_call_past_its_deadline():
    """One byte every 2 s keeps each read inside the read timeout, before the body starts: the
    headers alone would take about 60 s; the call ends at its 2 s deadline."""
    import time

    import pytest

    from waybill.connectors.http import HttpClient, TransientHTTPError

    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
    port, close = _trickling_server(head, pause=2.0)
    client = HttpClient("slowpoke", f"http://127.0.0.1:{port}",
                        HttpPolicy(read_timeout=5.0, max_attempts=3, max_total_seconds=2.0, backoff_initial=0.01,
                                   backoff_max=0.01))
    started = time.monotonic()
    try:
        with pytest.raises(TransientHTTPError, match=r"deadline|no time left"):
            client.request("GET", "/feed")
        assert time.monotonic() - started < 8  # the trickle alone would last 2 s x 67 bytes
    finally:
        close()


def test_a_trickling_soap_service_cannot_stretch_a_call_past_its_deadline(tmp_path):
    """The same for zeep: its POST goes through the same client and deadline."""
    import time

    import pytest

    from tests.fixtures.targets import FAST
    from waybill.connectors.connection import parse
    from waybill.connectors.http import TransientHTTPError
    from waybill.flows import carrier_tracking

    port, close = _trickling_server(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<x/>", pause=1.0)
    conn = parse("waybill_carrier_fedex_soap", f'{{"conn_type": "http", "host": "127.0.0.1", "port": {port}, '
                                               '"login": "key", "password": "secret", "extra": {"credentials": '
                                               '{"account": "1", "meter": "2"}}}')
    policy = FAST.__class__(connect_timeout=2, read_timeout=5, max_attempts=2, max_total_seconds=2.0,
                            backoff_initial=0.01, backoff_max=0.01)
    tracker = carrier_tracking.tracker_for("fedex_soap", policy=policy, conn=conn)
    started = time.monotonic()
    try:
        with pytest.raises(TransientHTTPError):
            list(tracker.track(["123456789012"]))
        assert time.monotonic() - started < 8
    finally:
        close()
