"""A Salesforce REST simulator: the parts of the contract Waybill's CRM publisher relies on.

- POST /services/oauth2/token (client credentials) -> bearer token; an expired or unknown token
  answers 401 INVALID_SESSION_ID;
- PATCH /services/data/vNN.N/sobjects/<Object>/<ExtIdField>/<value>: upsert by external id,
  201 created, 200 updated, 300 when the value matches several records, 400 with the errors;
- PATCH /services/data/vNN.N/composite/sobjects/<Object>/<ExtIdField>: sObject Collections upsert
  of up to 200 records, allOrNone false, one result per record in request order;
- GET  /services/data/vNN.N/sobjects/<Object>/<ExtIdField>/<value>: read a record back;
- GET  /services/data/vNN.N/query?q=SELECT f1, f2 FROM <Object>: every record of an object (the
  SOQL subset reconciliation uses: no WHERE), QUERY_PAGE at a time, the next page at
  `nextRecordsUrl` (/services/data/vNN.N/query/<locator>-<offset>) until `done`;
- every API answer carries `Sforce-Limit-Info: api-usage=N/M`; past the limit: 403
  REQUEST_LIMIT_EXCEEDED; a seeded share of records fail with the transient UNABLE_TO_LOCK_ROW.

Objects: Account, Order, Shipment__c and Case (linked to Account, Order and Shipment__c) with the
org's fields; an unknown field, a missing required
field or an unresolvable relationship (`Account: {"Waybill_Id__c": ...}`) is a per-record error.
State lives in `<folder>/crm.json`.

    python -m sim.crm --port 8083 --state /tmp/crm
"""

from __future__ import annotations

import json
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from sim.faults import Faults
from sim.http_server import HttpError, Request, Response, SimServer, cli_parser, faults_from_args, json_response


@dataclass(frozen=True)
class SObject:
    """What the simulated org knows about one object."""

    prefix: str
    fields: frozenset[str]
    required: frozenset[str]
    #: relationship name in a request -> (id field it sets, referenced object)
    lookups: dict[str, tuple[str, str]]


_ACCOUNT_FIELDS = ("Name", "AccountNumber", "Industry", "CurrencyIsoCode", "Credit_Limit__c", "Payment_Terms__c",
                   "Waybill_Status__c", "Tax_Id__c", "Tier__c", "Revenue_12m__c", "Lifetime_Value__c",
                   "Churn_Warning__c", "Overdue_Amount__c", "Aging_Current__c", "Aging_1_30__c", "Aging_31_60__c",
                   "Aging_61_90__c", "Aging_Over_90__c", "Facts_As_Of__c")
_ORDER_FIELDS = ("AccountId", "Status", "EffectiveDate", "PoNumber", "CurrencyIsoCode", "Order_Kind__c",
                 "Waybill_Status__c", "Requested_Date__c", "Amount_Untaxed__c", "Amount_Total__c", "Source_System__c",
                 "Source_Id__c")
_SHIPMENT_FIELDS = ("Name", "Account__c", "Carrier__c", "Tracking_Number__c", "Status__c", "Status_Code__c",
                    "ETA__c", "Last_Event__c", "Last_Place__c", "Delivered_At__c", "Ship_Date__c", "Packages__c")
_CASE_FIELDS = ("AccountId", "Order__c", "Shipment__c", "Subject", "Description", "Status", "Priority", "Origin",
                "Type", "Problem__c", "Substatus__c", "Status_Code__c", "Opened_At__c", "Closed_At__c")
_COMMON = ("Waybill_Id__c", "Waybill_Change_Key__c")

