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
