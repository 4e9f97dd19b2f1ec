"""Sync benchmark: ERP -> hub orders per second beside the ERP simulator's raw page serving rate.

The Odoo simulator runs in its own process with 100k orders (about 350k order lines). Two readers
take every order, in pages of --page-size, with the same (write_date, id) keyset domain and the
same order-line calls:
1. the limit: a bare client (requests + json.loads, nothing else) reading the pages;
2. waybill.flows.erp_sync pulling the orders stream into a fresh SQLite store (connector, mapping,
   validation, apply() with message log, cursor and outbox), after the customers were synced.
Both run --runs times, alternately, against the same simulator; the best run of each counts, so
that a burst of load from elsewhere on the machine does not decide the result. The ratio is the
best sync rate / the best raw rate. Target >= 0.5. Each sync line also shows where its time goes:
mapping (in the read-ahead thread, beside fetching, while the previous page is stored) and the hub's store.apply.

Run: .venv/bin/python bench/sync.py [--orders 100000] [--page-size 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from waybill.connectors import erp
from waybill.flows import erp_sync, sync
from waybill.store.store import Store

TARGET = 0.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sim(folder: Path, orders: int, customers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sim.erp", "--port", str(port), "--state", str(folder),
                             "--orders", str(orders), "--customers", str(customers)],
                            cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()  # "erp simulator on ..." once the dataset is generated and the port bound
    return proc, f"http://127.0.0.1:{port}"


def raw_read(url: str, page_size: int) -> int:
    """Read every order and its lines as bare as possible; returns the orders read."""
    session = requests.Session()

    def call(model: str, args: list, kwargs: dict) -> list:
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw",
            "args": ["waybill", 2, "admin", model, "search_read", args, kwargs]}}
        return json.loads(session.post(url + "/jsonrpc", json=payload, timeout=60).content)["result"]

    cursor, total = erp.Cursor(), 0
    spec = erp.STREAMS["orders"]
    while True:
        rows = call("sale.order", [cursor.domain(erp.OVERLAP_SECONDS), list(spec.fields)],
                    {"limit": page_size, "order": erp.ORDER})
        if rows:
            call("sale.order.line", [[("order_id", "in", [r["id"] for r in rows])], list(erp.LINE_FIELDS)],
                 {"order": "id asc"})
        cursor.advance(rows, erp.OVERLAP_SECONDS)
        total += len(rows)
        if len(rows) < page_size:
            return total


class TimedStore(Store):
    """The store, with the time spent in apply() added up."""

    apply_s = 0.0

    def apply(self, batch, replay_of=None):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return super().apply(batch, replay_of)
        finally:
            self.apply_s += time.perf_counter() - started


class TimedMap:
    """erp_sync's order mapping, with the time spent in it added up."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, page):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return erp_sync.map_page("erp", "orders", page)
        finally:
            self.seconds += time.perf_counter() - started


def sync_run(db: Path) -> tuple[sync.Pulled, float, float, float]:
    """Customers, then the timed orders pull into a fresh store: (pull, seconds, map s, apply s)."""
    store = TimedStore.open(f"sqlite:///{db}", create_key=True)
    store.upgrade()
    erp_sync.run(store, streams=("customers",), push=False)
    store.apply_s = 0.0
    connector = erp.ErpConnector.from_connection()
    mapper = TimedMap()
    started = time.perf_counter()
    pulled = sync.pull(store, "erp", "orders", fetch=partial(connector.fetch, "orders"), map_page=mapper)
    seconds = time.perf_counter() - started
    store.engine.dispose()
    return pulled, seconds, mapper.seconds, store.apply_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    raw_times: list[float] = []
    syncs: list[tuple[sync.Pulled, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["WAYBILL_HOME"] = str(home / "waybill")
        os.environ["WAYBILL_SECRET_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
        started = time.perf_counter()
        proc, url = start_sim(home / "sim", args.orders, args.customers)
        print(f"simulator: {args.orders:,} orders generated and served in {time.perf_counter() - started:.1f} s")
        try:
            os.environ["AIRFLOW_CONN_WAYBILL_ERP"] = json.dumps({
                "conn_type": "http", "host": "127.0.0.1", "port": int(url.rsplit(":", 1)[1]), "login": "admin",
                "password": "admin", "extra": {"db": "waybill", "page_size": args.page_size, "read_timeout": 120}})
            for run in range(1, args.runs + 1):
                started = time.perf_counter()
                n_raw = raw_read(url, args.page_size)
                raw_times.append(time.perf_counter() - started)
                syncs.append(sync_run(home / f"hub-{run}.db"))
                pulled, seconds, map_s, apply_s = syncs[-1]
                landed = pulled.counts.stored + pulled.counts.dead
                print(f"run {run}: raw pages {n_raw / raw_times[-1]:>8,.0f} orders/s   "
                      f"erp_sync {landed / seconds:>8,.0f} orders/s "
                      f"({seconds:.1f} s: map {map_s:.1f} s, store.apply {apply_s:.1f} s)")
                if landed != n_raw:
                    print(f"MISMATCH: the hub took {landed:,} orders, the simulator has {n_raw:,}")
                    return 1
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    raw_s = min(raw_times)
    pulled, sync_s, map_s, apply_s = min(syncs, key=lambda r: r[1])
    landed = pulled.counts.stored + pulled.counts.dead
    raw_rate, sync_rate = n_raw / raw_s, landed / sync_s
    ratio = sync_rate / raw_rate
    print(f"best of {args.runs}:")
    print(f"raw pages   {n_raw:>9,} orders in {raw_s:6.1f} s  {raw_rate:>8,.0f} orders/s  (the limit)")
    print(f"erp_sync    {landed:>9,} orders in {sync_s:6.1f} s  {sync_rate:>8,.0f} orders/s  "
          f"({pulled.counts.dead} dead-lettered, {pulled.pages} pages)")
    print(f"  of which: map {map_s:.1f} s (in the read-ahead thread, beside fetching), "
          f"store.apply {apply_s:.1f} s ({landed / apply_s:,.0f} orders/s)")
    print(f"ratio {ratio:.2f} (target >= {TARGET})")
    print("target met" if ratio >= TARGET else "TARGET MISSED")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
