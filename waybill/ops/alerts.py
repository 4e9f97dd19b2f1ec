"""Alerts to the on-call engineer, through an Airflow notifier: a DAG run that failed, and a DAG run
that dead-lettered more records than allowed.

Configuration (environment of the Airflow components):

WAYBILL_ALERT_NOTIFIER       "smtp" (default: Airflow's SmtpNotifier) or "package.module:Class" of any
                             Airflow notifier, e.g. airflow.providers.slack.notifications.slack:SlackNotifier
WAYBILL_ALERT_NOTIFIER_ARGS  JSON keyword arguments of that notifier (e.g. {"slack_conn_id": "...",
                             "channel": "#oncall"}); the message goes in as `text` (or, for SMTP,
                             `subject` and `html_content`)
WAYBILL_ALERT_TO             SMTP recipients, comma-separated; without them (and without "to" in the
                             arguments) no e-mail is sent and the alert is only logged
WAYBILL_ALERT_SMTP_CONN_ID   the SMTP Connection (default waybill_smtp)
WAYBILL_ALERT_DEAD_LETTERS   a run alerts when it dead-letters more than this many new records (0)
WAYBILL_ALERT_KNOWN          reasons of dead letters that are known and not counted, "|"-separated
                             parts of the reason (the demo names its planted ones)

A DAG run's new dead letters are the "dead" counts its tasks recorded in the hub
(waybill.ops.callbacks); the reasons shown are those of the dead letters logged since the run began.
"""

from __future__ import annotations

import html
import importlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from waybill.core.logs import event, get_logger

log = get_logger("alerts")

#: dead-letter reasons an alert lists at most
SHOWN = 20


@dataclass(frozen=True)
class Alert:
    subject: str
    lines: list[str]


def on_dag_failure(context: Mapping[str, Any]) -> None:
    """DAG-level failure callback: which run failed, its failed tasks and the reason."""
    run = context.get("dag_run")
    dag_id = _dag_id(context)
    run_id = getattr(run, "run_id", None) or context.get("run_id", "?")
    lines = [f"DAG {dag_id} run {run_id} failed: {context.get('reason') or 'a task failed'}."]
    lines += [f"task {ti.task_id}{_index(ti)}: {ti.state}" for ti in _failed_tasks(run)]
    lines += [f"hub: {r.detail}" for r in _recorded(dag_id, run_id) if r.state == "failed" and r.detail]
    lines.append("Look at the task logs in Airflow and at `waybill status`.")
    send(Alert(f"[waybill] {dag_id} failed", lines), context)


def on_dag_success(context: Mapping[str, Any]) -> None:
    """DAG-level success callback: alert when the run dead-lettered more new records than allowed."""
    try:
        alert = dead_letter_alert(context)
    except Exception as err:  # the hub unreachable: nothing to count, and the run itself succeeded
        event(log, "alert-hub-unreachable", severity=logging.WARNING, error=type(err).__name__)
        return
    if alert is not None:
        send(alert, context)


def dead_letter_alert(context: Mapping[str, Any]) -> Alert | None:
    """The alert for the run's new dead letters past the threshold (known reasons not counted)."""
    from waybill.store import message_log
    from waybill.store.message_log import MessageFilter
    from waybill.store.store import Store

    run = context.get("dag_run")
    dag_id = _dag_id(context)
    run_id = getattr(run, "run_id", None) or context.get("run_id", "?")
    new = sum((r.counts or {}).get("dead", 0) for r in _recorded(dag_id, run_id) if r.state == "success")
    if not new:
        return None
    since = getattr(run, "start_date", None)
    store = Store.open()
    with store.engine.connect() as conn:
        letters = message_log.find(conn, where=MessageFilter(
            state="dead", since=since.replace(tzinfo=None) if since else None), limit=None)
    known = [m for m in letters if _known(m.reason)]
    unknown = max(0, new - len(known))
    threshold = int(os.environ.get("WAYBILL_ALERT_DEAD_LETTERS", "0"))
    if unknown <= threshold:
        return None
    listed = [m for m in letters if not _known(m.reason)][:SHOWN]
    lines = [f"DAG {dag_id} run {run_id} dead-lettered {new} record(s), {unknown} not known "
             f"(threshold {threshold})."]
    lines += [f"message {m.id} {m.system}/{m.stream} {m.key}: {m.reason}"
              + (f" at {m.field_path}" if m.field_path else "") for m in listed]
    lines.append("Find them with `waybill messages --state dead`, fix the mapping or the data, then "
                 "`waybill replay ID`.")
    return Alert(f"[waybill] {dag_id}: {unknown} new dead letter(s)", lines)


