"""Alerts through Airflow's notifiers, sent to a local SMTP sink: a failed DAG run, a run that
dead-lettered new records past the threshold; known dead letters and a threshold stay quiet; any
other notifier by configuration."""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from tests.fixtures.factories import batch, customer, order
from tests.ops.smtp_sink import SmtpSink
from waybill.ops import alerts
from waybill.store.store import Store


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    """The SMTP sink, the waybill_smtp Connection pointing at it and one recipient."""
    server = SmtpSink().start()
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": server.port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "waybill@localhost", "timeout": 10}}))
    monkeypatch.setenv("WAYBILL_ALERT_TO", "oncall@example.com")
    yield server
    server.stop()


@pytest.fixture
def run_with_a_dead_letter() -> dict[str, Any]:
    """The hub after a run of erp_sync that dead-lettered an order in an unknown currency, and the
    context Airflow hands a DAG callback of that run."""
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    store = Store.open()
    store.upgrade()
    store.apply(batch(customer("1"), order("SO1", "1"), order("SO2", "1", currency="XXX")))
    store.record_flow_run("erp_sync", "scheduled__1", "success", detail="sync try 1",
                          counts={"received": 3, "stored": 2, "dead": 1})
    failed = SimpleNamespace(task_id="sync", map_index=-1, state="failed")
    run = SimpleNamespace(run_id="scheduled__1", dag_id="erp_sync", start_date=started,
                          get_task_instances=lambda: [failed])
    from airflow.sdk import DAG

    return {"dag": DAG("erp_sync", schedule=None), "dag_run": run, "run_id": run.run_id,
            "reason": "task_failure"}


def body(message: Any) -> str:
    return message.get_payload()[0].get_payload(decode=True).decode()


def test_a_failed_run_is_mailed_with_its_failed_tasks_and_the_hub_record(sink, run_with_a_dead_letter):
    store = Store.open()
    store.record_flow_run("erp_sync", "scheduled__1", "failed", detail="sync try 2: ConnectionError: {refused}")
    alerts.on_dag_failure(run_with_a_dead_letter)
    [mail] = sink.messages
    assert mail["Subject"] == "[waybill] erp_sync failed" and mail["To"] == "oncall@example.com"
    text = body(mail)
    assert "DAG erp_sync run scheduled__1 failed: task_failure" in text
    assert "task sync: failed" in text and "ConnectionError: {refused}" in text


def test_new_dead_letters_past_the_threshold_are_mailed_with_their_reasons(sink, run_with_a_dead_letter):
    alerts.on_dag_success(run_with_a_dead_letter)
    [mail] = sink.messages
    assert mail["Subject"] == "[waybill] erp_sync: 1 new dead letter(s)"
    text = body(mail)
    assert "unknown currency 'XXX' at order.currency" in html.unescape(text) and "waybill replay ID" in text


def test_dead_letters_are_logged_at_warning(caplog):
    store = Store.open()
    store.upgrade()
    with caplog.at_level(logging.INFO, logger="waybill"):
        store.apply(batch(customer("1"), order("SO2", "1", currency="XXX")))
    [dead] = [r for r in caplog.records if r.getMessage().startswith("dead-lettered")]
    assert dead.levelno == logging.WARNING and "order.currency" in dead.getMessage()


def test_known_dead_letters_and_a_higher_threshold_stay_quiet(sink, run_with_a_dead_letter, monkeypatch):
    monkeypatch.setenv("WAYBILL_ALERT_KNOWN", "unknown currency 'XXX'")
    alerts.on_dag_success(run_with_a_dead_letter)
    monkeypatch.delenv("WAYBILL_ALERT_KNOWN")
    monkeypatch.setenv("WAYBILL_ALERT_DEAD_LETTERS", "1")
    alerts.on_dag_success(run_with_a_dead_letter)
    assert sink.messages == []
    monkeypatch.setenv("WAYBILL_ALERT_DEAD_LETTERS", "0")
    alerts.on_dag_success(run_with_a_dead_letter)
    assert len(sink.messages) == 1


def test_without_a_recipient_the_alert_is_only_logged(sink, run_with_a_dead_letter, monkeypatch, caplog):
    monkeypatch.delenv("WAYBILL_ALERT_TO")
    with caplog.at_level(logging.WARNING, logger="waybill.alerts"):
        alerts.on_dag_failure(run_with_a_dead_letter)
    assert sink.messages == []
    assert "alert-not-sent" in caplog.text and "WAYBILL_ALERT_TO" in caplog.text


class Collecting:
    """A notifier of another kind (as Slack's is), configured by class path and arguments."""

    sent: ClassVar[list[tuple[str, str]]] = []

    def __init__(self, text: str, channel: str) -> None:
        self.text, self.channel = text, channel

    def __call__(self, _context: dict[str, Any]) -> None:
        Collecting.sent.append((self.channel, self.text))


def test_another_notifier_by_configuration(run_with_a_dead_letter, monkeypatch):
    monkeypatch.setenv("WAYBILL_ALERT_NOTIFIER", f"{__name__}:Collecting")
    monkeypatch.setenv("WAYBILL_ALERT_NOTIFIER_ARGS", json.dumps({"channel": "#oncall"}))
    alerts.on_dag_failure(run_with_a_dead_letter)
    [(channel, text)] = Collecting.sent
    assert channel == "#oncall" and "[waybill] erp_sync failed" in text