OBJECTS: dict[str, SObject] = {
    "Account": SObject("001", frozenset(_ACCOUNT_FIELDS + _COMMON), frozenset({"Name"}), {}),
    "Order": SObject("801", frozenset(_ORDER_FIELDS + _COMMON), frozenset({"AccountId", "EffectiveDate", "Status"}),
                     {"Account": ("AccountId", "Account")}),
    "Shipment__c": SObject("a0S", frozenset(_SHIPMENT_FIELDS + _COMMON), frozenset({"Name", "Carrier__c"}),
                           {"Account__r": ("Account__c", "Account")}),
    "Case": SObject("500", frozenset(_CASE_FIELDS + _COMMON), frozenset({"Subject", "Status", "AccountId"}),
                    {"Account": ("AccountId", "Account"), "Order__r": ("Order__c", "Order"),
                     "Shipment__r": ("Shipment__c", "Shipment__c")}),
}
EXTERNAL_IDS = frozenset({"Waybill_Id__c"})
MAX_COLLECTION = 200
#: records per page of a query (Salesforce's default batch size)
QUERY_PAGE = 2000
_SOQL = re.compile(r"^\s*SELECT\s+(?P<fields>[\w\s,]+?)\s+FROM\s+(?P<object>\w+)\s*$", re.IGNORECASE)
_API = re.compile(r"^/services/data/v\d+\.\d+(/.*)$")


