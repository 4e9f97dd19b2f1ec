"""The soak: the flows in random orders and interleavings, against simulators whose data changes,
with transient faults, workers killed mid-run and overlapping runs; then the end state compared.

One seed (`run_seed`) starts the ERP, WMS, TMS, CRM and carrier simulators (10% transient faults on
every endpoint) and two partners' SFTP servers (tests/reliability/exchange.py), opens a fresh hub
store and plays three rounds: each round runs every flow (FLOWS: the ten DAGs, EDI inbound once
per partner) in a shuffled order;
a run is now and then killed (KeyboardInterrupt raised into it before or after one of its commits:
the in-process stand-in for SIGKILL) or doubled by an overlapping run of the same flow in a thread.
Between rounds the WMS counts stock, the TMS scans parcels, the partners drop new orders (and now
and then a file again), and the warehouse ships the partner orders written back to the ERP. A final
clean pass lets everything settle; then the hub must equal the simulators' truth, the CRM must hold
exactly the hub's accounts, orders, shipments and cases, the finance feed must equal the
receivables, each partner order must be in the hub and the ERP once, each inbound interchange
registered and acknowledged once, each outbound document in the partner's folder once, each carrier
scan stored once, and the only dead letters may be the planted bad records (an order in an unknown
currency, a scan with an undocumented code).

In the processes mode every run is a process of its own and the kills are real SIGKILLs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sim import crm as crm_sim
from sim import dataset as gen
from sim import erp as erp_sim
from sim import tms as tms_sim
from sim import wms as wms_sim
from sim.faults import FaultRates, Faults
from tests.fixtures.sources import connect
from tests.fixtures.targets import set_conn
from tests.reliability import exchange
from waybill.connectors.crm import CrmClient
from waybill.connectors.finance import FolderTarget
from waybill.connectors.http import HttpPolicy
from waybill.flows import (
    carrier_tracking,
    crm_publish,
    customer_insights,
    delivery_exceptions,
    edi_inbound,
    edi_outbound,
    erp_sync,
    finance_receivables,
    tms_delivery,
    wms_stock,
)
from waybill.mappings.finance import feed
from waybill.mappings.tms import STATUS
from waybill.store import identity, message_log, outbox, receivables, tables
from waybill.store.reads import crm as crm_reads
from waybill.store.reads import logistics
from waybill.store.store import Store

#: the flows of every seed
CORE_FLOWS = ("erp_sync", "wms_stock", "tms_delivery", "customer_insights", "delivery_exceptions", "crm_publish",
              "finance_receivables", "edi_outbound")
#: the flows of the partners and carriers (seeds run with `partners`; without partners, edi_outbound
#: finds nothing any partner takes and settles its rows without a connection)
EXCHANGE_FLOWS = ("carrier_tracking", "edi_inbound:acme", "edi_inbound:eurotrade")
FLOWS = CORE_FLOWS + EXCHANGE_FLOWS
AS_OF = dt.date(2026, 6, 30)
#: the clock of delivery_exceptions (a fixed one: the same facts give the same cases in every run)
NOW = dt.datetime(2026, 5, 10, 12, 0)
#: what may be dead-lettered: the records the dataset plants
PLANTED = {"order.currency", "event.code"}
POLICY = HttpPolicy(connect_timeout=1, read_timeout=0.25, backoff_initial=0.01, backoff_max=0.05,
                    max_total_seconds=30, max_attempts=20)


class Killed(BaseException):
    """The worker dies here (raised into a run like SIGKILL's effect on the process: nothing after it)."""


@dataclass
class Totals:
    """What the seeds did and found, summed."""

    seeds: int = 0
    runs: int = 0
    kills: int = 0
    overlaps: int = 0
    faults: int = 0
    compared: int = 0
    lost: int = 0
    duplicated: int = 0
    blocked: int = 0
    dead_planted: int = 0
    dead_other: int = 0
    problems: list[str] = field(default_factory=list)
    #: the documents found in the partners' folders, by type
    documents: Counter[str] = field(default_factory=Counter)

    def add(self, other: Totals) -> None:
        for name in ("seeds", "runs", "kills", "overlaps", "faults", "compared", "lost", "duplicated", "blocked",
                     "dead_planted", "dead_other"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems += other.problems
        self.documents.update(other.documents)


@contextlib.contextmanager
def killer(rng: random.Random, totals: Totals) -> Iterator[Callable[[], None]]:
    """Store.apply patched so that a run armed with `arm()` dies at a random apply, before or after
    its commit."""
    real = Store.apply
    state = {"countdown": -1, "after": False}

    def apply(self: Store, *args: Any, **kwargs: Any) -> Any:
        if state["countdown"] == 0 and threading.current_thread() is threading.main_thread():
            state["countdown"] = -1
            totals.kills += 1
            if state["after"]:
                real(self, *args, **kwargs)
            raise Killed("worker killed")
        if state["countdown"] > 0:
            state["countdown"] -= 1
        return real(self, *args, **kwargs)

    def arm() -> None:
        state["countdown"], state["after"] = rng.randint(0, 3), rng.random() < 0.5

    Store.apply = apply  # type: ignore[method-assign]
    try:
        yield arm
    finally:
        Store.apply = real  # type: ignore[method-assign]


def run_flow(name: str, store: Store, drop: Path, cutoff: dt.date) -> None:
    if name == "erp_sync":
        erp_sync.run(store)
    elif name == "wms_stock":
        wms_stock.run(store)
    elif name == "tms_delivery":
        tms_delivery.run(store)
    elif name == "customer_insights":
        customer_insights.run(store, as_of=AS_OF)
    elif name == "crm_publish":
        crm_publish.run(store, client=CrmClient(policy=POLICY))
    elif name == "carrier_tracking":
        carrier_tracking.run(store)
    elif name.startswith("edi_inbound:"):
        edi_inbound.run(store, partner=name.partition(":")[2])
    elif name == "delivery_exceptions":
        delivery_exceptions.run(store, now=NOW)
    elif name == "edi_outbound":
        edi_outbound.run(store)
    else:
        finance_receivables.run(store, cutoff=cutoff, target=FolderTarget(drop))


def sqlite_store(template: Path) -> Callable[[Path], Store]:
    """A fresh store per seed: a copy of a migrated, empty SQLite file (migrating takes longer than a seed)."""
    def open_store(folder: Path) -> Store:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, folder / "hub.db")
        return Store.open(f"sqlite:///{folder / 'hub.db'}")
    return open_store


def postgres_store(url: str) -> Callable[[Path], Store]:
    """A fresh store per seed: the migrated PostgreSQL database at `url`, emptied."""
    def open_store(_folder: Path) -> Store:
        store = Store.open(url)
        with store.begin() as conn:
            tables.clear(conn)
        return store
    return open_store


def run_seed(seed: int, folder: Path, open_store: Callable[[Path], Store], monkeypatch: pytest.MonkeyPatch, *,
             processes: bool = False, partners: bool = True) -> Totals:
    """One seed of the soak (see the module doc) on a fresh store; the returned totals say what was found.
    Without `partners`, only CORE_FLOWS run (no partner or carrier simulators: a cheaper seed).

    With `processes`, each run is a process of its own, SIGKILLed at a random moment now and then
    (claims then hold for CLAIM_SECONDS, which the last pass waits out)."""
    totals = Totals(seeds=1)
    rng = random.Random(seed)
    data = gen.generate(seed, customers=5, orders=16, products=12, shared_burst=4)
    faults = Faults({"*": FaultRates.transient(0.1, retry_after=0, slow_seconds=0.3)}, seed=seed)
    servers: list[Any] = []
    ex: exchange.Exchange | None = None
    try:
        erp_server = erp_sim.start(folder / "erp", seed, data=data, faults=faults)
        wms_server = wms_sim.start(folder / "wms", seed, data=data, faults=faults)
        tms_server = tms_sim.start(folder / "tms", seed, data=data, faults=faults)
        crm_server, crm = crm_sim.start(folder / "crm", faults=faults)
        servers = [erp_server, wms_server, tms_server, crm_server]
        if partners:
            ex = exchange.start(seed, folder, rng, data, faults, monkeypatch, {"page_size": 30, **POLICY.__dict__})
        flows = FLOWS if partners else CORE_FLOWS
        for conn_id, server in (("waybill_erp", erp_server), ("waybill_wms", wms_server), ("waybill_tms", tms_server)):
            connect(monkeypatch, conn_id, server, **POLICY.__dict__, page_size=rng.choice((5, 20, 100)))
        host, port = crm_server.httpd.server_address[:2]
        set_conn(monkeypatch, "waybill_crm", conn_type="http", host=host, port=port, login="waybill",
                 password="s3cret", extra={"api_version": "v62.0"})
        if processes or ex is not None:
            # a killed run's outbox rows and claimed partner files are free again after the lease
            # (set before the store is opened: it reads its settings then)
            monkeypatch.setenv("WAYBILL_CLAIM_SECONDS", str(CLAIM_SECONDS))
        store = open_store(folder)
        drop = folder / "finance"
        wms, tms, erp = wms_server.handler, tms_server.handler, erp_server.handler
        world = World(ex, exchange.products(data), erp, wms, tms)
        if ex is not None:
            exchange.drop_documents(ex, world.products, 0)
        if processes:
            monkeypatch.setenv("WAYBILL_DB_URL", store.engine.url.render_as_string(hide_password=False))
            _rounds_in_processes(rng, drop, world, flows, totals)
            time.sleep(CLAIM_SECONDS)  # the claims of killed runs run out
        with killer(rng, totals) as arm:
            for rnd in range(0 if processes else 3):
                for name in rng.sample(flows, len(flows)):
                    totals.runs += 1
                    cutoff = AS_OF - dt.timedelta(days=3 - rnd)
                    if rng.random() < 0.15:
                        arm()
                    other = None
                    if rng.random() < 0.15:  # an overlapping run of the same flow (a retry of a slow task)
                        totals.overlaps += 1
                        other = threading.Thread(target=_quietly, args=(run_flow, name, store, drop, cutoff))
                        other.start()
                    with contextlib.suppress(Killed):
                        _quietly(run_flow, name, store, drop, cutoff)
                    if other is not None:
                        other.join()
                _change(rng, world, rnd)
        if ex is not None and not processes and totals.kills:
            time.sleep(CLAIM_SECONDS)  # the partner files claimed by killed runs are free again
        # the last clean pass (faults still on: retried); the write-back's orders are shipped and
        # invoiced, then the shipments, their scans, cases, invoices and documents flow through
        # (the day's finance feed last: a feed once complete is not written again for its day)
        for name in flows:
            if name != "finance_receivables":
                run_flow(name, store, drop, AS_OF)
        if ex is not None:
            _write_back(store, drop)
            exchange.ship_partner_orders(ex, erp, wms, tms, 3)
            for name in ("erp_sync", "wms_stock", "tms_delivery", "carrier_tracking", "delivery_exceptions",
                         "edi_outbound"):
                run_flow(name, store, drop, AS_OF)
        run_flow("finance_receivables", store, drop, AS_OF)
        run_flow("crm_publish", store, drop, AS_OF)
        _compare(store, world, crm, drop, totals)
        totals.faults += faults.total()
        store.engine.dispose()
    finally:
        for server in servers:
            server.shutdown()
        if ex is not None:
            ex.shutdown()
    return totals


def _write_back(store: Store, drop: Path, runs: int = 5) -> None:
    """erp_sync until no partner order waits for the ERP (a create is sent once: one that failed
    transiently waits for the next run, as the schedule would give it)."""
    for _ in range(runs):
        run_flow("erp_sync", store, drop, AS_OF)
        with store.engine.connect() as c:
            if not outbox.pending(c, "erp"):
                return


#: the claim lease with kills (a killed run's outbox rows and partner files are free again after it)
CLAIM_SECONDS = 2


@dataclass
class World:
    """The simulators whose data moves between rounds."""

    ex: exchange.Exchange | None
    products: list[dict[str, Any]]
    erp: erp_sim.ErpSim
    wms: wms_sim.WmsSim
    tms: tms_sim.TmsSim


def _rounds_in_processes(rng: random.Random, drop: Path, world: World, flows: tuple[str, ...], totals: Totals) -> None:
    """Three rounds of the flows, each run a process (`python -m tests.reliability.soak FLOW ...`);
    more than half are SIGKILLed after a random time (if still running), and now and then two run
    at once."""
    for rnd in range(3):
        for name in rng.sample(flows, len(flows)):
            totals.runs += 1
            cutoff = AS_OF - dt.timedelta(days=3 - rnd)
            procs = [_spawn(name, drop, cutoff) for _ in range(2 if rng.random() < 0.15 else 1)]
            totals.overlaps += len(procs) - 1
            kill_after = rng.uniform(0.6, 1.8) if rng.random() < 0.6 else None  # a process starts in ~0.8 s
            try:
                procs[0].wait(timeout=kill_after or 120)
            except subprocess.TimeoutExpired:
                procs[0].send_signal(signal.SIGKILL)
                totals.kills += 1
            for p in procs:
                p.wait(timeout=120)
        _change(rng, world, rnd)


def _spawn(name: str, drop: Path, cutoff: dt.date) -> subprocess.Popen[bytes]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen([sys.executable, "-m", "tests.reliability.soak", name, str(drop), cutoff.isoformat()],
                            cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _quietly(fn: Callable[..., None], *args: Any) -> None:
    """A flow run as its task would: an error fails the task, and the next run goes on."""
    try:
        fn(*args)
    except Exception:  # the soak compares the end state; a failed run is retried by the schedule
        return


def _change(rng: random.Random, world: World, rnd: int) -> None:
    """The warehouse counts a bin; the TMS scans a parcel; the partners drop orders and the warehouse
    ships theirs that reached the ERP (the simulators' data moves on)."""
    wms, tms = world.wms, world.tms
    sku, location = rng.choice(sorted(wms.feeds["stock"].rows))
    wms.update("stock", (sku, location), {"on_hand": rng.randint(10, 90), "allocated": 3},
               f"2026-05-0{rnd + 1} 10:00:00")
    ship = rng.choice(sorted(wms.feeds["shipments"].rows.values(), key=lambda r: r["id"]))
    tms.scan(rng.choice(("ARR", "OFD", "EXC")), f"2026-05-0{rnd + 1} 11:00:00", shipment_ref=ship["id"],
             location="Venlo")
    if world.ex is not None:
        exchange.ship_partner_orders(world.ex, world.erp, wms, tms, rnd)
        exchange.drop_documents(world.ex, world.products, rnd + 1)


def _compare(store: Store, world: World, crm: crm_sim.CrmSim, drop: Path, totals: Totals) -> None:
    wms, tms = world.wms, world.tms
    with store.engine.connect() as c:
        events = {e.event_id for e in logistics.delivery_events(c)}
        ships = crm_reads.shipments(c)
        stock = {s.ref.external_id: (float(s.on_hand), float(s.allocated)) for s in logistics.stock_levels(c)}
        accounts, orders = crm_reads.accounts(c), crm_reads.orders(c)
        dead = message_log.find(c, state="dead", limit=100_000)
        parked = message_log.find(c, state="parked", limit=100_000)
        counts = outbox.counts(c)
        pending = sum(states.get("pending", 0) for states in counts.values())
        dead_rows = [r for target in outbox.counts(c) for r in outbox.rows(c, target) if r.state == "dead"]
        erp_ids = identity.customers_of(c, "erp")
        delivery_rows = Counter((r.source, r.event_id) for r in tables.rows(c, "delivery_event"))
        items = receivables.open_items(c, AS_OF)
    truth_events = {str(e["id"]) for e in tms.events if e["code"] in STATUS}
    truth_stock = {f"{r['sku']}@{r['location']}": (float(r["on_hand"]), float(r["allocated"]))
                   for r in wms.feeds["stock"].rows.values()}
    truth_ships = {r["id"] for r in wms.feeds["shipments"].rows.values()}
    totals.compared += len(truth_events) + len(truth_stock) + len(truth_ships) + len(accounts) + len(orders)
    totals.lost += len(truth_events - events) + len(set(truth_stock) - set(stock))
    totals.lost += len(truth_ships - {s.ref.external_id for s in ships.values()})
    totals.lost += sum(1 for k, v in truth_stock.items() if k in stock and stock[k] != v)
    totals.duplicated += sum(n - 1 for n in delivery_rows.values() if n > 1)
    crm_sets = {"Account": set(map(str, accounts)), "Order": set(map(str, orders)), "Shipment__c": set(map(str, ships))}
    for obj, hub in crm_sets.items():
        held = set(crm.records(obj))
        totals.lost += len(hub - held)
        totals.duplicated += len(held - hub)
    totals.blocked += pending + len(parked)
    if pending:
        totals.problems.append(f"outbox rows pending: {counts}")
    for p in parked[:3]:
        totals.problems.append(f"parked {p.key}: {p.reason}")
    for r in dead_rows:
        totals.dead_other += 1
        totals.problems.append(f"dead outbox row {r.item.target} {r.item.entity} {r.item.entity_id}: {r.reason}")
    found = exchange.compare(world.ex, store, world.erp, set(crm.records("Case")))
    totals.compared += found.compared
    totals.lost += found.lost
    totals.duplicated += found.duplicated
    totals.problems += found.problems
    totals.documents.update(found.documents)
    totals.dead_planted += sum(1 for d in dead if d.field_path in PLANTED)
    totals.dead_other += sum(1 for d in dead if d.field_path not in PLANTED)
    for d in dead:
        if d.field_path not in PLANTED:
            totals.problems.append(f"dead letter {d.key}: {d.reason} at {d.field_path}")
    files = feed(items, AS_OF)
    if (drop / files.data_name).read_bytes() != files.data or (drop / files.control_name).read_bytes() != files.control:
        totals.problems.append("the finance feed differs from the receivables")
        totals.lost += 1
    if len(erp_ids) < len(accounts):
        totals.problems.append("customers without their ERP id")


if __name__ == "__main__":  # one run of one flow, as a process of its own (the processes mode)
    _flow, _drop, _cutoff = sys.argv[1:4]
    run_flow(_flow, Store.open(), Path(_drop), dt.date.fromisoformat(_cutoff))
