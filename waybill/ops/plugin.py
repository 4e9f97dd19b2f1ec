"""The Waybill page in the Airflow UI: an Airflow 3 plugin that mounts a FastAPI app at /waybill and
adds "Waybill" to the UI's navigation (shown inside the UI at /plugin/waybill).

The page shows the last days' messages by day, source and state (with a chart), the flow runs,
the dead letters with their reasons and a replay button, the outbox backlog per target, the
partners and their acknowledgments, and the last reconciliation. It uses Airflow's own
authentication: the JWT of the logged-in user (the UI's cookie, or a bearer token); a replay
needs the right to edit DAGs and carries a token bound to the user's session (no cross-site posts).
`/waybill/api/summary` gives the same numbers as JSON.

Airflow loads it from the plugins folder (plugins/waybill_plugin.py, set by waybill.ops.airflow_home).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
from collections import defaultdict
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from waybill.core.errors import WaybillError
from waybill.flows import replay as replays
from waybill.flows.partners import load_partner, partner_ids
from waybill.store import flow_runs, message_log, outbox, partner_activity, reconcile
from waybill.store.message_log import MessageFilter
from waybill.store.store import Store, utcnow

PREFIX = "/waybill"
#: days of messages and flow runs the page shows
DAYS = 7
#: dead letters listed (the total is shown beside them)
DEAD_SHOWN = 50
#: hours after which an unacknowledged interchange is overdue
ACK_HOURS = 24
STATE_COLOURS = {"processed": "#2f855a", "duplicate": "#718096", "received": "#3182ce", "rejected": "#dd6b20",
                 "dead": "#c53030", "replayed": "#805ad5"}


def summary(store: Store, days: int = DAYS) -> dict[str, Any]:
    """Everything the page shows, as plain data (also `/waybill/api/summary`)."""
    since = utcnow() - dt.timedelta(days=days)
    overdue_before = utcnow() - dt.timedelta(hours=ACK_HOURS)
    partners = [load_partner(i) for i in partner_ids()]
    with store.engine.connect() as conn:
        activity = message_log.activity(conn, since)
        dead_total = message_log.count(conn, MessageFilter(state="dead"))
        dead = message_log.find(conn, where=MessageFilter(state="dead"), limit=DEAD_SHOWN)
        backlog = outbox.backlog(conn)
        delivered = {t: per.get("delivered", 0) for t, per in outbox.counts(conn).items()}
        runs = flow_runs.since(conn, since)
        exchanges = {p.id: partner_activity.activity(conn, system=p.system, party_id=p.profile.partner.id,
                                                     overdue_before=overdue_before) for p in partners}
        last = reconcile.last(conn)
    by_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a in activity:
        by_day[a.day][a.state] += a.messages
        by_source[f"{a.system}/{a.stream}"][a.state] += a.messages
    flows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in runs:
        flows[r.flow][r.state] += 1
        for name in ("received", "stored", "dead", "published"):
            flows[r.flow][name] += int((r.counts or {}).get(name, 0))
    return {
        "days": days, "since": since.isoformat(timespec="seconds"),
        "by_day": {d: dict(v) for d, v in sorted(by_day.items())},
        "by_source": {s: dict(v) for s, v in sorted(by_source.items())},
        "flows": {f: dict(v) for f, v in sorted(flows.items())},
        "dead_total": dead_total, "dead": [asdict(m) for m in dead],
        "outbox": [asdict(b) for b in backlog], "delivered": delivered,
        "partners": [{"partner": p.id, "standard": p.profile.standard, "expects_acks": p.profile.expects_acks,
                      **asdict(exchanges[p.id])} for p in partners],
        "reconciliation": {"id": last.id, "at": last.at, "drift": last.drift, **last.report} if last else None,
    }


# --- authentication ---------------------------------------------------------------------------------------


async def _user(request: Request) -> Any:
    """The logged-in Airflow user (bearer token, else the UI's session cookie), or None."""
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    try:
        return await resolve_user_from_token(token)
    except HTTPException:
        return None


def _may_replay(user: Any) -> bool:
    from airflow.api_fastapi.app import get_auth_manager

    return bool(get_auth_manager().is_authorized_dag(method="PUT", user=user))


def _form_token(request: Request) -> str:
    """A token for the page's forms bound to the session cookie: another site cannot read it."""
    session = request.cookies.get("_token", "")
    return hashlib.sha256(f"waybill/replay/{session}".encode()).hexdigest()[:32]


def _login(request: Request) -> RedirectResponse:
    from airflow.api_fastapi.app import get_auth_manager

    return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), status_code=303)


# --- the app ------------------------------------------------------------------------------------------------


