"""Store benchmark: apply() throughput against the database's own limit, measured in the same run.

1. SQLite: apply() of 100k order lines (25k orders x 4 lines, pages of 2,500 orders) into a fresh
   store, beside raw sqlite3 executemany of the same rows (the limit): every order, order-line and
   outbox row that apply() writes, with the same Python values, into tables with the store's own
   DDL and indexes, in one transaction. Target >= 0.5.
2. PostgreSQL (127.0.0.1:5432): the same apply() beside COPY of the same rows. Target >= 0.25.
Both print order lines per second; the ratio is limit time / apply() time.
3. Incremental cost: apply 1k changed orders to a store holding 10k orders and to one holding 1M.
   Target: the 1M case costs at most 2x the 10k case.

Run: .venv/bin/python bench/store.py [--skip-postgres] [--big N]
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import io
import os
import secrets
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from waybill.canonical import model
from waybill.store import bulk
from waybill.store.schema import order_line, orders
from waybill.store.store import Store, utcnow

PG_ADMIN = os.environ.get("WAYBILL_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
LINES_PER_ORDER = 4
PAGE = 2500  # orders per apply(), i.e. per fetched page


def make_orders(n: int, start: int = 0, version: int = 1, customers: int = 500) -> list[model.Order]:
    day = dt.date(2026, 1, 1)
    return [
        model.Order(
            ref=model.Ref("erp", f"SO{i}"), customer=model.Ref("erp", f"C{i % customers}"),
            version=model.version_of(version), order_date=day + dt.timedelta(days=i % 300), currency="EUR",
            status="confirmed" if version == 1 else "shipped", po_number=f"PO-{i}",
            amount_total=Decimal("123.40"),
            lines=tuple(model.OrderLine(k + 1, Decimal(k + 1), sku=f"SKU-{(i + k) % 5000}",
                                        unit_price=Decimal("30.85"), uom="EA")
                        for k in range(LINES_PER_ORDER)),
        )
        for i in range(start, start + n)
    ]


def batches(items: list[model.Order], tag: str) -> list[model.Batch]:
    return [
        model.Batch("erp", "sale.order", [model.InboundMessage(f"{tag}-{i}".encode(), f"page-{i}",
                                                               list(items[i:i + PAGE]))], cursor=str(i))
        for i in range(0, len(items), PAGE)
    ]


def seed_customers(store: Store, n: int = 500) -> None:
    store.apply(model.Batch("erp", "res.partner", [model.InboundMessage(b"customers", "c", [
        model.Customer(ref=model.Ref("erp", f"C{i}"), name=f"Customer {i}", version="1") for i in range(n)
    ])]))


def raw_rows(items: list[model.Order]) -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    """The rows apply() writes for `items`, per table: (columns, tuples)."""
    now = utcnow()
    order_cols = ("id", "system", "external_id", "customer_id", "kind", "status", "po_number", "order_date",
                  "requested_date", "currency", "amount_untaxed", "amount_total", "ship_to", "version",
                  "row_hash", "last_message_id", "updated_at")
    line_cols = ("order_id", "line_no", "sku", "gtin", "description", "quantity", "uom", "unit_price",
                 "quantity_shipped")
    outbox_cols = ("id", "target", "entity", "entity_id", "idempotency_key", "state", "attempts", "created_at")
    return {
        "orders": (order_cols, [
            (n, o.ref.system, o.ref.external_id, 1, o.kind, o.status, o.po_number, o.order_date, o.requested_date,
             o.currency, o.amount_untaxed, o.amount_total, None, o.version, "0" * 32, 1, now)
            for n, o in enumerate(items, 1)]),
        "order_line": (line_cols, [
            (n, ln.line_no, ln.sku, ln.gtin, ln.description, ln.quantity, ln.uom, ln.unit_price,
             ln.quantity_shipped) for n, o in enumerate(items, 1) for ln in o.lines]),
        "outbox": (outbox_cols, [
            (n, "crm", "order", n, f"crm/order/{n}/{n}", "pending", 0, now) for n in range(1, len(items) + 1)]),
    }


def limit_schema(engine) -> None:  # type: ignore[no-untyped-def]
    """The store's own tables (DDL and indexes), without foreign keys to tables the limit leaves empty."""
    from waybill.store.schema import metadata

    with engine.begin() as c:
        if c.dialect.name == "sqlite":
            c.exec_driver_sql("PRAGMA foreign_keys=OFF")
        metadata.create_all(c, tables=[metadata.tables[n] for n in ("customer", "orders", "order_line", "outbox")])
        if c.dialect.name == "postgresql":
            c.exec_driver_sql("ALTER TABLE orders DROP CONSTRAINT fk_orders_customer_id_customer")
            c.exec_driver_sql("ALTER TABLE order_line DROP CONSTRAINT fk_order_line_order_id_orders")


def timed_apply(store: Store, work: list[model.Batch]) -> float:
    started = time.perf_counter()
    for b in work:
        store.apply(b)
    return time.perf_counter() - started


def new_store(url: str) -> Store:
    s = Store.open(url)
    s.upgrade()
    seed_customers(s)
    return s


# --- 1. SQLite --------------------------------------------------------------------------------------

def best_of(reps: int, run: Callable[[int], float]) -> float:
    """The fastest of `reps` runs (each gets its repetition number): the least disturbed by the
    machine's other work, for the limit and for apply() alike."""
    return min(run(rep) for rep in range(reps))


