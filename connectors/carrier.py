"""SOAP carrier tracking: one generic connector, one WSDL and one mapping module per carrier.

A carrier is configured by the Connection `waybill_carrier_<name>`: host/port/schema give the
endpoint (default: the address in the WSDL), login and password the web-service credential, extra
`credentials` any further account fields. What the connector must know of the carrier's service
comes with the tracker (Service): its WSDL file (shipped with the carrier's profile, see
waybill.connectors.carrier_profile), the operation, the batch size the service allows and the pure
builder of a call's arguments. The flow builds it from the profile and the carrier's mapping module
(waybill.flows.carrier_tracking), which also reads the replies. Extra `batch_size` overrides the
Service's. Adding a carrier therefore needs no change here.

zeep runs on the shared HTTP policy (waybill.connectors.http): every POST goes through HttpClient, so
timeouts, retries and the transient/permanent split are the same as for REST. The WSDL is read
from the package only; DTDs, entities and external references are forbidden. A client Fault
(something in the request, such as a number the carrier refuses) is narrowed down by splitting the
batch until each faulting number stands alone, so one bad number never fails the others; a server
Fault (authentication, an outage) concerns the whole call and raises CarrierFault. A reply that is
not the service's (a DOCTYPE, entities, malformed XML, an HTML error page, garbage) is an Exchange
with `bad_reply` set: a dead letter of that one request for the flow, and the next batches go on.

The request an Exchange hands back (which the flow logs) has the credential's secret fields
(SECRET_FIELDS: the Connection's login and password, sent as the web-service key and password)
replaced by REDACTED: only this connector knows where they go, so it removes them before anything
leaves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from waybill.connectors import carrier_profile
from waybill.connectors.connection import ConnectionInfo, get_connection
from waybill.connectors.http import HttpClient, HttpPolicy, PermanentHTTPError, client_for
from waybill.core.errors import ConfigError, WaybillError
from waybill.core.logs import event, get_logger

log = get_logger("carrier")

WSDL_DIR = carrier_profile.WSDL_DIR
SETTINGS = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)
#: the credential fields that are secrets (the account and meter numbers identify, they do not authenticate)
SECRET_FIELDS = ("key", "password")
REDACTED = b"***"


def redact_xml(document: bytes, secrets: Iterable[str]) -> bytes:
    """`document` with every element whose whole text is one of `secrets` emptied to REDACTED.

    Matching whole element texts (as the serializer escaped them) never touches a value that only
    contains a secret, so a short password cannot mangle the rest of the request."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        document = document.replace(b">" + escape(secret).encode() + b"<", b">" + REDACTED + b"<")
    return document


