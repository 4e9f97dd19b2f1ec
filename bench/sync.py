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

With --odoo the same comparison runs against a real Odoo 19 (../shared/odoo19, or
WAYBILL_ODOO_DIR; started from its demo snapshot on a fresh database) over JSON-2, after
--orders orders (2 lines each) were created through its API; the bare client then makes the same
calls as the connector per page (orders, their lines, their partners, their products).

Run: .venv/bin/python bench/sync.py [--orders 100000] [--page-size 1000] [--runs 3]
     .venv/bin/python bench/sync.py --odoo [--orders 3000] [--page-size 500]
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
from waybill.connectors.connection import parse
from waybill.connectors.erp import ErpConnector
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


class RawClient:
    """A bare client of the ERP: requests + json.loads, nothing else, JSON-RPC or JSON-2."""

    def __init__(self, url: str, db: str, protocol: str, secret: str) -> None:
        self.url, self.db, self.protocol, self.secret = url, db, protocol, secret
        self.session = requests.Session()
        if protocol == "json2":
            self.session.headers.update({"Authorization": f"bearer {secret}", "X-Odoo-Database": db})

    def search_read(self, model: str, domain: list, fields: list, **kwargs: object) -> list:
        if self.protocol == "json2":
            body = {"domain": domain, "fields": fields, **kwargs}
            return json.loads(self.session.post(f"{self.url}/json/2/{model}/search_read", json=body,
                                                timeout=120).content)
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw",
            "args": [self.db, 2, self.secret, model, "search_read", [domain, fields], kwargs]}}
        return json.loads(self.session.post(self.url + "/jsonrpc", json=payload, timeout=120).content)["result"]


def raw_read(client: RawClient, page_size: int) -> int:
    """Read every order and what the connector reads with it, as bare as possible; returns the
    orders read."""
    cursor, total = erp.Cursor(), 0
    spec = erp.STREAMS["orders"]
    client.search_read("uom.uom", [], list(erp.UOM_FIELDS), order="id asc")
    sent = {p["id"] for p in client.search_read("res.partner", erp.STREAMS["customers"].domain,
                                                 list(erp.STREAMS["customers"].fields))}
    while True:
        rows = client.search_read("sale.order", cursor.domain(erp.OVERLAP_SECONDS), list(spec.fields),
                                  limit=page_size, order=erp.ORDER)
        if rows:
            partners = sorted({r["partner_id"][0] for r in rows} - sent)  # each partner once, as the connector
            if partners:
                sent.update(p["id"] for p in client.search_read(
                    "res.partner", [("id", "parent_of", partners)], list(erp.STREAMS["customers"].fields),
                    order="id asc"))
            lines = client.search_read("sale.order.line", [("order_id", "in", [r["id"] for r in rows])],
                                       list(erp.LINE_FIELDS), order="id asc")
            products = sorted({ln["product_id"][0] for ln in lines if ln["product_id"]})
            client.search_read("product.product", [("id", "in", products)], list(erp.PRODUCT_FIELDS), order="id asc")
        cursor.advance(rows, erp.OVERLAP_SECONDS)
        total += len(rows)
        if len(rows) < page_size:
            return total


def fill_odoo(client: ErpConnector, orders: int) -> None:
    """Create `orders` sale orders (2 lines each, over the demo's customers and products) through the
    API, in batches, half of them confirmed."""
    own = [c["partner_id"][0] for c in client.call("res.company", "search_read", [[], ["partner_id"]])[0]]
    partners = [p["id"] for p in client.call("res.partner", "search_read",
                                             [[("is_company", "=", True), ("id", "not in", own)], ["id"]])[0]]
    products = [p["id"] for p in client.call("product.product", "search_read",
                                             [[("sale_ok", "=", True), ("type", "=", "consu")], ["id"]])[0]]
    batch = 250
    for start in range(0, orders, batch):
        values = [{"partner_id": partners[i % len(partners)], "client_order_ref": f"BENCH-{i}", "order_line": [
            [0, 0, {"product_id": products[(i + k) % len(products)], "product_uom_qty": 1 + (i + k) % 7}]
            for k in range(2)]} for i in range(start, min(start + batch, orders))]
        ids = client.call("sale.order", "create", [values])[0]
        client.call("sale.order", "action_confirm", [ids[::2]])


