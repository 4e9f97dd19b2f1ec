"""The CRM spoke: Salesforce REST, upsert by external id, in sObject Collections of up to 200.

Configured by the Connection `waybill_crm`: host/port/schema (the login host), login = OAuth2
client id, password = client secret; extras: api_version (default v62.0), batch_size (at most 200),
max_usage (share of the org's API limit to leave for others: stop when api-usage reaches it,
default 0.9), lock_retries (rounds for records failing UNABLE_TO_LOCK_ROW, default 3).

Every call goes through waybill.connectors.http (timeouts, retries of 429/5xx). The token is fetched on
first use and fetched again once on a 401. 403 REQUEST_LIMIT_EXCEEDED, or api-usage past max_usage
in `Sforce-Limit-Info`, raises CrmLimitReached: the caller stops and leaves the rest for later.
Per-record outcomes: ok (created or updated), or an error that is transient (UNABLE_TO_LOCK_ROW,
retried here first) or permanent (anything else: dead-letter it with the CRM's message).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from waybill.connectors.connection import ConnectionInfo, get_connection
from waybill.connectors.http import HttpPolicy, PermanentHTTPError, client_for
from waybill.core.errors import WaybillError
from waybill.core.logs import event, get_logger

log = get_logger("crm")
SYSTEM = "crm"
MAX_BATCH = 200
TRANSIENT_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


class CrmLimitReached(WaybillError):
    """The org's API limit is (nearly) used up; publishing resumes on a later run."""


@dataclass(frozen=True)
class Record:
    """One record to upsert: its external id value and fields."""

    key: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Result:
    key: str
    ok: bool
    created: bool = False
    crm_id: str | None = None
    transient: bool = False
    error: str | None = None