def make_app() -> FastAPI:
    """The FastAPI app mounted at PREFIX."""
    app = FastAPI(title="Waybill", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    async def page(request: Request, replayed: str | None = None, outcome: str | None = None) -> Response:
        user = await _user(request)
        if user is None:
            return _login(request)
        data = summary(Store.open())
        return HTMLResponse(render(data, token=_form_token(request), may_replay=_may_replay(user),
                                   notice=f"message {replayed}: {outcome}" if replayed else None))

    @app.get("/api/summary")
    async def api_summary(request: Request) -> Response:
        if await _user(request) is None:
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        return JSONResponse(_jsonable(summary(Store.open())))

    @app.post("/replay")
    async def replay(request: Request, message_id: int = Form(...), token: str = Form("")) -> Response:
        user = await _user(request)
        if user is None:
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
        if not bearer and not hmac.compare_digest(token, _form_token(request)):
            return JSONResponse({"detail": "the page's token is missing or stale: reload the page"}, status_code=403)
        if not _may_replay(user):
            return JSONResponse({"detail": "replaying needs the right to edit DAGs"}, status_code=403)
        outcome = replay_one(Store.open(), message_id)
        return RedirectResponse(f"{PREFIX}/?{urlencode({'replayed': message_id, 'outcome': outcome})}",
                                status_code=303)

    return app


def replay_one(store: Store, message_id: int) -> str:
    """Replay one dead record (waybill.flows.replay) and say what happened, in a few words."""
    try:
        with store.engine.connect() as conn:
            plan = replays.plan_for(conn, message_id)
        if plan is None:
            return "nothing to replay (already replayed)"
        result = replays.run_plan(store, plan).result
    except WaybillError as err:
        return f"not replayed: {err}"
    if result.dead or result.rejected:
        return f"failed again ({result.dead} dead): see its new dead letter"
    return f"replayed: {result.inserted} inserted, {result.updated} updated, {result.unchanged} unchanged"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


# --- HTML ---------------------------------------------------------------------------------------------------


def render(data: dict[str, Any], *, token: str, may_replay: bool, notice: str | None = None) -> str:
    """The page as one HTML document (no scripts: tables, a form per replay and an SVG chart)."""
    parts = [_HEAD, "<h1>Waybill</h1>"]
    if notice:
        parts.append(f'<p class="notice" id="notice">{_e(notice)}</p>')
    parts += [_messages(data), _flows(data), _dead(data, token, may_replay), _outbox(data), _partners(data),
              _reconciliation(data), "</body></html>"]
    return "\n".join(parts)


def _e(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[str]], *, ident: str) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    if not rows:
        rows = [["none", *[""] * (len(headers) - 1)]]
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{ident}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _messages(data: dict[str, Any]) -> str:
    states = [s for s in STATE_COLOURS if any(s in v for v in data["by_source"].values())]
    rows = [[_e(source), *(f'<span data-count="{_e(source)}/{s}">{per.get(s, 0):,}</span>' for s in states)]
            for source, per in data["by_source"].items()]
    totals = {s: sum(per.get(s, 0) for per in data["by_source"].values()) for s in states}
    rows.append(["<b>all</b>", *(f'<b data-total="{s}">{totals[s]:,}</b>' for s in states)])
    return (f"<h2>Messages of the last {data['days']} days (UTC)</h2>" + _chart(data["by_day"])
            + _table(["source", *states], rows, ident="messages"))


def _chart(by_day: dict[str, dict[str, int]]) -> str:
    """Stacked bars: one per day, one colour per state."""
    if not by_day:
        return "<p>no messages in these days</p>"
    width, height, bar = 60 * len(by_day) + 40, 180, 36
    top = max(sum(v.values()) for v in by_day.values()) or 1
    shapes = []
    for i, (day, per) in enumerate(by_day.items()):
        x, y = 30 + i * 60, float(height - 20)
        for state, colour in STATE_COLOURS.items():
            n = per.get(state, 0)
            if n:
                h = max(1.0, (height - 40) * n / top)
                y -= h
                shapes.append(f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{h:.1f}" fill="{colour}">'
                              f"<title>{day} {state}: {n:,}</title></rect>")
        shapes.append(f'<text x="{x + bar / 2}" y="{height - 5}" text-anchor="middle">{day[5:]}</text>')
        shapes.append(f'<text x="{x + bar / 2}" y="{y - 4:.1f}" text-anchor="middle">{sum(per.values()):,}</text>')
    legend = " ".join(f'<span class="key" style="background:{c}"></span>{s}' for s, c in STATE_COLOURS.items())
    return (f'<svg id="chart" width="{width}" height="{height}" role="img" aria-label="messages per day and state">'
            + "".join(shapes) + f'</svg><p class="legend">{legend}</p>')


def _flows(data: dict[str, Any]) -> str:
    rows = [[_e(flow), *(f"{per.get(k, 0):,}" for k in ("success", "failed", "received", "stored", "dead",
                                                        "published"))]
            for flow, per in data["flows"].items()]
    return ("<h2>Flow runs (task outcomes recorded in the hub)</h2>"
            + _table(["flow", "succeeded", "failed", "received", "stored", "dead", "published"], rows, ident="flows"))


