"""The receivers' simulators as their own processes, and the CRM contract's edges."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests

from sim.crm import MAX_COLLECTION


@pytest.mark.parametrize("name", ["carrier", "crm"])
def test_simulator_runs_as_a_module(name, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", f"sim.{name}", "--port", "0", "--state", str(tmp_path / "state")],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        resp = requests.get(url + ("/" if name == "carrier" else "/services/data/v62.0/sobjects"), timeout=5)
        # The carrier answers SOAP POSTs only; the CRM wants a bearer token first.
        assert resp.status_code == (405 if name == "carrier" else 401)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert list((tmp_path / "state").iterdir())  # state persisted in the given folder


def _token(url: str) -> dict[str, str]:
    body = requests.post(f"{url}/services/oauth2/token", timeout=5, data={
        "grant_type": "client_credentials", "client_id": "waybill", "client_secret": "s3cret"}).json()
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_crm_refuses_collections_over_200_and_bad_credentials(crm):
    url = crm.server.url
    bad = requests.post(f"{url}/services/oauth2/token", timeout=5, data={
        "grant_type": "client_credentials", "client_id": "waybill", "client_secret": "wrong"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"
    records = [{"attributes": {"type": "Account"}, "Waybill_Id__c": str(i), "Name": "n"}
               for i in range(MAX_COLLECTION + 1)]
    resp = requests.patch(f"{url}/services/data/v62.0/composite/sobjects/Account/Waybill_Id__c", timeout=5,
                          headers=_token(url), json={"allOrNone": False, "records": records})
    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert re.fullmatch(r"api-usage=1/15000", resp.headers["Sforce-Limit-Info"])
    assert crm.records("Account") == {}


def test_crm_per_record_errors_name_code_and_fields(crm):
    url = crm.server.url
    records = [{"attributes": {"type": "Account"}, "Waybill_Id__c": "1", "Name": "ok"},
               {"attributes": {"type": "Account"}, "Waybill_Id__c": "2", "Nmae": "typo"},
               {"attributes": {"type": "Order"}, "Waybill_Id__c": "3"}]
    resp = requests.patch(f"{url}/services/data/v62.0/composite/sobjects/Account/Waybill_Id__c", timeout=5,
                          headers=_token(url), json={"allOrNone": False, "records": records})
    ok, typo, wrong_type = resp.json()
    assert ok["success"] and ok["created"]
    assert typo["errors"][0]["statusCode"] == "INVALID_FIELD" and typo["errors"][0]["fields"] == ["Nmae"]
    assert wrong_type["errors"][0]["statusCode"] == "INVALID_TYPE"
    assert list(crm.records("Account")) == ["1"]