class RecordError(Exception):
    def __init__(self, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.body = {"statusCode": code, "message": message, "fields": fields or []}


class CrmSim:
    """The org's state and the REST handlers, independent of the HTTP plumbing."""

    def __init__(self, folder: Path, client_id: str = "waybill", client_secret: str = "s3cret",
                 api_limit: int = 15000, token_ttl: float = 3600.0, lock_rate: float = 0.0, seed: int = 1) -> None:
        self.path = Path(folder) / "crm.json"
        self.client_id, self.client_secret = client_id, client_secret
        self.api_limit, self.token_ttl, self.lock_rate = api_limit, token_ttl, lock_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.tokens: dict[str, float] = {}
        self.requests = 0  # every HTTP request, token calls included
        if self.path.exists():
            self.state: dict[str, Any] = json.loads(self.path.read_text())
        else:
            self.state = {"records": {name: {} for name in OBJECTS}, "seq": 0, "api_used": 0}
            self._save()
        # object -> external id value -> record ids (Waybill_Id__c is the org's one external id field)
        self.index: dict[str, dict[str, list[str]]] = {name: {} for name in OBJECTS}
        for obj, records in self.state["records"].items():
            for rid, r in records.items():
                if "Waybill_Id__c" in r:
                    self.index[obj].setdefault(r["Waybill_Id__c"], []).append(rid)

    # --- helpers for tests and benchmarks ------------------------------------------------------------

    def records(self, obj: str) -> dict[str, dict[str, Any]]:
        """External id (Waybill_Id__c) -> fields, for one object."""
        return {r["Waybill_Id__c"]: r for r in self.state["records"][obj].values() if "Waybill_Id__c" in r}

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def add_duplicate(self, obj: str, ext_field: str, value: str) -> None:
        """Create a second record with the same external id value (data the org already has)."""
        with self.lock:
            for _ in range(2):
                self._insert(obj, {ext_field: value, **dict.fromkeys(OBJECTS[obj].required, "x")})
            self._save()

    # --- HTTP ----------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.requests += 1
        if request.path == "/services/oauth2/token" and request.method == "POST":
            return self._token(request)
        m = _API.match(request.path)
        if not m:
            raise HttpError(404, f"no resource at {request.path}")
        token = request.bearer()
        if token is None or self.tokens.get(token, 0) < time.monotonic():
            return self._errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        with self.lock:
            if self.state["api_used"] >= self.api_limit:
                return self._errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.state["api_used"] += 1
            response = self._route(request, m.group(1).strip("/").split("/"))
            if request.method != "GET":
                self._save()
            response.headers["Sforce-Limit-Info"] = f"api-usage={self.state['api_used']}/{self.api_limit}"
            return response

    def _token(self, request: Request) -> Response:
        form = dict(parse_qsl(request.body.decode()))
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != self.client_id \
                or form.get("client_secret") != self.client_secret:
            return json_response({"error": "invalid_client", "error_description": "invalid client credentials"}, 400)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + self.token_ttl
        return json_response({"access_token": token, "instance_url": f"http://{request.headers.get('Host')}",
                              "token_type": "Bearer", "issued_at": str(int(time.time() * 1000))})

    def _route(self, request: Request, parts: list[str]) -> Response:
        if parts[0] == "sobjects" and len(parts) == 4:
            obj, field, value = parts[1:]
            self._check_object(obj, field)
            if request.method == "GET":
                return self._get(obj, field, value)
            if request.method == "PATCH":
                return self._upsert_one(obj, field, value, request.json())
        if parts[0] == "query" and request.method == "GET":
            if len(parts) == 2:
                soql, _, offset = parts[1].rpartition("-")
                return self._query(bytes.fromhex(soql).decode(), int(offset))
            return self._query(request.query.get("q", ""), 0)
        if parts[:2] == ["composite", "sobjects"] and len(parts) == 4 and request.method == "PATCH":
            obj, field = parts[2:]
            self._check_object(obj, field)
            return self._upsert_many(obj, field, request.json())
        raise HttpError(404, f"{request.method} {request.path} is not supported")

    def _check_object(self, obj: str, field: str) -> None:
        if obj not in OBJECTS:
            raise HttpError(404, f"The requested resource does not exist: sObject type '{obj}' is not supported")
        if field not in EXTERNAL_IDS:
            raise HttpError(400, f"Provided external ID field does not exist or is not accessible: {field}")

    def _query(self, soql: str, offset: int) -> Response:
        """A page of `SELECT fields FROM Object`; the locator of the next page carries the query."""
        m = _SOQL.match(soql)
        if not m or m.group("object") not in OBJECTS:
            return self._errors(400, "MALFORMED_QUERY", f"unsupported query: {soql!r}")
        obj, fields = m.group("object"), [f.strip() for f in m.group("fields").split(",")]
        unknown = [f for f in fields if f != "Id" and f not in OBJECTS[obj].fields]
        if unknown:
            return self._errors(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on entity '{obj}'")
        rows = sorted(self.state["records"][obj].items())
        page = [{"attributes": {"type": obj}, **{f: rid if f == "Id" else r.get(f) for f in fields}}
                for rid, r in rows[offset:offset + QUERY_PAGE]]
        done = offset + QUERY_PAGE >= len(rows)
        body: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": page}
        if not done:
            body["nextRecordsUrl"] = f"/services/data/v62.0/query/{soql.encode().hex()}-{offset + QUERY_PAGE}"
        return json_response(body)

    # --- upserts -------------------------------------------------------------------------------------

    def _get(self, obj: str, field: str, value: str) -> Response:
        found = self._find(obj, field, value)
        if not found:
            return self._errors(404, "NOT_FOUND", "The requested resource does not exist")
        return json_response({"attributes": {"type": obj}, "Id": found[0], **self.state["records"][obj][found[0]]})

    def _upsert_one(self, obj: str, field: str, value: str, body: Any) -> Response:
        if not isinstance(body, dict):
            return self._errors(400, "JSON_PARSER_ERROR", "Expected a JSON object")
        if field in body:
            return self._errors(400, "INVALID_FIELD", f"{field} is the external id in the URL; not in the body")
        found = self._find(obj, field, value)
        if len(found) > 1:
            return json_response([f"/services/data/v62.0/sobjects/{obj}/{i}" for i in found], 300)
        try:
            rid, created = self._write(obj, field, value, body, found)
        except RecordError as err:
            return json_response([{"errorCode": err.body["statusCode"], "message": err.body["message"],
                                   "fields": err.body["fields"]}], 400)
        return json_response({"id": rid, "success": True, "errors": [], "created": created}, 201 if created else 200)

    def _upsert_many(self, obj: str, field: str, body: Any) -> Response:
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            return self._errors(400, "JSON_PARSER_ERROR", "Expected {\"allOrNone\": ..., \"records\": [...]}")
        if len(records) > MAX_COLLECTION:
            return self._errors(400, "EXCEEDED_ID_LIMIT", f"Maximum number of records allowed is {MAX_COLLECTION}")
        results = []
        for rec in records:
            try:
                if (rec.get("attributes") or {}).get("type") != obj:
                    raise RecordError("INVALID_TYPE", f"attributes.type must be {obj}")
                values = {k: v for k, v in rec.items() if k != "attributes"}
                value = values.pop(field, None)
                if not value:
                    raise RecordError("MISSING_ARGUMENT", f"{field} not specified", [field])
                found = self._find(obj, field, str(value))
                if len(found) > 1:
                    raise RecordError("DUPLICATE_EXTERNAL_ID",
                                      f"{field}: more than one record found for external id field: {found}", [field])
                rid, created = self._write(obj, field, str(value), values, found)
                results.append({"id": rid, "success": True, "errors": [], "created": created})
            except RecordError as err:
                results.append({"success": False, "errors": [err.body]})
        return json_response(results)

    def _write(self, obj: str, field: str, value: str, values: dict[str, Any], found: list[str]) -> tuple[str, bool]:
        spec = OBJECTS[obj]
        if self.lock_rate and self.rng.random() < self.lock_rate:
            raise RecordError("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records")
        values = dict(values)
        for rel, (id_field, target) in spec.lookups.items():
            ref = values.pop(rel, None)
            if isinstance(ref, dict) and len(ref) == 1:
                (ref_field, ref_value), = ref.items()
                hits = self._find(target, ref_field, str(ref_value))
                if len(hits) != 1:
                    raise RecordError("INVALID_FIELD", f"Foreign key external ID: {ref_value} not found for field "
                                      f"{ref_field} in entity {target}", [rel])
                values[id_field] = hits[0]
        unknown = sorted(set(values) - spec.fields)
        if unknown:
            raise RecordError("INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {obj}", unknown)
        if found:
            merged = {**self.state["records"][obj][found[0]], **values}
        else:
            merged = {field: value, **values}
        missing = sorted(f for f in spec.required if merged.get(f) in (None, ""))
        if missing:
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: {missing}", missing)
        if found:
            self.state["records"][obj][found[0]] = merged
            return found[0], False
        return self._insert(obj, merged), True

    def _insert(self, obj: str, values: dict[str, Any]) -> str:
        self.state["seq"] += 1
        rid = f"{OBJECTS[obj].prefix}{self.state['seq']:015d}"
        self.state["records"][obj][rid] = values
        if "Waybill_Id__c" in values:
            self.index[obj].setdefault(values["Waybill_Id__c"], []).append(rid)
        return rid

    def _find(self, obj: str, field: str, value: str) -> list[str]:
        if field not in EXTERNAL_IDS:
            raise RecordError("INVALID_FIELD", f"{field} is not an external id field of {obj}", [field])
        return list(self.index[obj].get(value, ()))

    def _errors(self, status: int, code: str, message: str) -> Response:
        return json_response([{"message": message, "errorCode": code}], status)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, sort_keys=True))
        tmp.replace(self.path)


def start(folder: Path, faults: Faults | None = None, port: int = 0, **options: Any) -> tuple[SimServer, CrmSim]:
    """Serve the simulator on 127.0.0.1 in a thread: (server with .url and .shutdown(), state)."""
    sim = CrmSim(folder, **options)
    return SimServer(sim.handle, faults=faults, port=port).start(), sim


def main() -> None:
    parser = cli_parser("Salesforce REST simulator (OAuth2, upsert by external id, sObject Collections)")
    parser.add_argument("--api-limit", type=int, default=15000)
    parser.add_argument("--lock-rate", type=float, default=0.0, help="share of records failing UNABLE_TO_LOCK_ROW")
    args = parser.parse_args()
    sim = CrmSim(args.state, api_limit=args.api_limit, lock_rate=args.lock_rate, seed=args.seed)
    server = SimServer(sim.handle, faults=faults_from_args(args), port=args.port, host=args.host)
    print(f"crm simulator on {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
