"""The REST carrier connector's own parts: the rate-limit pool per carrier, profiles as data."""

from __future__ import annotations

import pytest

from waybill.connectors import carrier_profile, carrier_rest
from waybill.connectors.carrier_rest import RateLimiter
from waybill.connectors.connection import ConnectionInfo
from waybill.core.errors import ConfigError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pool_spaces_calls_at_the_carrier_s_rate_after_its_burst():
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=2, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(6)]
    assert waits[:2] == [0.0, 0.0] and all(w == pytest.approx(0.5) for w in waits[2:])
    assert clock.now == pytest.approx(2.0)  # 6 calls at 2/s after a burst of 2
    clock.now += 10  # idle time refills the bucket up to the burst only
    assert [limiter.acquire() for _ in range(3)][:2] == [0.0, 0.0] and clock.slept[-1] == pytest.approx(0.5)


def test_one_pool_per_carrier_shared_by_its_trackers():
    ups, dhl = carrier_profile.load("ups"), carrier_profile.load("dhl")
    assert carrier_rest.pool(ups) is carrier_rest.pool(ups)
    assert carrier_rest.pool(ups) is not carrier_rest.pool(dhl)
    assert (carrier_rest.pool(ups).rate, carrier_rest.pool(dhl).rate) == (ups.rate_per_second, dhl.rate_per_second)


def test_packaged_profiles_choose_by_carrier_code_and_the_retired_one_only_by_name():
    profiles = carrier_profile.load_all()
    assert {"fedex", "ups", "dhl", "fedex_soap"} <= set(profiles)
    assert carrier_profile.for_code("fedex", profiles).name == "fedex"  # REST, not the retired SOAP profile
    assert carrier_profile.for_code("UPS", profiles).batch_size == 1
    assert carrier_profile.for_code("FEDEX", profiles).batch_size == 30
    assert carrier_profile.for_code("DPD", profiles) is None
    assert profiles["fedex_soap"].retired.startswith("FedEx switched SOAP tracking off on 2024-08-31")
    assert profiles["dhl"].auth.kind == "api_key" and profiles["dhl"].auth.header == "DHL-API-Key"


def test_a_profile_with_a_mistake_names_the_file_and_field(tmp_path, monkeypatch):
    (tmp_path / "acme.toml").write_text('name = "acme"\nprotocol = "ftp"\nmapping = "x"\nbatch_size = 1\n'
                                        '[auth]\nkind = "api_key"\nheader = "K"\n')
    monkeypatch.setenv("WAYBILL_CARRIERS", str(tmp_path))
    with pytest.raises(ConfigError, match=r"acme\.toml: protocol must be one of rest, soap"):
        carrier_profile.load("acme")
    (tmp_path / "acme.toml").write_text('name = "acme"\nprotocol = "rest"\nmapping = "x"\nbatch_size = 1\n'
                                        '[auth]\nkind = "oauth2"\n')
    with pytest.raises(ConfigError, match="token_path is required"):
        carrier_profile.load("acme")
    with pytest.raises(ConfigError, match=r"no profile nope\.toml"):
        carrier_profile.load("nope")


def test_a_connection_without_a_host_uses_the_profile_s_base_url_and_needs_its_secret():
    profile = carrier_profile.load("ups")
    def build(_numbers):
        return carrier_rest.Call("GET", "/x")

    tracker = carrier_rest.RestTracker(profile, build, conn=ConnectionInfo("c", "http", login="id", password="s"))
    assert tracker.http.base_url == "https://onlinetools.ups.com" and tracker.batch_size == 1
    with pytest.raises(ConfigError, match="client id"):
        carrier_rest.RestTracker(profile, build, conn=ConnectionInfo("c", "http"))
    with pytest.raises(ConfigError, match="API key"):
        carrier_rest.RestTracker(carrier_profile.load("dhl"), build, conn=ConnectionInfo("c", "http"))
