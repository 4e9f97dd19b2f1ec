"""`waybill demo`: the whole integration on one machine, through Airflow, in one command.

Starts the simulators (ERP, WMS, TMS, carriers' tracking APIs, CRM, finance, partner SFTP) with their seeded
data, points the AIRFLOW_CONN_WAYBILL_* Connections at them, prepares a SQLite Airflow home under
the working folder (WAYBILL_HOME/airflow), runs every DAG once for real with `dag.test()` (inbound
flows first, then insights, then the publishing flows) and prints what each flow moved.
`--json` prints the same summary machine-readable. `--serve` instead keeps the simulators running
under Airflow's components (waybill.ops.serve), with the DAGs unpaused once Airflow is healthy, to
watch the flows in the Airflow UI.

STARTERS below says how each simulator is started and which Airflow Connections it backs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from waybill.core.config import settings
from waybill.core.errors import ConfigError
from waybill.flows.counts import NAMES
from waybill.ops import airflow_home, count_columns
from waybill.ops import serve as airflow_serve
from waybill.store import flow_runs
from waybill.store.store import Store

#: the DAGs in the order the demo runs them: inbound, then insights, then publishing
FLOWS = ("erp_sync", "wms_stock", "tms_delivery", "carrier_tracking", "edi_inbound",
         "customer_insights", "delivery_exceptions", "crm_publish", "finance_receivables", "edi_outbound")
SEED = 7
#: the dead letters planted in the simulators' data: known, so they raise no alert (waybill.ops.alerts)
PLANTED = "unknown currency 'XXX'|unknown status code 'X9'"

# Each entry starts one simulator (or prepares a local target), registers its shutdown on the stack,
# and returns where it serves and the Connections it backs ({conn_id: Airflow JSON form}), with
# the credentials the simulator was started with.
Starter = Callable[[contextlib.ExitStack, Path, int], tuple[str, dict[str, dict[str, Any]]]]


def simulator(name: str) -> Any:
    """The simulator module `sim.<name>` from the source checkout: simulators are not installed."""
    if (airflow_home.REPO / "sim" / "__init__.py").is_file() and str(airflow_home.REPO) not in sys.path:
        sys.path.insert(0, str(airflow_home.REPO))
    try:
        return importlib.import_module(f"sim.{name}")
    except ModuleNotFoundError as e:
        raise ConfigError(f"the demo needs Waybill's simulators (sim/), found only in a source checkout: {e}") from e


def _http(server: Any, **fields: Any) -> dict[str, Any]:
    return {"conn_type": "http", "host": "127.0.0.1", "port": server.port, **fields}


def _erp(stack: contextlib.ExitStack, folder: Path, seed: int) -> tuple[str, dict[str, dict[str, Any]]]:
    server = stack.enter_context(simulator("erp").start(folder, seed))
    erp = server.handler
    return server.url, {"waybill_erp": _http(server, login=erp.login, password=erp.password, extra={"db": erp.db})}


def _token_api(name: str) -> Starter:
    """WMS and TMS: REST APIs with a bearer token."""
    def start(stack: contextlib.ExitStack, folder: Path, seed: int) -> tuple[str, dict[str, dict[str, Any]]]:
        server = stack.enter_context(simulator(name).start(folder, seed))
        return server.url, {f"waybill_{name}": _http(server, password=server.handler.token)}
    return start


def _carriers(stack: contextlib.ExitStack, _folder: Path, seed: int) -> tuple[str, dict[str, dict[str, Any]]]:
    """The REST tracking APIs of FedEx, UPS (OAuth2) and DHL (API key); each knows the parcels the
    warehouse handed to it in the same data."""
    rest, dataset = simulator("rest_carriers"), simulator("dataset")
    shipments = dataset.generate(seed).shipments
    urls, connections = [], {}
    for name in ("fedex", "ups", "dhl"):
        numbers = [s["tracking_number"] for s in shipments if s["carrier"] == name.upper()]
        server, api = rest.start(name, numbers, seed=seed)
        stack.callback(server.shutdown)
        secret = {"password": api.api_key} if name == "dhl" else {"login": api.tokens.client_id,
                                                                   "password": api.tokens.secret}
        connections[f"waybill_carrier_{name}"] = _http(server, **secret)
        urls.append(f"{name}={server.url}")
    return " ".join(urls), connections


def _crm(stack: contextlib.ExitStack, folder: Path, seed: int) -> tuple[str, dict[str, dict[str, Any]]]:
    server, state = simulator("crm").start(folder, seed=seed)
    stack.callback(server.shutdown)
    return server.url, {"waybill_crm": _http(server, login=state.client_id, password=state.client_secret)}


def _finance(_stack: contextlib.ExitStack, folder: Path, _seed: int) -> tuple[str, dict[str, dict[str, Any]]]:
    """Finance receives its feed in a local folder (no server needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder), {"waybill_finance": {"conn_type": "fs", "extra": {"path": str(folder)}}}


