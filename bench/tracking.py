"""Carrier tracking benchmark: 10,000 open shipments across FedEx, UPS and DHL (REST simulators).

1. A fresh SQLite hub with N shipments spread over the three REST carriers, each known to its
   carrier's simulator on loopback, tracked once by waybill.flows.carrier_tracking (profiles chosen
   by carrier code, the carriers concurrently, FedEx 30 numbers per request, UPS and DHL one,
   OAuth2 tokens cached). Printed: tracking requests per shipment and shipments/s. The simulators
   run in a process of their own, as carriers are elsewhere: their work does not share the
   benchmark's interpreter lock.
2. The simulators' raw rate in the same run: one bare client with a token sending each carrier's
   tracking request on one keep-alive connection as fast as it can, as shipments/s for the same
   mix (FedEx requests carry 30 numbers). What the flow adds on top is mapping, the message log and
   the store.
3. A second run: only shipments still open are asked for; delivered and returned parcels never again.

The one-off start-up (imports, Connections) is timed apart; the same tracking with the carriers
one after another, on a second hub, is printed beside the concurrent run.

The carriers' rate limits (the profiles' rate_per_second) are lifted for the measurement: a real
run is bounded by them, not by Waybill.

Run: .venv/bin/python bench/tracking.py [--shipments N]
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import rest_carriers
from waybill.canonical import model
from waybill.connectors import carrier_profile
from waybill.flows import carrier_tracking
from waybill.store.store import Store

PAGE = 1000
CARRIERS = ("fedex", "ups", "dhl")
NUMBER = {"fedex": "7946{:08d}", "ups": "1Z999AA1{:010d}", "dhl": "00340434{:08d}"}


def numbers(n: int) -> dict[str, list[str]]:
    """N tracking numbers spread evenly over the three carriers."""
    return {c: [NUMBER[c].format(i) for i in range(k, n, len(CARRIERS))] for k, c in enumerate(CARRIERS)}


def seed(store: Store, by_carrier: dict[str, list[str]]) -> None:
    cust = model.Customer(model.Ref("erp", "C1"), "Customer 1", model.version_of(1))
    shipments = [model.Shipment(model.Ref("wms", f"{c}-{i}"), model.version_of(1), c.upper(), tracking_number=n,
                                customer=model.Ref("erp", "C1"))
                 for c, ns in by_carrier.items() for i, n in enumerate(ns)]
    store.apply(model.Batch("erp", "bench", [model.InboundMessage(b"c", "c", [cust])]))
    for i in range(0, len(shipments), PAGE):
        store.apply(model.Batch("wms", "bench", [model.InboundMessage(f"s{i}".encode(), "", shipments[i:i + PAGE])]))


def unlimited_profiles(folder: Path) -> None:
    """The packaged REST profiles with their rate limits lifted, in a WAYBILL_CARRIERS folder."""
    folder.mkdir()
    for name in CARRIERS:
        text = carrier_profile.load(name).path.read_text()
        lines = [("rate_per_second = 100000" if line.startswith("rate_per_second") else line)
                 for line in text.splitlines()]
        (folder / f"{name}.toml").write_text("\n".join(lines) + "\n")
    os.environ["WAYBILL_CARRIERS"] = str(folder)


def serve(conn: Any, by_carrier: dict[str, list[str]]) -> None:
    """The simulators' process: starts the three, sends their ports, then answers each message with
    every simulator's (tracking requests, tokens issued) until told to stop."""
    servers, apis = {}, {}
    for name in CARRIERS:
        servers[name], apis[name] = rest_carriers.start(name, by_carrier[name], seed=7)
    conn.send({n: s.port for n, s in servers.items()})
    while conn.recv() != "stop":
        conn.send({n: (a.requests, a.token_requests) for n, a in apis.items()})
    for server in servers.values():
        server.shutdown()