class CrmClient:
    """Salesforce REST upserts with per-record results."""

    def __init__(self, conn: ConnectionInfo | None = None, policy: HttpPolicy | None = None) -> None:
        conn = conn or get_connection("waybill_crm")
        extra = conn.extra
        self.client_id, self.client_secret = conn.login or "", conn.password or ""
        self.api = f"/services/data/{extra.get('api_version', 'v62.0')}"
        self.batch_size = min(int(extra.get("batch_size", MAX_BATCH)), MAX_BATCH)
        self.max_usage = float(extra.get("max_usage", 0.9))
        self.lock_retries = int(extra.get("lock_retries", 3))
        self.http = client_for(conn, SYSTEM, policy=policy)
        self.token: str | None = None
        self.usage: tuple[int, int] | None = None
        self.requests = 0

    # --- transport -------------------------------------------------------------------------------

    def authenticate(self) -> None:
        """Obtain an access token now (a Connection test): PermanentHTTPError when refused."""
        self._authenticate()

    def _authenticate(self) -> None:
        resp = self.http.request("POST", "/services/oauth2/token", stream="oauth", data={
            "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret})
        self.requests += 1
        body = resp.json()
        self.token = body["access_token"]
        self.http.secrets.add(self.token)
        if body.get("instance_url"):
            self.http.base_url = body["instance_url"].rstrip("/")

    def _call(self, method: str, path: str, stream: str, body: Any) -> requests.Response:
        """One API call with a fresh token if the current one is refused (401) once."""
        for attempt in (1, 2):
            if self.token is None:
                self._authenticate()
            try:
                resp = self.http.request(method, self.api + path, stream=stream, json=body,
                                         headers={"Authorization": f"Bearer {self.token}"})
            except PermanentHTTPError as err:
                self.requests += 1
                if err.status == 401 and attempt == 1:
                    self.token = None
                    continue
                if err.status == 403 and "REQUEST_LIMIT_EXCEEDED" in err.body:
                    raise CrmLimitReached(f"{SYSTEM}: API request limit exceeded") from err
                raise
            self.requests += 1
            self._note_usage(resp)
            return resp
        raise AssertionError("unreachable")  # pragma: no cover

    def _note_usage(self, resp: requests.Response) -> None:
        m = _USAGE.search(resp.headers.get("Sforce-Limit-Info", ""))
        if m:
            self.usage = (int(m.group(1)), int(m.group(2)))

    def _check_usage(self) -> None:
        if self.usage and self.usage[0] >= self.max_usage * self.usage[1]:
            raise CrmLimitReached(f"{SYSTEM}: api-usage {self.usage[0]}/{self.usage[1]} reached the "
                                  f"{self.max_usage:.0%} share this job may use")

    # --- reads ----------------------------------------------------------------------------------

    def get(self, obj: str, ext_field: str, value: str) -> dict[str, Any] | None:
        """The record of `obj` whose external id `ext_field` is `value` (None: there is none)."""
        try:
            resp = self._call("GET", f"/sobjects/{obj}/{ext_field}/{value}", obj, None)
        except PermanentHTTPError as err:
            if err.status == 404:
                return None
            raise
        record: dict[str, Any] = resp.json()
        return record

    def query_all(self, obj: str, fields: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Every record of `obj` with `fields` (SOQL `SELECT ... FROM obj`), page after page as the
        CRM hands them out (`nextRecordsUrl` until `done`)."""
        soql = f"SELECT {', '.join(fields)} FROM {obj}"  # noqa: S608 -- names of our own, no values
        path: str | None = f"/query?q={quote(soql)}"
        while path is not None:
            body = self._call("GET", path, obj, None).json()
            yield from body.get("records", [])
            following = body.get("nextRecordsUrl")
            # the next page's address is absolute to the instance: it starts with our API's path
            path = following.removeprefix(self.api) if not body.get("done", True) and following else None

    # --- upserts ---------------------------------------------------------------------------------

    def upsert(self, obj: str, ext_field: str, records: Sequence[Record]) -> Iterator[list[Result]]:
        """Upsert `records` by `ext_field`, yielding the results of each request (batch) in order."""
        for i in range(0, len(records), self.batch_size):
            self._check_usage()
            yield self._upsert_batch(obj, ext_field, list(records[i:i + self.batch_size]))

    def _upsert_batch(self, obj: str, ext_field: str, batch: list[Record]) -> list[Result]:
        results: dict[str, Result] = {}
        todo = batch
        for _ in range(self.lock_retries + 1):
            if len(todo) == 1:
                results[todo[0].key] = self._upsert_one(obj, ext_field, todo[0])
            else:
                body = {"allOrNone": False, "records": [
                    {"attributes": {"type": obj}, ext_field: r.key, **r.fields} for r in todo]}
                resp = self._call("PATCH", f"/composite/sobjects/{obj}/{ext_field}", obj, body)
                for r, res in zip(todo, resp.json(), strict=False):
                    results[r.key] = _result(r.key, res)
            todo = [r for r in todo if results[r.key].transient]
            if not todo:
                break
        event(log, "upserted", system=SYSTEM, stream=obj, records=len(batch),
              failed=sum(not r.ok for r in results.values()))
        return [results[r.key] for r in batch]

    def _upsert_one(self, obj: str, ext_field: str, rec: Record) -> Result:
        try:
            resp = self._call("PATCH", f"/sobjects/{obj}/{ext_field}/{rec.key}", obj, rec.fields)
        except PermanentHTTPError as err:
            if err.status != 400:
                raise
            errors = _json_list(err.body)
            return _failure(rec.key, [{"statusCode": e.get("errorCode"), "message": e.get("message"),
                                       "fields": e.get("fields", [])} for e in errors] or
                            [{"statusCode": "HTTP_400", "message": err.body}])
        if resp.status_code == 300:
            return Result(rec.key, False, error=f"{ext_field}={rec.key} matches several {obj} records")
        return _result(rec.key, resp.json())


def _result(key: str, res: dict[str, Any]) -> Result:
    if res.get("success"):
        return Result(key, True, created=bool(res.get("created")), crm_id=res.get("id"))
    return _failure(key, res.get("errors") or [])


def _failure(key: str, errors: list[dict[str, Any]]) -> Result:
    codes = {e.get("statusCode") for e in errors}
    text = "; ".join(f"{e.get('statusCode')}: {e.get('message')}"
                     + (f" (fields {', '.join(e['fields'])})" if e.get("fields") else "") for e in errors)
    return Result(key, False, transient=bool(codes) and codes <= TRANSIENT_CODES, error=text or "unknown error")


def _json_list(text: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