def send(alert: Alert, context: Mapping[str, Any]) -> bool:
    """Send the alert through the configured notifier; an alert that cannot be sent is logged (a
    callback must not fail the run's bookkeeping)."""
    event(log, "alert", severity=logging.WARNING, subject=alert.subject, lines=alert.lines)
    try:
        notifier = build_notifier(alert)
        if notifier is None:
            event(log, "alert-not-sent", severity=logging.WARNING, subject=alert.subject,
                  reason="no recipient: set WAYBILL_ALERT_TO or WAYBILL_ALERT_NOTIFIER")
            return False
        notifier(dict(context))
    except Exception as err:  # any notifier's failure: logged, never raised into Airflow
        event(log, "alert-failed", severity=logging.ERROR, subject=alert.subject, error=f"{type(err).__name__}: {err}")
        return False
    return True


def build_notifier(alert: Alert) -> Any:
    """The configured Airflow notifier carrying the alert, or None when SMTP has no recipient."""
    name = os.environ.get("WAYBILL_ALERT_NOTIFIER", "smtp")
    args: dict[str, Any] = json.loads(os.environ.get("WAYBILL_ALERT_NOTIFIER_ARGS", "{}"))
    if name == "smtp":
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        to = args.pop("to", None) or [a.strip() for a in os.environ.get("WAYBILL_ALERT_TO", "").split(",")
                                     if a.strip()]
        if not to:
            return None
        body = "<br>".join(html.escape(line) for line in alert.lines)
        args.setdefault("smtp_conn_id", os.environ.get("WAYBILL_ALERT_SMTP_CONN_ID", "waybill_smtp"))
        # the text is ours, not a template: keep Jinja away from braces in error messages
        return SmtpNotifier(to=to, subject=_raw(alert.subject), html_content=_raw(body), **args)
    module, _, cls = name.partition(":")
    notifier_class = getattr(importlib.import_module(module), cls)
    return notifier_class(text=_raw("\n".join([alert.subject, *alert.lines])), **args)


def _raw(text: str) -> str:
    return "{% raw %}" + text.replace("{% endraw %}", "") + "{% endraw %}"


def _known(reason: str | None) -> bool:
    parts = [p for p in os.environ.get("WAYBILL_ALERT_KNOWN", "").split("|") if p]
    return bool(reason) and any(p in (reason or "") for p in parts)


def _dag_id(context: Mapping[str, Any]) -> str:
    dag = context.get("dag")
    return str(getattr(dag, "dag_id", None) or getattr(context.get("dag_run"), "dag_id", "?"))


def _index(ti: Any) -> str:
    index = getattr(ti, "map_index", -1)
    return f"[{index}]" if index is not None and index >= 0 else ""


def _failed_tasks(run: Any) -> list[Any]:
    try:
        return [ti for ti in run.get_task_instances() if ti.state in ("failed", "upstream_failed")]
    except Exception:  # a context without its run's task instances (e.g. the run is gone): say less
        return []


def _recorded(dag_id: str, run_id: str) -> list[Any]:
    from waybill.store import flow_runs
    from waybill.store.store import Store

    try:
        with Store.open().engine.connect() as conn:
            return flow_runs.of_run(conn, dag_id, run_id)
    except Exception as err:  # the hub unreachable: the alert still goes out, with less detail
        event(log, "alert-hub-unreachable", severity=logging.WARNING, error=type(err).__name__)
        return []