def _sftp(stack: contextlib.ExitStack, folder: Path, seed: int) -> tuple[str, dict[str, dict[str, Any]]]:
    """One partner SFTP server per partner profile; X12 partners find seeded 850s in their inbox."""
    from waybill.edi.profiles import load_profile
    from waybill.flows.partners import partners_dir
    sftp = simulator("sftp")

    connections, urls = {}, []
    password = secrets.token_urlsafe(12)  # the demo's own: it starts the servers and sets the Connections
    for path in sorted(partners_dir().glob("*.toml")):
        profile = load_profile(path)
        orders = SFTP_ORDERS if profile.standard == "X12" else 0
        server = sftp.start(folder / profile.id, password=password, seed=seed, orders=orders)
        stack.callback(server.shutdown)
        connections[f"waybill_partner_{profile.id}"] = {
            "conn_type": "sftp", "host": "127.0.0.1", "port": server.port, "login": profile.id,
            "password": password, "extra": {"host_key": server.host_key_line}}
        urls.append(f"{profile.id}=sftp://127.0.0.1:{server.port}")
    return " ".join(urls), connections


SFTP_ORDERS = 5

#: what the demo starts, in order
STARTERS: dict[str, Starter] = {
    "erp": _erp,
    "wms": _token_api("wms"),
    "tms": _token_api("tms"),
    "carriers": _carriers,
    "crm": _crm,
    "finance": _finance,
    "sftp": _sftp,
}