class HttpTransport(Transport):
    """zeep's transport, with POSTs through HttpClient and loading restricted to local files."""

    def __init__(self, http: HttpClient, stream: str) -> None:
        # zeep ships py.typed without annotating its functions: its calls are untyped (here and below).
        super().__init__(session=http.session, timeout=http.policy.read_timeout,  # type: ignore[no-untyped-call]
                         operation_timeout=http.policy.read_timeout)
        self.http = http
        self.stream = stream
        self.last_sent = b""
        self.last_received = b""
        self._last_response: requests.Response | None = None
        http.session.hooks["response"].append(self._keep)

    def _keep(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        self._last_response = response

    def _kept(self) -> requests.Response | None:
        """The last response the session's hook kept (set during a request, behind the type checker's back)."""
        return self._last_response

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> requests.Response:
        self.last_sent = message.encode() if isinstance(message, str) else message
        self.last_received = b""
        self._last_response = None
        try:
            resp = self.http.request("POST", address, stream=self.stream, data=self.last_sent, headers=headers)
        except PermanentHTTPError as err:
            # SOAP 1.1 sends a Fault as HTTP 500: give zeep the whole reply so it raises the Fault.
            kept = self._kept()
            if err.status != 500 or kept is None:
                raise
            resp = kept
        self.last_received = resp.content
        return resp

    def load(self, url: str) -> bytes:
        if urlsplit(url).scheme in ("http", "https", "ftp"):
            raise ConfigError(f"refusing to load {url}: WSDLs and schemas come from the package only")
        content: bytes = super().load(url)  # type: ignore[no-untyped-call]
        return content


class CarrierFault(WaybillError):
    """The carrier refused a whole call for a reason that is not about the numbers in it."""


@dataclass(frozen=True)
class Service:
    """A carrier's tracking service as the connector calls it: the WSDL file (read from disk,
    never the network), the operation, how many numbers one call may carry, and the pure builder
    of a call's keyword arguments from the numbers and the credentials."""

    wsdl: Path
    operation: str
    batch_size: int
    build_request: Callable[[Sequence[str], Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class Exchange:
    """One call for some tracking numbers: the request (secrets redacted) and the raw reply, and
    the fault if any. `bad_reply`: the fault is the reply's (hostile, broken, not the service's
    format), so it concerns the request as a whole, not one number of it."""

    numbers: tuple[str, ...]
    request: bytes
    reply: bytes
    fault: str | None = None
    bad_reply: bool = False


class CarrierTracker:
    """Tracks numbers with one carrier's SOAP service, `batch_size` numbers per call (`http_basic`:
    the Connection's login and password go as HTTP Basic too)."""

    def __init__(self, carrier: str, service: Service, *, conn: ConnectionInfo | None = None,
                 policy: HttpPolicy | None = None, http_basic: bool = False) -> None:
        conn = conn or connection(carrier)
        extra = conn.extra
        self.carrier = carrier
        self.system = f"carrier:{carrier}"
        self.build_request = service.build_request
        self.operation = service.operation
        self.batch_size = int(extra.get("batch_size", service.batch_size))
        self.credentials = {**{k: str(v) for k, v in (extra.get("credentials") or {}).items()},
                            "key": conn.login or "", "password": conn.password or ""}
        wsdl = service.wsdl
        if not wsdl.is_file():
            raise ConfigError(f"{self.system}: WSDL {wsdl} not found")
        self.http = client_for(conn, self.system, policy=policy)
        if http_basic:  # some carriers take the web-service key as HTTP Basic rather than in the envelope
            self.http.session.auth = (conn.login or "", conn.password or "")
        self.transport = HttpTransport(self.http, self.operation)
        self.client = zeep.Client(str(wsdl), transport=self.transport,  # type: ignore[no-untyped-call]
                                  settings=SETTINGS)
        self.service = self._service(conn)

    def _service(self, conn: ConnectionInfo) -> Any:
        """The service proxy, bound to the Connection's endpoint when it names one."""
        if not conn.host:
            return self.client.service
        port = next(iter(next(iter(self.client.wsdl.services.values())).ports.values()))
        return self.client.create_service(str(port.binding.name), conn.base_url())  # type: ignore[no-untyped-call]

    def track(self, numbers: Sequence[str]) -> Iterator[Exchange]:
        """One Exchange per successful call or per faulting number, in batches of batch_size."""
        for i in range(0, len(numbers), self.batch_size):
            yield from self._call(tuple(numbers[i:i + self.batch_size]))

    def _call(self, numbers: tuple[str, ...]) -> Iterator[Exchange]:
        request = self.build_request(numbers, self.credentials)
        try:
            self.service[self.operation](**request)
        except zeep.exceptions.Fault as fault:
            event(log, "soap-fault", system=self.system, operation=self.operation, numbers=len(numbers),
                  code=fault.code, fault=str(fault.message))
            if not _soap_fault(self.transport.last_received):
                # zeep calls any unreadable error reply (an HTML page from a proxy) an "Unknown fault"
                yield self._bad_reply(numbers, f"HTTP error reply that is not a SOAP Fault ({fault.message})")
                return
            if not _client_fault(fault.code):
                raise CarrierFault(f"{self.system} {self.operation}: {fault.code}: {fault.message}") from fault
            if len(numbers) > 1:
                half = len(numbers) // 2
                yield from self._call(numbers[:half])
                yield from self._call(numbers[half:])
                return
            yield Exchange(numbers, self._sent(), self.transport.last_received, str(fault.message))
            return
        except (zeep.exceptions.Error, ValueError, TypeError) as err:
            # zeep refused the reply itself (a DOCTYPE, entities, malformed XML, not an envelope, values
            # its schema cannot hold): that one request failed, the next batches go on
            yield self._bad_reply(numbers, f"{type(err).__name__}: {str(err)[:300]}")
            return
        yield Exchange(numbers, self._sent(), self.transport.last_received)

    def _bad_reply(self, numbers: tuple[str, ...], why: str) -> Exchange:
        event(log, "bad-reply", system=self.system, operation=self.operation, numbers=len(numbers), error=why)
        return Exchange(numbers, self._sent(), self.transport.last_received, why, bad_reply=True)

    def _sent(self) -> bytes:
        """The request just sent, without its secrets."""
        return redact_xml(self.transport.last_sent, (self.credentials[f] for f in SECRET_FIELDS))


def _soap_fault(reply: bytes) -> bool:
    """True when `reply` is a SOAP envelope whose body is a Fault (read without DTDs, entities or
    the network, as zeep does)."""
    try:
        root = etree.fromstring(reply, _PARSER)
    except etree.XMLSyntaxError:
        return False
    body = next((c for c in root if etree.QName(c).localname == "Body"), None)
    return (etree.QName(root).localname == "Envelope" and body is not None
            and any(etree.QName(c).localname == "Fault" for c in body))


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _client_fault(code: str | None) -> bool:
    """True for a SOAP 1.1 Client (or SOAP 1.2 Sender) fault code, prefix and all."""
    local = (code or "").rsplit(":", 1)[-1].split(".", 1)[0]
    return local in ("Client", "Sender")


def connection(carrier: str) -> ConnectionInfo:
    """The Connection of `carrier` (waybill_carrier_<name>); ConfigError when it is not configured."""
    return get_connection(f"waybill_carrier_{carrier}")
