"""Credentials never reach the store or the logs: the connector that knows which fields are secret
removes them before it hands a request over."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote_plus

import pytest
import requests

from tests.fixtures.privacy import encodings, found, table_dump
from tests.fixtures.targets import FAST, customer, load, set_conn
from tests.fixtures.targets import shipment as make_shipment
from waybill.connectors.carrier import REDACTED, redact_xml
from waybill.connectors.connection import parse
from waybill.connectors.http import PermanentHTTPError, client_for
from waybill.flows import carrier_tracking
from waybill.store import message_log

KEY = "fx-Key-7Qm2vZ"
PASSWORD = "pw&<Tr4ck>-9xR"  # characters the XML serializer escapes


@pytest.fixture
def fedex_with_secrets(fedex, monkeypatch):
    host, port = fedex.server.httpd.server_address[:2]
    fedex.key, fedex.password = KEY, PASSWORD
    set_conn(monkeypatch, "waybill_carrier_fedex_soap", conn_type="http", host=host, port=port,
             schema="web-services/track", login=KEY, password=PASSWORD,
             extra={"credentials": {"account": "510087020", "meter": "119009727"}})
    return fedex


def test_the_logged_carrier_request_has_no_credentials(store, fedex_with_secrets, caplog):
    caplog.set_level(logging.DEBUG)
    numbers = sorted(fedex_with_secrets.parcels)[:4]
    load(store, customer("C1"), *[make_shipment(f"S{i}", n) for i, n in enumerate(numbers)], system="tms")
    counts = carrier_tracking.run(store, tracker=carrier_tracking.tracker_for("fedex_soap", policy=FAST))
    assert counts.stored > 0  # the carrier accepted the real credentials
    with store.engine.connect() as conn:
        [logged] = message_log.find(conn, system="carrier:fedex_soap", stream="track-request")
    request = store.raw_of(logged.id)
    assert request.count(b">" + REDACTED + b"<") == 2  # the key and the password
    assert b"510087020" in request  # the account number identifies; it is kept
    needles = encodings(KEY) | encodings(PASSWORD) | {b"pw&amp;&lt;Tr4ck&gt;-9xR"}
    assert found(needles, {"tables": table_dump(store), "request": request, "logs": caplog.text.encode()}) == {}


@pytest.mark.parametrize(("secret", "document", "expected"), [
    ("s3", b"<a><Key>s3</Key><Note>s3x</Note></a>", b"<a><Key>***</Key><Note>s3x</Note></a>"),
    ("a&b", b"<P>a&amp;b</P>", b"<P>***</P>"),
    ("", b"<P></P>", b"<P></P>"),
])
def test_redaction_replaces_whole_element_texts_only(secret, document, expected):
    assert redact_xml(document, [secret]) == expected


class _Echo(requests.adapters.BaseAdapter):
    """A server that answers 400 and echoes the request back, headers and body, as some do."""

    def send(self, request, **kwargs):
        resp = requests.Response()
        resp.status_code = 400
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        resp._content = f"bad request: {dict(request.headers)} {request.url} {body}".encode()
        resp.request = request
        return resp

    def close(self):
        pass


def test_an_error_body_echoing_the_request_keeps_no_secret(caplog):
    secret, token = "Pw/with+chars&more", "tok-LongRandomValue1"
    client = client_for(parse("c", json.dumps({"conn_type": "http", "host": "h", "password": secret})), "test",
                        {"Authorization": f"Bearer {token}"}, secrets=[token])
    client.session.mount("http://", _Echo())
    with pytest.raises(PermanentHTTPError) as err:
        client.request("POST", f"/x?key={quote_plus(secret)}", data={"password": secret})
    reported = f"{err.value} {err.value.body} {caplog.text}"
    assert found(encodings(secret) | encodings(token), {"error": reported.encode()}) == {}
    assert "***" in err.value.body