def register(subparsers: Any) -> None:
    """Add `waybill demo` to the `waybill` command."""
    p = subparsers.add_parser("demo", help="start the simulators and run every DAG once through Airflow")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.add_argument("--seed", type=int, default=SEED, help="seed of the simulators' data")
    p.add_argument("--serve", action="store_true",
                   help="instead: keep the simulators running under Airflow's components (UI on HOST:PORT)")
    p.add_argument("--port", type=int, default=8080, help="with --serve: port of the Airflow UI and API (8080)")
    p.add_argument("--host", default="127.0.0.1",
                   help="with --serve: address the UI and API listen on (127.0.0.1; 0.0.0.0 for every interface)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.serve:
        return serve(seed=args.seed, port=args.port, host=args.host, progress=sys.stderr)
    summary = run(seed=args.seed, progress=sys.stderr)
    print(json.dumps(summary, indent=2) if args.json else render(summary))
    return 0 if all(f["state"] == "success" for f in summary["flows"].values()) else 1


def run(seed: int = SEED, progress: TextIO = sys.stderr) -> dict[str, Any]:
    """Run the demo in this process and return its summary (see `render`)."""
    started = time.monotonic()
    home = settings().home
    os.environ.setdefault("WAYBILL_ALERT_KNOWN", PLANTED)
    store = Store.open(create_key=True)
    store.upgrade()
    af_home = home / "airflow"
    log = af_home / "demo.log"
    summary: dict[str, Any] = {"store": store.engine.url.render_as_string(hide_password=True),
                               "airflow_home": str(af_home), "airflow_log": str(log)}
    with contextlib.ExitStack() as stack:
        summary["simulators"] = start_simulators(stack, home / "sim", seed, progress)
        _say(progress, f"preparing the Airflow home {af_home} (airflow db migrate)")
        airflow_home.prepare(af_home, log)
        summary["flows"] = run_dags(store, log, progress)
    summary["seconds"] = round(time.monotonic() - started, 1)
    return summary


def serve(seed: int = SEED, port: int = 8080, host: str = "127.0.0.1", progress: TextIO = sys.stderr) -> int:
    """Start the simulators and Airflow's components (waybill.ops.serve) on the same home; once they
    report healthy, unpause every DAG so the flows run on their schedules; runs until Ctrl-C, which
    stops everything within serve.STOP_S seconds."""
    airflow_serve.check_port(host, port)
    airflow_serve.stop_on_signals()
    home = settings().home
    os.environ.setdefault("WAYBILL_ALERT_KNOWN", PLANTED)
    Store.open(create_key=True).upgrade()
    af_home = home / "airflow"
    with contextlib.ExitStack() as stack:
        start_simulators(stack, home / "sim", seed, progress)
        _say(progress, f"preparing the Airflow home {af_home} (airflow db migrate)")
        log_path = af_home / "serve.log"
        airflow_home.prepare(af_home, log_path)
        env = airflow_serve.environment({**os.environ, "WAYBILL_HOME": str(home)}, port)
        log = stack.enter_context(log_path.open("ab"))
        _say(progress, f"starting Airflow (api-server, scheduler, dag-processor, triggerer); output in {log_path}")
        running = airflow_serve.Components(env, airflow_serve.components(host, port), log)
        try:
            airflow_serve.wait_healthy(running, port, say=lambda text: _say(progress, text))
            missing = airflow_serve.unpause_when_parsed(FLOWS, running)
            if missing:
                _say(progress, f"not parsed, left paused: {', '.join(missing)} (see {log_path})")
            _say(progress, f"ready: UI on http://{host}:{port}, user admin, password in "
                           f"{af_home / 'simple_auth_manager_passwords.json.generated'}; Ctrl-C stops everything")
            while not running.exited():
                time.sleep(1)
            _say(progress, f"an Airflow component ended: {running.exited()} (see {log_path})")
            return 1
        except KeyboardInterrupt:
            _say(progress, f"stopping Airflow and the simulators (at most {airflow_serve.STOP_S} s)")
            return 0
        finally:
            if not running.stop():
                _say(progress, "a component ignored SIGINT and SIGTERM and was killed")


def start_simulators(stack: contextlib.ExitStack, folder: Path, seed: int, progress: TextIO) -> dict[str, str]:
    """Start every simulator, set the Connections they back; stopped when `stack` closes."""
    urls = {}
    for name, starter in STARTERS.items():
        urls[name], connections = starter(stack, folder / name, seed)
        os.environ.update({f"AIRFLOW_CONN_{cid.upper()}": json.dumps(value) for cid, value in connections.items()})
        _say(progress, f"{name} at {urls[name]}")
    return urls


def run_dags(store: Store, log: Path, progress: TextIO) -> dict[str, dict[str, Any]]:
    """Run each DAG once with dag.test(); Airflow's own output goes to `log`."""
    with _output_to(log):
        from airflow.dag_processing.dagbag import BundleDagBag

        bag = BundleDagBag(str(airflow_home.DAGS_FOLDER), bundle_path=airflow_home.DAGS_FOLDER)
    flows: dict[str, dict[str, Any]] = {}
    for flow in FLOWS:
        dag = bag.dags[flow]
        for t in dag.tasks:  # the demo shows a failure at once instead of waiting for retries
            t.retries = 0
        _say(progress, f"{flow:<20} running")
        t0 = time.monotonic()
        with _output_to(log):
            dag_run = dag.test()
        flows[flow] = {"state": str(dag_run.state), **outcome(store, flow, dag_run.run_id),
                       "seconds": round(time.monotonic() - t0, 1)}
        _say(progress, f"{flow:<20} {flows[flow]['state']}")
    return flows


def outcome(store: Store, flow: str, run_id: str) -> dict[str, Any]:
    """Counts summed over the run's task outcomes recorded in the hub, and the failures' details."""
    totals = dict.fromkeys(NAMES, 0)
    errors = []
    with store.engine.connect() as conn:
        runs = flow_runs.of_run(conn, flow, run_id)
    for run in runs:
        if run.state == "failed":
            errors.append(run.detail)
        for k, v in (run.counts or {}).items():
            if k in totals:
                totals[k] += int(v)
    return {**totals, "errors": errors} if errors else totals


def render(summary: dict[str, Any]) -> str:
    """The summary as a table per flow plus where to look next."""
    lines = [f"{'flow':<20} {'state':<14} {count_columns.header()}"]
    for flow, r in summary["flows"].items():
        lines.append(f"{flow:<20} {r['state']:<14} {count_columns.cells(r)}")
        lines += [f"  error: {e}" for e in r.get("errors", [])]
    lines.append("")
    lines.append("simulators: " + ", ".join(f"{n} {u}" for n, u in summary["simulators"].items()))
    lines += [
        f"done in {summary['seconds']} s (dead = dead-lettered records)",
        "",
        "where to look next:",
        f"  waybill status                   entities, messages, outbox and the runs above ({summary['store']})",
        "  waybill messages --state dead    what was dead-lettered and why; `waybill replay ID` after a fix",
        f"  Airflow output of this run:      {summary['airflow_log']}",
        "  the Airflow UI:                  waybill demo --serve (README.md, 'Running in Airflow')",
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to `log` meanwhile."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _say(progress: TextIO, text: str) -> None:
    print(f"waybill demo: {text}", file=progress, flush=True)
