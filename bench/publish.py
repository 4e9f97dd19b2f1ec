"""CRM publish benchmark: records per second and CRM requests per record, beside the simulator's limit.

1. A fresh SQLite hub with N customers, 2N orders and N shipments (all pending for the CRM), published
   by waybill.flows.crm_publish to the Salesforce simulator on loopback. Target: CRM requests per
   published record <= 1/100 (sObject Collections of 200).
2. The simulator's raw request rate: the same server answering authenticated single-record GETs
   as fast as one client can send them, in the same run, on one keep-alive connection and with a new
   connection per request. Publishing one record per request could go no faster than this;
   records/s above it is what batching buys.

Run: .venv/bin/python bench/publish.py [--customers N]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import secrets
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import crm as crm_sim
from waybill.canonical import model
from waybill.connectors.crm import CrmClient
from waybill.flows import crm_publish
from waybill.store.store import Store

PAGE = 1000


def seed(store: Store, n: int) -> int:
    """N customers, 2N orders, N shipments; returns the number of CRM records they make."""
    day = dt.date(2026, 1, 1)
    customers = [model.Customer(model.Ref("erp", f"C{i}"), f"Customer {i}", model.version_of(1), industry="Retail",
                                credit_limit=Decimal("5000"), currency="EUR") for i in range(n)]
    orders = [model.Order(model.Ref("erp", f"SO{i}"), model.Ref("erp", f"C{i % n}"), model.version_of(1),
                          day + dt.timedelta(days=i % 300), "EUR", po_number=f"PO-{i}",
                          amount_total=Decimal("123.40")) for i in range(2 * n)]
    shipments = [model.Shipment(model.Ref("tms", f"SH{i}"), model.version_of(1), "fedex",
                                tracking_number=f"77{i:010d}", customer=model.Ref("erp", f"C{i}")) for i in range(n)]
    for chunk_no, entities in enumerate((customers, orders, shipments)):
        for i in range(0, len(entities), PAGE):
            page = entities[i:i + PAGE]
            store.apply(model.Batch("erp", "bench", [model.InboundMessage(f"{chunk_no}/{i}".encode(), "", page)]))
    return len(customers) + len(orders) + len(shipments)


def raw_rate(url: str, keep_alive: bool, seconds: float = 2.0) -> float:
    """Authenticated single-record GETs per second one client gets from the simulator, on one
    keep-alive connection or on a new connection per request."""
    token = requests.post(f"{url}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "waybill", "client_secret": "s3cret"}, timeout=10).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    with requests.Session() as session:
        get = session.get if keep_alive else requests.get
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            get(f"{url}/services/data/v62.0/sobjects/Account/Waybill_Id__c/{done % 1000 + 1}", headers=headers)
            done += 1
        return done / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["WAYBILL_HOME"] = str(folder / "home")
        os.environ.setdefault("WAYBILL_SECRET_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
        store = Store.open(f"sqlite:///{folder / 'hub.db'}")
        store.upgrade()
        records = seed(store, args.customers)
        server, sim = crm_sim.start(folder / "crm", api_limit=10**9)
        try:
            host, port = server.httpd.server_address[:2]
            os.environ["AIRFLOW_CONN_WAYBILL_CRM"] = json.dumps(
                {"conn_type": "http", "host": host, "port": port, "login": "waybill", "password": "s3cret"})
            started = time.perf_counter()
            counts = crm_publish.run(store, client=CrmClient())
            elapsed = time.perf_counter() - started
            publish_requests = sim.requests
            rates = {"keep-alive": raw_rate(server.url, True), "new connection": raw_rate(server.url, False)}
        finally:
            server.shutdown()
    per_record = publish_requests / counts.published
    print(f"records: {records} (customers {args.customers}, orders {2 * args.customers}, "
          f"shipments {args.customers}); published {counts.published}, dead {counts.dead}")
    print(f"publish: {elapsed:.2f} s, {counts.published / elapsed:,.0f} records/s, "
          f"{publish_requests} CRM requests ({per_record:.4f} per record, 1/{1 / per_record:.0f})")
    for how, rate in rates.items():
        print(f"simulator raw rate ({how}): {rate:,.0f} requests/s; records/s is "
              f"{counts.published / elapsed / rate:.1f}x that (one record per request could not exceed 1x)")
    ok = per_record <= 0.01 and counts.published == records
    print(f"target requests/record <= 1/100: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