class TimedStore(Store):
    """The store, with the time spent in apply() added up."""

    apply_s = 0.0

    def apply(self, batch, replay_of=None, **options):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return super().apply(batch, replay_of, **options)
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
    parser.add_argument("--odoo", action="store_true", help="against a real Odoo 19 instead of the simulator")
    parser.add_argument("--orders", type=int, default=None, help="default: 100000 (simulator), 3000 (Odoo)")
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--page-size", type=int, default=None, help="default: 1000 (simulator), 500 (Odoo)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    orders = args.orders or (3_000 if args.odoo else 100_000)
    page_size = args.page_size or (500 if args.odoo else 1000)

    raw_times: list[float] = []
    syncs: list[tuple[sync.Pulled, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["WAYBILL_HOME"] = str(home / "waybill")
        os.environ["WAYBILL_SECRET_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
        started = time.perf_counter()
        if args.odoo:
            from tests.fixtures.odoo import start_odoo, stop_odoo

            server = start_odoo(f"wb_bench_{os.getpid()}")
            stop = partial(stop_odoo, server)
            conn = server.connection("json2", page_size=page_size, read_timeout=300)
            client = RawClient(server.url, server.db, "json2", server.api_key)
            try:
                fill_odoo(ErpConnector(parse("waybill_erp", json.dumps(conn))), orders)
            except BaseException:
                stop()
                raise
            print(f"odoo: started and {orders:,} orders created through its API in "
                  f"{time.perf_counter() - started:.1f} s")
        else:
            proc, url = start_sim(home / "sim", orders, args.customers)
            stop = partial(_terminate, proc)
            conn = {"conn_type": "http", "host": "127.0.0.1", "port": int(url.rsplit(":", 1)[1]), "login": "admin",
                    "password": "admin", "extra": {"db": "waybill", "page_size": page_size, "read_timeout": 120}}
            client = RawClient(url, "waybill", "jsonrpc", "admin")
            print(f"simulator: {orders:,} orders generated and served in {time.perf_counter() - started:.1f} s")
        try:
            os.environ["AIRFLOW_CONN_WAYBILL_ERP"] = json.dumps(conn)
            for run in range(1, args.runs + 1):
                started = time.perf_counter()
                n_raw = raw_read(client, page_size)
                raw_times.append(time.perf_counter() - started)
                syncs.append(sync_run(home / f"hub-{run}.db"))
                pulled, seconds, map_s, apply_s = syncs[-1]
                landed = pulled.counts.received  # orders read and applied (stored also counts their customers)
                print(f"run {run}: raw pages {n_raw / raw_times[-1]:>8,.0f} orders/s   "
                      f"erp_sync {landed / seconds:>8,.0f} orders/s "
                      f"({seconds:.1f} s: map {map_s:.1f} s, store.apply {apply_s:.1f} s)")
                if landed != n_raw:
                    print(f"MISMATCH: the hub took {landed:,} orders, the ERP has {n_raw:,}")
                    return 1
        finally:
            stop()

    raw_s = min(raw_times)
    pulled, sync_s, map_s, apply_s = min(syncs, key=lambda r: r[1])
    landed = pulled.counts.received
    raw_rate, sync_rate = n_raw / raw_s, landed / sync_s
    ratio = sync_rate / raw_rate
    print(f"best of {args.runs} ({'real Odoo 19, JSON-2' if args.odoo else 'simulator, JSON-RPC'}):")
    print(f"raw pages   {n_raw:>9,} orders in {raw_s:6.1f} s  {raw_rate:>8,.0f} orders/s  (the limit)")
    print(f"erp_sync    {landed:>9,} orders in {sync_s:6.1f} s  {sync_rate:>8,.0f} orders/s  "
          f"({pulled.counts.dead} dead-lettered, {pulled.pages} pages)")
    print(f"  of which: map {map_s:.1f} s (in the read-ahead thread, beside fetching), "
          f"store.apply {apply_s:.1f} s ({landed / apply_s:,.0f} orders/s)")
    print(f"ratio {ratio:.2f} (target >= {TARGET})")
    print("target met" if ratio >= TARGET else "TARGET MISSED")
    return 0 if ratio >= TARGET else 1


def _terminate(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
