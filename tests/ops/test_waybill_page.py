"""The Waybill page in a real Airflow api-server, driven by headless Chromium (Debian's chromium and
chromium-driver, installed here with apt-get when missing and run as root): log in through
Airflow's login page, find "Waybill" in the UI, check the page's numbers against the hub, replay
a dead letter with its button, and save a screenshot (WAYBILL_SCREENSHOTS, else the test's folder)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sim import erp as erp_sim
from sim import tms as tms_sim
from sim import wms as wms_sim
from tests.fixtures.parts import missing
from tests.fixtures.sources import connect
from tests.ops.test_celery import free_port
from waybill.flows import erp_sync, tms_delivery, wms_stock
from waybill.ops import airflow_home
from waybill.ops import serve as airflow_serve
from waybill.store import message_log, tables
from waybill.store.message_log import MessageFilter
from waybill.store.store import Store

pytestmark = [pytest.mark.airflow, pytest.mark.e2e, pytest.mark.slow]
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver when missing (root only); elsewhere skip with
    the reason, except in CI, where a missing browser is a failure."""
    if Path(CHROMIUM).exists() and Path(DRIVER).exists():
        return
    if os.geteuid() != 0:
        missing("chromium and chromium-driver are missing and installing them needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, timeout=900)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], env=env, check=True,
                   capture_output=True, timeout=1800)


@pytest.fixture
def browser() -> Iterator[object]:
    ensure_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,2200"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def api_server(tmp_path: Path, waybill_env: Path) -> Iterator[str]:
    """Airflow's api-server alone (with Waybill's plugin) on a free loopback port; its URL."""
    home = tmp_path / "airflow"
    env = {**os.environ, **airflow_home.environment(home)}
    airflow_home.migrate(env, home / "migrate.log")
    port = free_port()
    log = (tmp_path / "api-server.log").open("ab")
    commands = {"api-server": airflow_serve.components("127.0.0.1", port)["api-server"]}
    running = airflow_serve.Components(airflow_serve.environment(env, port), commands, log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while (airflow_serve.health(port) or {}).get("metadatabase", {}).get("status") != "healthy":
            assert not running.exited(), (tmp_path / "api-server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the api-server did not answer within 180 s"
            time.sleep(1)
        yield url
    finally:
        running.stop()
        log.close()


def password(tmp_path: Path) -> str:
    generated = tmp_path / "airflow" / "simple_auth_manager_passwords.json.generated"
    return str(json.loads(generated.read_text())["admin"])


def wait(driver, condition, timeout: float = 60):  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_the_waybill_page_logs_in_shows_the_hub_and_replays(tmp_path, api_server, browser, data, serve, sim_folder,
                                                            monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    # the hub: the ERP's customers, delivery events pulled before their shipments, dead-lettered at
    # once (WAYBILL_PARK_HOURS=0: they wait no time for their shipment), then the shipments
    monkeypatch.setenv("WAYBILL_PARK_HOURS", "0")
    store = Store.open()
    store.upgrade()
    connect(monkeypatch, "waybill_erp", serve(erp_sim, sim_folder, data), page_size=100)
    connect(monkeypatch, "waybill_wms", serve(wms_sim, sim_folder, data), page_size=500)
    connect(monkeypatch, "waybill_tms", serve(tms_sim, sim_folder, data), page_size=500)
    erp_sync.run(store, push=False)
    tms_delivery.run(store)
    wms_stock.run(store)
    with store.engine.connect() as conn:
        dead_total = message_log.count(conn, MessageFilter(state="dead"))
        processed = message_log.count(conn, MessageFilter(state="processed"))
        events = tables.count(conn, "delivery_event")
    assert dead_total > 300

    anonymous = requests.get(f"{api_server}/waybill/api/summary", timeout=30)
    assert anonymous.status_code == 401  # Airflow's authentication guards the page

    browser.get(f"{api_server}/waybill/")  # not logged in: Airflow's login page, then back
    wait(browser, lambda d: d.find_elements(By.NAME, "username"))
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(password(tmp_path), Keys.ENTER)
    wait(browser, lambda d: "/auth/login" not in d.current_url)

    browser.get(f"{api_server}/plugin/waybill")  # the UI's navigation entry, the page in its frame
    frame = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "iframe[src*='/waybill/']"))[0]
    shots = Path(os.environ.get("WAYBILL_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    browser.switch_to.frame(frame)
    wait(browser, lambda d: d.find_elements(By.ID, "dead-total"))
    browser.switch_to.default_content()
    browser.save_screenshot(str(shots / "waybill-in-airflow.png"))

    browser.get(f"{api_server}/waybill/")
    assert browser.find_element(By.ID, "dead-total").text == f"{dead_total:,}"
    assert browser.find_element(By.CSS_SELECTOR, "[data-total='processed']").text == f"{processed:,}"
    assert browser.find_element(By.ID, "chart").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, "[data-files-in='acme']").text == "0"

    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#dead tbody tr")
               if "which never came" in r.text)
    dead_id = int(row.find_element(By.TAG_NAME, "td").text)
    row.find_element(By.TAG_NAME, "button").click()
    notice = wait(browser, lambda d: d.find_elements(By.ID, "notice"))[0].text
    # the event, and the status of its shipment it moves
    assert notice == f"message {dead_id}: replayed: 1 inserted, 1 updated, 0 unchanged"
    assert browser.find_element(By.ID, "dead-total").text == f"{dead_total - 1:,}"
    with store.engine.connect() as conn:
        assert message_log.get(conn, dead_id).state == "replayed"
        assert tables.count(conn, "delivery_event") == events + 1
    browser.save_screenshot(str(shots / "waybill-page.png"))
    assert (shots / "waybill-page.png").stat().st_size > 10_000
