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