def sqlite_limit(rows: dict[str, tuple[tuple[str, ...], list[tuple]]], path: Path) -> float:
    limit_schema(create_engine(f"sqlite:///{path}"))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    started = time.perf_counter()
    with conn:
        for table, (cols, data) in rows.items():
            # Table and column names come from the hub's own schema, never from input.
            sql = f"INSERT INTO {table} ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})"  # noqa: S608
            conn.executemany(sql, data)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def report(name: str, items: list[model.Order], elapsed: float, limit_name: str, limit: float,
           target: float) -> float:
    n_lines = len(items) * LINES_PER_ORDER
    ratio = limit / elapsed
    print(f"{name:<9} apply(): {n_lines / elapsed:>10,.0f} lines/s   {limit_name:<16} {n_lines / limit:>10,.0f}"
          f" lines/s   ratio {ratio:.2f} (target >= {target:.2f})")
    return ratio


def bench_sqlite(items: list[model.Order], folder: Path, reps: int) -> float:
    rows = raw_rows(items)
    limit = best_of(reps, lambda rep: sqlite_limit(rows, folder / f"raw{rep}.db"))
    elapsed = best_of(reps, lambda rep: timed_apply(new_store(f"sqlite:///{folder / f'hub{rep}.db'}"),
                                                    batches(items, f"sqlite{rep}")))
    return report("sqlite", items, elapsed, "raw executemany:", limit, 0.5)


# --- 2. PostgreSQL ----------------------------------------------------------------------------------

def pg_database() -> tuple[str, Callable[[], None]]:
    """A new database on the server; returns its URL and a function that drops it."""
    name = f"waybill_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def pg_limit(rows: dict[str, tuple[tuple[str, ...], list[tuple]]]) -> float:
    url, drop = pg_database()
    try:
        engine = create_engine(url)
        limit_schema(engine)
        buffers = []
        for table, (cols, data) in rows.items():
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(data)
            buffers.append((table, cols, buf))
        started = time.perf_counter()
        with engine.begin() as c, c.connection.driver_connection.cursor() as cur:
            for table, cols, buf in buffers:
                buf.seek(0)
                cur.copy_expert(f"COPY {table} ({','.join(cols)}) FROM STDIN WITH (FORMAT csv)", buf)
        elapsed = time.perf_counter() - started
        engine.dispose()
        return elapsed
    finally:
        drop()


def pg_apply(items: list[model.Order], rep: int) -> float:
    url, drop = pg_database()
    try:
        store = new_store(url)
        elapsed = timed_apply(store, batches(items, f"pg{rep}"))
        store.engine.dispose()
        return elapsed
    finally:
        drop()


def bench_postgres(items: list[model.Order], reps: int) -> float:
    rows = raw_rows(items)
    limit = best_of(reps, lambda _rep: pg_limit(rows))
    elapsed = best_of(reps, lambda rep: pg_apply(items, rep))
    return report("postgres", items, elapsed, "COPY:", limit, 0.25)


# --- 3. Incremental cost ----------------------------------------------------------------------------

def fill(store: Store, n: int) -> None:
    """Put n orders (one line each) straight into the tables: the state a long-running hub has."""
    now = utcnow()
    with store.begin() as conn:
        cust = conn.execute(text("SELECT customer_id FROM customer_identity WHERE external_id = 'C0'")).scalar_one()
        step = 50_000
        for start in range(0, n, step):
            count = min(step, n - start)
            ids = bulk.allocate_ids(conn, orders, count)
            bulk.insert_rows(conn, orders, (
                "id", "system", "external_id", "customer_id", "kind", "status", "order_date", "currency",
                "version", "row_hash", "updated_at"), [
                (i, "erp", f"FILL{start + k}", cust, "sale", "confirmed", dt.date(2025, 1, 1), "EUR",
                 "1", "0" * 32, now) for k, i in enumerate(ids)])
            bulk.insert_rows(conn, order_line, ("order_id", "line_no", "sku", "quantity", "uom", "quantity_shipped"),
                             [(i, 1, "SKU", Decimal(1), "EA", Decimal(0)) for i in ids])


def incremental(folder: Path, sizes: tuple[int, int], reps: int, changed: int = 1000) -> float:
    """Time applying `changed` changed orders to stores holding each of `sizes` orders."""
    times = []
    for size in sizes:
        store = new_store(f"sqlite:///{folder / f'inc{size}.db'}")
        fill(store, size)
        timed_apply(store, batches(make_orders(changed), f"base{size}"))
        # Each repetition is a new version of the same orders, so every one of them really changes.
        times.append(best_of(reps, lambda rep, store=store, size=size: timed_apply(
            store, batches(make_orders(changed, version=rep + 2), f"upd{size}-{rep}"))))
        store.engine.dispose()
    ratio = times[1] / times[0]
    print(f"sqlite    {changed:,} changed orders: {times[0] * 1000:.0f} ms on {sizes[0]:,} orders, "
          f"{times[1] * 1000:.0f} ms on {sizes[1]:,}   cost ratio {ratio:.2f} (target <= 2.00)")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=25_000, help="orders for 1 and 2 (x4 lines)")
    parser.add_argument("--big", type=int, default=1_000_000, help="orders in the big store of 3")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--reps", type=int, default=3, help="repetitions; the best one counts")
    args = parser.parse_args()
    os.environ.setdefault("WAYBILL_SECRET_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["WAYBILL_HOME"] = str(folder / "home")
        items = make_orders(args.orders)
        ok = bench_sqlite(items, folder, args.reps) >= 0.5
        if not args.skip_postgres:
            ok &= bench_postgres(items, args.reps) >= 0.25
        ok &= incremental(folder, (10_000, args.big), args.reps) <= 2.0
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
