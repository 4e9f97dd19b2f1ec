"""Simulators of the carriers' REST tracking APIs: FedEx Track API, UPS Tracking API, DHL Unified.

Each speaks its carrier's published contract:
- FedEx: `POST /oauth/token` (form: grant_type, client_id, client_secret) and
  `POST /track/v1/trackingnumbers` (at most 30 numbers; more is a 400 as FedEx answers);
- UPS: `POST /security/v1/oauth/token` (HTTP Basic, form grant_type) and
  `GET /api/track/v1/details/{inquiryNumber}`; requests are checked against the OpenAPI
  descriptions Tracking.yaml and OAuthClientCredentials.yaml (tests/data/openapi/ups: the required
  headers, the token call's form body), answers validated against their schemas strictly: a
  property the description does not name is a failure (the simulator answers 500 and counts it in
  `contract_errors`);
- DHL: `GET /track/shipments?trackingNumber=...` with the `DHL-API-Key` header; unknown numbers 404.

OAuth2 tokens expire after `token_ttl` seconds (the reply's expires_in says so); `expire_tokens()`
revokes every token at once, as a carrier does when it rotates keys: the next call gets a 401.
Scan histories come from a seeded generator in each carrier's own codes (same seed, same parcels).
`requests` counts tracking calls answered, `token_requests` the tokens issued. The fault switch
`bad_replies` (number -> a kind of sim.carrier.BAD_REPLIES) answers a call that asks for that number
with an HTML page, garbage or JSON that is not a reply.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
import yaml

from sim.carrier import bad_reply
from sim.faults import Faults
from sim.http_server import HttpError, Request, Response, SimServer, json_response

CONTRACTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "openapi" / "ups"
EPOCH = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)

#: Story lines in a neutral vocabulary; each carrier renders them in its own codes.
STORIES: tuple[tuple[str, ...], ...] = (
    ("info",),
    ("info", "pickup", "depart", "arrive"),
    ("info", "pickup", "depart", "arrive", "out"),
    ("info", "pickup", "depart", "arrive", "out", "delivered"),
    ("info", "pickup", "depart", "arrive", "out", "delivered"),
    ("info", "pickup", "depart", "arrive", "out", "failed"),
    ("info", "pickup", "depart", "exception", "returned"),
)
CITIES = (("Memphis", "TN", "US"), ("Leipzig", "SN", "DE"), ("Louisville", "KY", "US"), ("Cologne", "NW", "DE"),
          ("Venlo", "LI", "NL"), ("Lyon", "ARA", "FR"))

#: FedEx event type and description per story step.
FEDEX = {"info": ("OC", "Shipment information sent to FedEx"), "pickup": ("PU", "Picked up"),
         "depart": ("DP", "Departed FedEx location"), "arrive": ("AR", "Arrived at FedEx location"),
         "out": ("OD", "On FedEx vehicle for delivery"), "delivered": ("DL", "Delivered"),
         "failed": ("DE", "Delivery exception"), "exception": ("SE", "Shipment exception"),
         "returned": ("RS", "Return to shipper")}
#: UPS activity status (type, code, description) per story step.
UPS = {"info": ("M", "MP", "Shipper created a label"), "pickup": ("P", "PU", "Pickup Scan"),
       "depart": ("I", "DP", "Departed from Facility"), "arrive": ("I", "AR", "Arrived at Facility"),
       "out": ("I", "OT", "Out For Delivery Today"), "delivered": ("D", "KB", "DELIVERED"),
       "failed": ("X", "U2", "The receiver was not available for delivery"),
       "exception": ("X", "SR", "Exception"), "returned": ("RS", "RS", "Returned to Sender")}
#: DHL unified (statusCode, status) per story step.
DHL = {"info": ("pre-transit", "SHIPMENT INFORMATION RECEIVED"), "pickup": ("transit", "PICKED UP"),
       "depart": ("transit", "DEPARTED FACILITY"), "arrive": ("transit", "ARRIVED AT FACILITY"),
       "out": ("transit", "OUT FOR DELIVERY"), "delivered": ("delivered", "DELIVERED"),
       "failed": ("failure", "DELIVERY ATTEMPT FAILED"), "exception": ("failure", "CUSTOMS HOLD"),
       "returned": ("failure", "RETURNED TO SENDER")}


def generate(seed: int, numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per number: its scans (oldest first: step, UTC time, city, region, country) and promised date."""
    rng = random.Random(seed)
    parcels = {}
    for number in numbers:
        story = rng.choice(STORIES)
        when = EPOCH + dt.timedelta(hours=rng.randrange(0, 24 * 10))
        promised = when + dt.timedelta(days=3)
        scans = []
        for step in story:
            when += dt.timedelta(hours=rng.randrange(2, 20))
            city, region, country = rng.choice(CITIES)
            scans.append({"step": step, "at": when.isoformat(), "city": city, "region": region, "country": country})
        parcels[number] = {"scans": scans, "promised": promised.isoformat()}
    return parcels


