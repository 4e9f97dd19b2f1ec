"""The REST carrier simulators keep to the published contracts (UPS: its OpenAPI description)."""

from __future__ import annotations

import requests

from sim import rest_carriers

UPS_NUMBER = "1Z999AA10123456784"


def _ups_token(url: str) -> str:
    resp = requests.post(f"{url}/security/v1/oauth/token", data={"grant_type": "client_credentials"},
                         auth=("waybill", "s3cret"), timeout=5)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def test_ups_answers_validate_against_the_openapi_description_and_requests_are_checked():
    server, api = rest_carriers.start("ups", [UPS_NUMBER])
    try:
        token = _ups_token(server.url)
        headers = {"Authorization": f"Bearer {token}", "transId": "t1", "transactionSrc": "tests"}
        ok = requests.get(f"{server.url}/api/track/v1/details/{UPS_NUMBER}", headers=headers, timeout=5)
        assert ok.status_code == 200 and ok.json()["trackResponse"]["shipment"][0]["package"][0]["activity"]
        no_trans = requests.get(f"{server.url}/api/track/v1/details/{UPS_NUMBER}",
                                headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert no_trans.status_code == 400  # transId and transactionSrc are required headers
        unknown = requests.get(f"{server.url}/api/track/v1/details/1Z0000000000000000", headers=headers, timeout=5)
        assert unknown.status_code == 404 and unknown.json()["response"]["errors"][0]["code"] == "TW0001"
        form_secret = requests.post(f"{server.url}/security/v1/oauth/token", timeout=5,
                                    data={"grant_type": "client_credentials", "client_id": "waybill",
                                          "client_secret": "s3cret"})
        assert form_secret.status_code == 401  # UPS wants client_secret_basic
        no_grant = requests.post(f"{server.url}/security/v1/oauth/token", data={}, auth=("waybill", "s3cret"),
                                 timeout=5)
        assert no_grant.status_code == 400 and "grant_type" in no_grant.text  # required by the description
        assert api.required_headers == ["transId", "transactionSrc"]  # read from Tracking.yaml
        assert api.contract_errors == []
    finally:
        server.shutdown()


def test_an_answer_with_a_field_the_description_does_not_name_is_caught():
    api = rest_carriers.UpsApi([UPS_NUMBER])
    body = api._track(UPS_NUMBER)
    body["trackResponse"]["shipment"][0]["package"][0]["activity"][0]["status"]["colour"] = "red"
    resp = api._checked(api.track_schema, body)
    assert resp.status == 500 and any("colour" in e for e in api.contract_errors)
    api.contract_errors.clear()
    body = api._track(UPS_NUMBER)
    body["trackResponse"]["shipment"][0]["package"][0]["packageCount"] = "one"  # an integer in Tracking.yaml
    assert api._checked(api.track_schema, body).status == 500


def test_fedex_refuses_more_than_30_numbers_per_request():
    numbers = [f"7946{i:08d}" for i in range(31)]
    server, api = rest_carriers.start("fedex", numbers)
    try:
        token = requests.post(f"{server.url}/oauth/token", timeout=5, data={
            "grant_type": "client_credentials", "client_id": "waybill", "client_secret": "s3cret"}).json()
        body = {"includeDetailedScans": True,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in numbers]}
        resp = requests.post(f"{server.url}/track/v1/trackingnumbers", json=body, timeout=5,
                             headers={"Authorization": f"Bearer {token['access_token']}"})
        assert resp.status_code == 400 and api.requests == 1
        assert token["expires_in"] == 3600
    finally:
        server.shutdown()