def _dead(data: dict[str, Any], token: str, may_replay: bool) -> str:
    rows = []
    for m in data["dead"]:
        reason = _e(m["reason"]) + (f" at <code>{_e(m['field_path'])}</code>" if m["field_path"] else "")
        action = (f'<form method="post" action="{PREFIX}/replay"><input type="hidden" name="message_id" '
                  f'value="{m["id"]}"><input type="hidden" name="token" value="{token}">'
                  f'<button type="submit" id="replay-{m["id"]}">Replay</button></form>') if may_replay else "-"
        rows.append([str(m["id"]), _e(m["received_at"]), _e(f"{m['system']}/{m['stream']}"), _e(m["key"]), reason,
                     action])
    shown = f"{len(data['dead']):,} of <span id=\"dead-total\">{data['dead_total']:,}</span>"
    return (f"<h2>Dead letters ({shown})</h2><p>Fix the mapping or the data, then replay: only the records "
            "that failed are applied again.</p>"
            + _table(["id", "received (UTC)", "source", "record", "reason", ""], rows, ident="dead"))


def _outbox(data: dict[str, Any]) -> str:
    rows = [[_e(b["target"]), _e(b["condition"]), f'<span data-outbox="{_e(b["target"])}/{_e(b["condition"])}">'
             f'{b["rows"]:,}</span>', _e(b["oldest"]), _e(b["reason"])] for b in data["outbox"]]
    delivered = ", ".join(f"{t} {n:,}" for t, n in sorted(data["delivered"].items())) or "none"
    return (f"<h2>Outbox backlog per target</h2><p>delivered: {delivered}</p>"
            + _table(["target", "condition", "rows", "oldest (UTC)", "reason"], rows, ident="outbox"))


def _partners(data: dict[str, Any]) -> str:
    rows = [[_e(p["partner"]), _e(p["standard"]), f'<span data-files-in="{_e(p["partner"])}">{p["files_in"]:,}</span>',
             f"{p['files_in_refused']:,}", _e(p["last_file_in"]), f"{p['sent']:,}", f"{p['acknowledged']:,}",
             _e(p["last_ack_at"]), _e(p["last_ack_state"]),
             f"{len(p['overdue']):,}" if p["expects_acks"] else "not expected"] for p in data["partners"]]
    return (f"<h2>Partners and their acknowledgments (overdue after {ACK_HOURS} h)</h2>"
            + _table(["partner", "standard", "files in", "refused", "last file in", "sent", "acknowledged",
                      "last ack", "ack", "overdue"], rows, ident="partners"))


def _reconciliation(data: dict[str, Any]) -> str:
    last = data["reconciliation"]
    if last is None:
        return "<h2>Last reconciliation</h2><p>none yet: run <code>waybill reconcile</code></p>"
    verdict = "DRIFT" if last["drift"] else "in step"
    rows = [[_e(c["entity"]), _e(f"{c['left']} / {c['right']}"),
             _e(" / ".join(str(c["counts"][s]) for s in (c["left"], c["right"]))), f"{len(c['differences']):,}",
             _e("; ".join(f"{d['key']}: {d['problem']}" for d in c["differences"][:5]))] for c in last["checks"]]
    return (f'<h2>Last reconciliation</h2><p id="reconciliation">{last["id"]} at {_e(last["at"])}: '
            f"<b>{verdict}</b></p>" + _table(["entity", "between", "records", "differences", "first differences"],
                                            rows, ident="checks"))


_HEAD = """<!doctype html><html><head><meta charset="utf-8"><title>Waybill</title><style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1a202c}h2{margin-top:2rem;font-size:1.1rem}
table{border-collapse:collapse;font-size:.85rem}th,td{border-bottom:1px solid #e2e8f0;padding:.3rem .6rem;
text-align:left;vertical-align:top}th{background:#f7fafc}svg text{font-size:11px}.key{display:inline-block;
width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}.notice{background:#ebf8ff;padding:.5rem}button{cursor:pointer}
</style></head><body>"""


class WaybillPlugin(AirflowPlugin):
    """Mounts the page's app and puts "Waybill" in the UI's navigation."""

    # AirflowPlugin declares these as plain list attributes that Airflow edits in place: a ClassVar
    # annotation would conflict with its declaration, hence the two noqa.
    name = "waybill"
    fastapi_apps = [{"app": make_app(), "url_prefix": PREFIX, "name": "Waybill"}]  # noqa: RUF012
    external_views = [{"name": "Waybill", "href": f"{PREFIX}/", "destination": "nav",  # noqa: RUF012
                       "url_route": "waybill", "category": "browse"}]