class Tokens:
    """OAuth2 client-credentials tokens with a lifetime, and revocation."""

    def __init__(self, client_id: str, secret: str, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.client_id, self.secret, self.ttl, self.clock = client_id, secret, ttl, clock
        self._valid: dict[str, float] = {}
        self.issued = 0
        self.lock = threading.Lock()

    def issue(self, client_id: str, secret: str) -> str:
        if (client_id, secret) != (self.client_id, self.secret):
            raise HttpError(401, "invalid client credentials")
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._valid[token] = self.clock() + self.ttl
            self.issued += 1
        return token

    def check(self, request: Request) -> bool:
        token = request.bearer()
        with self.lock:
            return token is not None and self._valid.get(token, 0.0) > self.clock()

    def expire_all(self) -> None:
        with self.lock:
            self._valid.clear()


class CarrierApi:
    """What the three simulators share: parcels, token or key checks, counters."""

    def __init__(self, numbers: Sequence[str], *, seed: int = 7, client_id: str = "waybill",
                 secret: str = "s3cret", token_ttl: float = 3600.0) -> None:
        self.parcels = generate(seed, numbers)
        self.tokens = Tokens(client_id, secret, token_ttl)
        self.requests = 0
        self.unauthorized = 0  # calls refused for a missing, expired or revoked token
        self.bad_replies: dict[str, str] = {}  # the fault switch: number -> a kind of sim.carrier.BAD_REPLIES
        self.lock = threading.Lock()

    @property
    def token_requests(self) -> int:
        return self.tokens.issued

    def expire_tokens(self) -> None:
        self.tokens.expire_all()

    def handle(self, request: Request) -> Response:
        """The HTTP face of the simulator (each carrier's own routes)."""
        raise NotImplementedError

    def _count(self) -> None:
        with self.lock:
            self.requests += 1

    def _bad(self, numbers: Sequence[str]) -> Response | None:
        """The planted hostile reply for any of `numbers` (the fault switch), or None."""
        bad = bad_reply(self.bad_replies, numbers)
        return None if bad is None else Response(bad[0], bad[2], {"Content-Type": bad[1]})


class FedExApi(CarrierApi):
    """FedEx Track API."""

    MAX_NUMBERS = 30

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/oauth/token":
            form = dict(parse_qsl(request.body.decode()))
            if form.get("grant_type") != "client_credentials":
                raise HttpError(400, "grant_type must be client_credentials")
            token = self.tokens.issue(form.get("client_id", ""), form.get("client_secret", ""))
            return json_response({"access_token": token, "token_type": "bearer", "expires_in": int(self.tokens.ttl),
                                  "scope": "CXS"})
        if request.method == "POST" and request.path == "/track/v1/trackingnumbers":
            if not self.tokens.check(request):
                self.unauthorized += 1
                return json_response({"errors": [{"code": "NOT.AUTHORIZED.ERROR",
                                                  "message": "Access token expired or invalid."}]}, 401)
            self._count()
            info = (request.json() or {}).get("trackingInfo")
            if not isinstance(info, list) or not 1 <= len(info) <= self.MAX_NUMBERS:
                return json_response({"errors": [{"code": "TRACKING.TRACKINGNUMBER.LIMITEXCEEDED",
                                                  "message": "Please limit your tracking request to 30."}]}, 400)
            numbers = [str(i["trackingNumberInfo"]["trackingNumber"]) for i in info]
            bad = self._bad(numbers)
            if bad is not None:
                return bad
            return json_response({"transactionId": secrets.token_hex(8),
                                  "output": {"completeTrackResults": [self._result(n) for n in numbers]}})
        raise HttpError(404, f"no route {request.method} {request.path}")

    def _result(self, number: str) -> dict[str, Any]:
        parcel = self.parcels.get(number)
        info = {"trackingNumber": number, "carrierCode": "FDXE"}
        if parcel is None:
            return {"trackingNumber": number, "trackResults": [{"trackingNumberInfo": info, "error": {
                "code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
                "message": "Tracking number cannot be found. Please correct the tracking number and try again."}}]}
        scans = parcel["scans"]
        last_code, last_text = FEDEX[scans[-1]["step"]]
        dates = ([{"type": "ACTUAL_DELIVERY", "dateTime": scans[-1]["at"]}] if last_code == "DL"
                 else [{"type": "ESTIMATED_DELIVERY", "dateTime": parcel["promised"]}])
        events = [{"date": s["at"], "eventType": FEDEX[s["step"]][0], "eventDescription": FEDEX[s["step"]][1],
                   "derivedStatusCode": FEDEX[s["step"]][0],
                   "scanLocation": {"city": s["city"], "stateOrProvinceCode": s["region"], "countryCode": s["country"]}}
                  for s in reversed(scans)]
        return {"trackingNumber": number, "trackResults": [{
            "trackingNumberInfo": info, "latestStatusDetail": {"code": last_code, "derivedCode": last_code,
                                                               "statusByLocale": last_text, "description": last_text},
            "dateAndTimes": dates, "scanEvents": events}]}


def _strict(schema: Any) -> Any:
    """The schema with additionalProperties false on every object that lists its properties, so an
    answer with a field the description does not name fails validation."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and out.get("type") == "object":
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _description(name: str) -> dict[str, Any]:
    """An OpenAPI description of tests/data/openapi/ups, parsed."""
    # Tracking.yaml has a tab after a `default:` key, which YAML forbids there and PyYAML refuses;
    # tabs are only whitespace in these descriptions, so they are read as spaces.
    spec: dict[str, Any] = yaml.safe_load((CONTRACTS / name).read_text(encoding="utf-8").replace("\t", " "))
    return spec


def _validator(spec: dict[str, Any], name: str) -> jsonschema.Draft4Validator:
    """A validator of components.schemas.<name> of an OpenAPI 3.0 description (JSON Schema draft 4 base)."""
    root = {"components": _strict(spec["components"]), "$ref": f"#/components/schemas/{name}"}
    return jsonschema.Draft4Validator(root)


class UpsApi(CarrierApi):
    """UPS Tracking API, checked against its OpenAPI description."""

    TRACK = "/track/v1/details/{inquiryNumber}"
    TOKEN = "/security/v1/oauth/token"

    def __init__(self, numbers: Sequence[str], **options: Any) -> None:
        super().__init__(numbers, **options)
        tracking, oauth = _description("Tracking.yaml"), _description("OAuthClientCredentials.yaml")
        self.track_schema = _validator(tracking, "TrackApiResponse")
        self.error_schema = _validator(tracking, "Response")
        self.token_schema = _validator(oauth, "tokenSuccessResponse")
        # What the descriptions require of a request: the tracking call's required headers and the
        # token call's form body.
        params = tracking["paths"][self.TRACK]["get"]["parameters"]
        self.required_headers = [p["name"] for p in params if p["in"] == "header" and p.get("required")]
        form = oauth["paths"][self.TOKEN]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
        self.token_form = jsonschema.Draft4Validator(form["schema"])
        self.contract_errors: list[str] = []

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == self.TOKEN:
            return self._checked(self.token_schema, self._token(request))
        prefix = "/api/track/v1/details/"
        if request.method == "GET" and request.path.startswith(prefix):
            number = request.path[len(prefix):]
            if not self.tokens.check(request):
                self.unauthorized += 1
                return self._error(401, "250002", "Invalid Authentication Information.")
            self._count()
            missing = [h for h in self.required_headers if not request.headers.get(h)]
            if missing or not 7 <= len(number) <= 34:
                return self._error(400, "TV0001", f"Invalid request: {', '.join(missing) or 'inquiryNumber'}")
            bad = self._bad([number])
            if bad is not None:
                return bad
            if number not in self.parcels:
                return self._error(404, "TW0001", "Tracking Information Not Found")
            return self._checked(self.track_schema, self._track(number))
        raise HttpError(404, f"no route {request.method} {request.path}")

    def _token(self, request: Request) -> dict[str, Any]:
        scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            raise HttpError(401, "client credentials must come as HTTP Basic (client_secret_basic)")
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
        form = dict(parse_qsl(request.body.decode()))
        problems = [e.message for e in self.token_form.iter_errors(form)]
        if problems or form["grant_type"] != "client_credentials":
            raise HttpError(400, f"invalid token request: {'; '.join(problems) or 'grant_type'}")
        token = self.tokens.issue(client_id, secret)
        return {"token_type": "Bearer", "issued_at": str(int(time.time() * 1000)), "client_id": client_id,
                "access_token": token, "scope": "", "expires_in": str(int(self.tokens.ttl)), "refresh_count": "0",
                "status": "approved"}

    def _track(self, number: str) -> dict[str, Any]:
        parcel = self.parcels[number]
        scans = parcel["scans"]
        delivered = scans[-1]["step"] == "delivered"
        dates = ([{"type": "DEL", "date": _ymd(scans[-1]["at"])}] if delivered
                 else [{"type": "SDD", "date": _ymd(parcel["promised"])}])
        activity = [{"location": {"address": {"city": s["city"], "stateProvince": s["region"],
                                              "countryCode": s["country"], "country": s["country"]}},
                     "status": _ups_status(s["step"]), "date": _ymd(s["at"]), "time": _hms(s["at"]),
                     "gmtDate": _ymd(s["at"]), "gmtTime": _hms(s["at"], sep=":"), "gmtOffset": "+00:00"}
                    for s in reversed(scans)]
        return {"trackResponse": {"shipment": [{"inquiryNumber": number, "package": [{
            "trackingNumber": number, "deliveryDate": dates, "currentStatus": _ups_status(scans[-1]["step"]),
            "activity": activity, "packageCount": 1}]}]}}

    def _error(self, status: int, code: str, message: str) -> Response:
        return self._checked(self.error_schema, {"response": {"errors": [{"code": code, "message": message}]}},
                             status)

    def _checked(self, validator: jsonschema.Draft4Validator, body: dict[str, Any], status: int = 200) -> Response:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
        if errors:
            self.contract_errors.extend(errors)
            return json_response({"error": "answer breaks Tracking.yaml", "details": errors}, 500)
        return json_response(body, status)


def _ups_status(step: str) -> dict[str, str]:
    kind, code, text = UPS[step]
    return {"type": kind, "code": code, "description": text, "simplifiedTextDescription": text,
            "statusCode": "011" if kind == "D" else "003"}


def _ymd(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%Y%m%d")


def _hms(iso: str, sep: str = "") -> str:
    return dt.datetime.fromisoformat(iso).strftime(f"%H{sep}%M{sep}%S")


class DhlApi(CarrierApi):
    """DHL Shipment Tracking - Unified, with an API key."""

    def __init__(self, numbers: Sequence[str], *, api_key: str = "dhl-key", **options: Any) -> None:
        super().__init__(numbers, **options)
        self.api_key = api_key

    def handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/track/shipments":
            if request.headers.get("DHL-API-Key") != self.api_key:
                return _problem(401, "Unauthorized", "Unauthorized for given resource.")
            self._count()
            number = request.query.get("trackingNumber", "")
            if not number:
                return _problem(400, "Bad request", "trackingNumber is required.")
            bad = self._bad([number])
            if bad is not None:
                return bad
            parcel = self.parcels.get(number)
            if parcel is None:
                return _problem(404, "No result found", "No shipment with given tracking number found.")
            events = [{"timestamp": s["at"], "statusCode": DHL[s["step"]][0], "status": DHL[s["step"]][1],
                       "description": DHL[s["step"]][1].capitalize(),
                       "location": {"address": {"addressLocality": s["city"], "countryCode": s["country"]}}}
                      for s in reversed(parcel["scans"])]
            shipment = {"id": number, "service": "parcel-de", "status": events[0], "events": events}
            if events[0]["statusCode"] != "delivered":
                shipment["estimatedTimeOfDelivery"] = parcel["promised"]
            return json_response({"shipments": [shipment], "possibleAdditionalShipmentsUrl": []})
        raise HttpError(404, f"no route {request.method} {request.path}")


def _problem(status: int, title: str, detail: str) -> Response:
    body = json.dumps({"status": status, "title": title, "detail": detail}).encode()
    return Response(status, body, {"Content-Type": "application/problem+json"})


APIS: dict[str, type[CarrierApi]] = {"fedex": FedExApi, "ups": UpsApi, "dhl": DhlApi}


def start(carrier: str, numbers: Sequence[str], *, faults: Faults | None = None, port: int = 0,
          **options: Any) -> tuple[SimServer, CarrierApi]:
    """Serve the carrier's simulator on 127.0.0.1 in a thread: (server, simulator)."""
    api = APIS[carrier](numbers, **options)
    return SimServer(api.handle, faults=faults, port=port).start(), api


def main() -> None:
    """`python -m sim.rest_carriers --carrier ups --port 8444 --seed 7`: the carrier's parcels are
    those the warehouse of the seeded dataset (sim.dataset) handed to it."""
    from sim import dataset
    from sim.http_server import cli_parser, faults_from_args

    parser = cli_parser("REST carrier tracking simulator (FedEx, UPS, DHL)")
    parser.add_argument("--carrier", choices=sorted(APIS), required=True)
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="OAuth2 token lifetime in seconds")
    args = parser.parse_args()
    numbers = [s["tracking_number"] for s in dataset.generate(args.seed).shipments
               if s["carrier"] == args.carrier.upper()]
    options = {} if args.carrier == "dhl" else {"token_ttl": args.token_ttl}
    api = APIS[args.carrier](numbers, seed=args.seed, **options)
    server = SimServer(api.handle, faults=faults_from_args(args), port=args.port, host=args.host)
    print(f"{args.carrier} tracking simulator on {server.url} ({len(api.parcels)} parcels)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