def raw_rate(name: str, url: str, sample: list[str], seconds: float = 2.0) -> float:
    """Shipments/s one bare client gets from the carrier's simulator on one keep-alive connection."""
    with requests.Session() as s:
        if name == "dhl":
            headers = {"DHL-API-Key": "dhl-key"}
        elif name == "ups":
            token = s.post(f"{url}/security/v1/oauth/token", data={"grant_type": "client_credentials"},
                           auth=("waybill", "s3cret"), timeout=10).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "transId": "bench", "transactionSrc": "bench"}
        else:
            token = s.post(f"{url}/oauth/token", data={"grant_type": "client_credentials", "client_id": "waybill",
                                                       "client_secret": "s3cret"}, timeout=10).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            if name == "fedex":
                batch = sample[(done * 30) % len(sample):][:30] or sample[:30]
                s.post(f"{url}/track/v1/trackingnumbers", headers=headers, timeout=10, json={
                    "includeDetailedScans": True,
                    "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in batch]})
                done += len(batch)
            elif name == "ups":
                s.get(f"{url}/api/track/v1/details/{sample[done % len(sample)]}", headers=headers, timeout=10)
                done += 1
            else:
                s.get(f"{url}/track/shipments", params={"trackingNumber": sample[done % len(sample)]},
                      headers=headers, timeout=10)
                done += 1
        return done / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shipments", type=int, default=10_000)
    args = parser.parse_args()
    by_carrier = numbers(args.shipments)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["WAYBILL_HOME"] = str(folder / "home")
        os.environ.setdefault("WAYBILL_SECRET_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
        unlimited_profiles(folder / "carriers")
        store, one_by_one = (Store.open(f"sqlite:///{folder / name}") for name in ("hub.db", "one-by-one.db"))
        for hub in (store, one_by_one):
            hub.upgrade()
            seed(hub, by_carrier)
        ours, theirs = multiprocessing.Pipe()
        sims = multiprocessing.get_context("spawn").Process(target=serve, args=(theirs, by_carrier), daemon=True)
        sims.start()
        ports = ours.recv()
        urls = {n: f"http://127.0.0.1:{p}" for n, p in ports.items()}
        for name in CARRIERS:
            secret = {"password": "dhl-key"} if name == "dhl" else {"login": "waybill", "password": "s3cret"}
            os.environ[f"AIRFLOW_CONN_WAYBILL_CARRIER_{name.upper()}"] = json.dumps(
                {"conn_type": "http", "host": "127.0.0.1", "port": ports[name], **secret})
        try:
            started = time.perf_counter()  # one-off: imports (Airflow's, karrio's), Connections
            for name in CARRIERS:
                carrier_tracking.tracker_for(name)
            startup = time.perf_counter() - started
            started = time.perf_counter()
            for name in CARRIERS:  # as before: one carrier after another, on a hub of its own
                carrier_tracking.run(one_by_one, carrier=name)
            sequential = time.perf_counter() - started
            ours.send("counts")
            before = ours.recv()
            started = time.perf_counter()
            first = carrier_tracking.run(store)
            elapsed = time.perf_counter() - started
            ours.send("counts")
            after = ours.recv()
            calls = {n: c[0] - before[n][0] for n, c in after.items()}
            tokens = sum(c[1] for c in after.values())  # both hubs' runs: the process's cache holds them
            second = carrier_tracking.run(store)
            ours.send("counts")
            again = {n: c[0] - after[n][0] for n, c in ours.recv().items()}
            raw = {n: raw_rate(n, urls[n], by_carrier[n]) for n in CARRIERS}
        finally:
            ours.send("stop")
            sims.join(timeout=30)
    shipments = sum(len(v) for v in by_carrier.values())
    requests_total = sum(calls.values())
    # the simulators alone, serving the same mix one request after another
    raw_mix = shipments / sum(len(by_carrier[n]) / raw[n] for n in CARRIERS)
    rate = first.received / elapsed
    print(f"shipments: {shipments} ({', '.join(f'{n} {len(v)}' for n, v in by_carrier.items())}); "
          f"received {first.received}, events stored {first.stored}, dead {first.dead}")
    print(f"tracking requests: {requests_total} ({', '.join(f'{n} {c}' for n, c in calls.items())}) + {tokens} "
          f"tokens in all = {requests_total / shipments:.3f} requests per shipment")
    print(f"tracking: {elapsed:.1f} s, {rate:,.0f} shipments/s (carriers one after another: {sequential:.1f} s, "
          f"{shipments / sequential:,.0f} shipments/s; start-up, counted in neither: {startup:.1f} s)")
    print("simulators' raw rate (one keep-alive client): "
          + ", ".join(f"{n} {r:,.0f} shipments/s" for n, r in raw.items())
          + f"; the same mix {raw_mix:,.0f} shipments/s; the flow reaches {rate / raw_mix:.2f} of it")
    print(f"second run: {second.received} still open asked for ({', '.join(f'{n} {c}' for n, c in again.items())} "
          f"requests), {shipments - second.received} delivered/returned/cancelled not asked again; "
          f"stored {second.stored}")
    ok = first.received == shipments and second.received < shipments and second.stored == 0
    print(f"every open shipment tracked once, terminal ones never again: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
