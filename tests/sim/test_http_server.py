"""The simulators' base: a real HTTP server on loopback, and faults a real client sees."""

from __future__ import annotations

import pytest
import requests

from sim.faults import FaultRates, Faults
from sim.http_server import HttpError, Request, Response, SimServer, json_response
from waybill.connectors.http import HttpClient, HttpPolicy, PermanentHTTPError, TransientHTTPError


def echo(request: Request) -> Response:
    if request.path == "/missing":
        raise HttpError(404, "no such thing", path=request.path)
    return json_response({"method": request.method, "path": request.path, "query": request.query,
                          "body": request.json(), "token": request.bearer()})


FAST = HttpPolicy(connect_timeout=1, read_timeout=0.3, max_attempts=8, backoff_initial=0.01, backoff_max=0.02)


def test_json_round_trip_and_errors() -> None:
    with SimServer(echo) as server:
        r = requests.post(server.url + "/x?a=1", json={"k": [1, 2]}, headers={"Authorization": "Bearer t0k"},
                          timeout=5)
        assert r.json() == {"method": "POST", "path": "/x", "query": {"a": "1"}, "body": {"k": [1, 2]},
                            "token": "t0k"}
        missing = requests.get(server.url + "/missing", timeout=5)
        assert missing.status_code == 404 and missing.json() == {"error": "no such thing", "path": "/missing"}
        bad = requests.post(server.url + "/x", data=b"{nope", timeout=5)
        assert bad.status_code == 400 and "invalid JSON" in bad.json()["error"]


@pytest.mark.parametrize("kind", ["throttle", "error", "slow", "drop"])
def test_each_fault_kind_is_transient_for_the_client(kind: str) -> None:
    faults = Faults({"/flaky": FaultRates(**{kind: 1.0}, retry_after=0, slow_seconds=0.6)}, seed=3)
    with SimServer(echo, faults) as server:
        policy = HttpPolicy(connect_timeout=1, read_timeout=0.3, max_attempts=3, backoff_initial=0.01,
                            backoff_max=0.02)
        client = HttpClient("sim", server.url, policy)
        with pytest.raises(TransientHTTPError):
            client.request("GET", "/flaky")
        assert faults.injected[("/flaky", kind)] == policy.max_attempts
        assert client.request("GET", "/steady").json()["path"] == "/steady"  # other endpoints unharmed
        with pytest.raises(PermanentHTTPError) as err:
            client.request("GET", "/missing")
        assert err.value.status == 404


def test_throttle_sends_retry_after() -> None:
    faults = Faults({"*": FaultRates(throttle=1.0, retry_after=7)})
    with SimServer(echo, faults) as server:
        r = requests.get(server.url + "/a", timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"


def test_retries_get_through_a_30_percent_fault_rate() -> None:
    faults = Faults({"*": FaultRates.transient(0.3, retry_after=0, slow_seconds=0.6)}, seed=11)
    with SimServer(echo, faults) as server:
        client = HttpClient("sim", server.url, FAST)
        paths = [client.request("GET", f"/p{i}").json()["path"] for i in range(20)]
    assert paths == [f"/p{i}" for i in range(20)]
    assert faults.total() >= 3


def test_same_seed_same_faults() -> None:
    def sequence(seed: int) -> list:
        f = Faults({"*": FaultRates.transient(0.5)}, seed=seed)
        return [f.draw("/e") for _ in range(50)]

    assert sequence(5) == sequence(5)
    assert sequence(5) != sequence(6)


def test_plan_from_json_and_validation() -> None:
    f = Faults.from_json('{"seed": 2, "sale.order/*": {"error": 0.5, "status": 502}, "*": {"drop": 0.1}}')
    assert f.rates_for("sale.order/search_read") == FaultRates(error=0.5, status=502)
    assert f.rates_for("/other") == FaultRates(drop=0.1)
    with pytest.raises(ValueError, match="unknown keys"):
        Faults.from_json('{"*": {"eror": 0.5}}')
    with pytest.raises(ValueError, match="sum to at most 1"):
        FaultRates(error=0.8, drop=0.5)
