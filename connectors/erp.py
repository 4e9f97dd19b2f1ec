"""The ERP connector: Odoo's external API, JSON-RPC (`execute_kw`) or JSON-2, chosen by the Connection.

Connection `waybill_erp` (JSON form), e.g.
    {"conn_type": "http", "host": "erp.example", "port": 8069, "login": "integration",
     "password": "...", "extra": {"db": "prod", "protocol": "jsonrpc", "page_size": 500}}
With "protocol": "json2" the password is the API key, sent as a bearer token (Odoo 19+).

Streams (fetch): customers (res.partner), orders (sale.order with their sale.order.line),
invoices (account.move: customer invoices and credit notes) and payments (account.payment,
inbound). Reads are incremental on write_date, which Odoo keeps as naive UTC with second
precision, so many rows share one value. The cursor is therefore (write_date, id) and pages are
read in that order; rows committed late with an older write_date are caught by re-reading an
overlap window behind the cursor, and the ids already taken in that window are remembered in the
cursor so that re-reading returns only what is new (a run without changes gets one empty page).
Orders have a second cursor on their lines: a delivery changes a line (qty_delivered) without
always touching the order, so orders whose lines changed are read again too.
Write-back (create_order): a sale.order is created only if none carries the same client_order_ref.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from waybill.connectors.connection import ConnectionInfo, get_connection
from waybill.connectors.http import PermanentHTTPError, client_for
from waybill.connectors.pages import Page
from waybill.core.errors import WaybillError

ORDER = "write_date asc, id asc"
OVERLAP_SECONDS = 120
#: ids remembered in the overlap window at most; beyond, the oldest are forgotten (and re-read).
MAX_SEEN = 20_000


@dataclass(frozen=True)
class Stream:
    model: str
    fields: tuple[str, ...]
    domain: tuple[tuple[str, str, Any], ...] = ()


STREAMS: dict[str, Stream] = {
    "customers": Stream("res.partner", (
        "name", "is_company", "ref", "vat", "barcode", "email", "phone", "street", "city", "zip", "country_code",
        "industry_id", "credit_limit", "property_payment_term_id", "active", "write_date"),
        (("customer_rank", ">", 0),)),
    "orders": Stream("sale.order", (
        "name", "partner_id", "partner_shipping_id", "client_order_ref", "date_order", "commitment_date", "state",
        "currency_id", "amount_untaxed", "amount_tax", "amount_total", "order_line", "write_date")),
    "invoices": Stream("account.move", (
        "name", "move_type", "state", "partner_id", "invoice_date", "invoice_date_due", "currency_id",
        "invoice_origin", "amount_untaxed", "amount_total", "amount_residual", "payment_state",
        "reversed_entry_id", "write_date"),
        (("move_type", "in", ["out_invoice", "out_refund"]),)),
    "payments": Stream("account.payment", (
        "name", "partner_id", "amount", "currency_id", "date", "payment_type", "state", "reconciled_invoice_ids",
        "write_date"),
        (("payment_type", "=", "inbound"),)),
}
LINE_FIELDS = ("order_id", "sequence", "product_id", "name", "product_uom_qty", "qty_delivered", "price_unit",
               "product_uom", "write_date")


class ErpError(WaybillError):
    """An error Odoo reported (its exception class in `name`); permanent: retrying will not help."""

    def __init__(self, model: str, method: str, name: str, message: str) -> None:
        super().__init__(f"erp {model}.{method}: {name}: {message}")
        self.name = name
        self.reason = message


@dataclass
class Cursor:
    """(write_date, id) of the last row taken, and the ids taken in the overlap window behind it."""

    write_date: str = ""
    id: int = 0
    seen: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, value: str | None) -> Cursor:
        return cls.from_dict(json.loads(value) if value else None)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Cursor:
        if not d:
            return cls()
        return cls(d["write_date"], d["id"], {int(k): v for k, v in d.get("seen", {}).items()})

    def to_dict(self) -> dict[str, Any]:
        return {"write_date": self.write_date, "id": self.id, "seen": self.seen}

    def dump(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def domain(self, overlap: int) -> list[Any]:
        """Rows after the cursor, or inside the overlap window and not taken yet."""
        if not self.write_date:
            return []
        since = (dt.datetime.fromisoformat(self.write_date) - dt.timedelta(seconds=overlap)).isoformat(sep=" ")
        return ["|", "|", ("write_date", ">", self.write_date),
                "&", ("write_date", "=", self.write_date), ("id", ">", self.id),
                "&", ("write_date", ">=", since), ("id", "not in", sorted(self.seen))]

    def advance(self, rows: list[dict[str, Any]], overlap: int) -> None:
        """Move past `rows` (never backwards: a late row is remembered, not followed)."""
        for r in rows:
            key = (r["write_date"], r["id"])
            if key > (self.write_date, self.id):
                self.write_date, self.id = key
            self.seen[r["id"]] = r["write_date"]
        since = (dt.datetime.fromisoformat(self.write_date) - dt.timedelta(seconds=overlap)).isoformat(sep=" ")
        kept = sorted(((wd, i) for i, wd in self.seen.items() if wd >= since), reverse=True)[:MAX_SEEN]
        self.seen = {i: wd for wd, i in kept}


class ErpConnector:
    """Odoo over JSON-RPC or JSON-2, through the one HTTP policy."""

    def __init__(self, conn: ConnectionInfo, system: str = "erp") -> None:
        self.system = system
        self.db = conn.extra.get("db") or conn.schema or ""
        self.login = conn.login or ""
        self.secret = conn.password or ""
        self.protocol = str(conn.extra.get("protocol", "jsonrpc")).lower()
        if self.protocol not in ("jsonrpc", "json2"):
            raise ValueError(f"connection {conn.conn_id}: protocol must be jsonrpc or json2, not {self.protocol!r}")
        self.page_size = int(conn.extra.get("page_size", 500))
        self.overlap = int(conn.extra.get("overlap_seconds", OVERLAP_SECONDS))
        base = ConnectionInfo(conn.conn_id, conn.conn_type, conn.host, conn.port, extra=conn.extra)
        headers = {}
        if self.protocol == "json2":
            headers = {"Authorization": f"bearer {self.secret}", "X-Odoo-Database": self.db}
        self.http = client_for(base, system, headers)
        self._uid: int | None = None

    @classmethod
    def from_connection(cls, conn_id: str = "waybill_erp") -> ErpConnector:
        return cls(get_connection(conn_id))

    # --- calls -----------------------------------------------------------------------------------

    def call(self, model: str, method: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None, *,
             stream: str = "-") -> tuple[Any, bytes]:
        """Run a model method; returns (result, raw response body)."""
        if self.protocol == "json2":
            params = dict(kwargs or {})
            if args:
                params.update(dict(zip(_POSITIONAL[method], args, strict=False)))
            try:
                resp = self.http.request("POST", f"/json/2/{model}/{method}", stream=stream, json=params)
            except PermanentHTTPError as err:
                raise _json2_error(model, method, err) from None
            return resp.json(), resp.content
        body = self._rpc("object", "execute_kw",
                         [self.db, self.uid(), self.secret, model, method, args or [], kwargs or {}], stream)
        return _result(model, method, body), body

    def uid(self) -> int:
        """The user id of the Connection's login (JSON-RPC only), authenticated once."""
        if self._uid is None:
            uid = _result("common", "authenticate",
                          self._rpc("common", "authenticate", [self.db, self.login, self.secret, {}], "auth"))
            if not uid:
                raise ErpError("common", "authenticate", "AccessDenied",
                               f"login {self.login!r} on database {self.db!r} was refused")
            self._uid = int(uid)
        return self._uid

    def _rpc(self, service: str, method: str, args: list[Any], stream: str) -> bytes:
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1,
                   "params": {"service": service, "method": method, "args": args}}
        return self.http.request("POST", "/jsonrpc", stream=stream, json=payload).content

    # --- fetch -----------------------------------------------------------------------------------

    def cursor_since(self, stream: str, when: dt.datetime) -> str:
        """The cursor of `stream` that reads the records written at `when` (UTC) or later."""
        start = Cursor(when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if when.tzinfo else
                       when.strftime("%Y-%m-%d %H:%M:%S"), 0)
        if stream == "orders":
            return json.dumps({"orders": start.to_dict(), "lines": start.to_dict()}, separators=(",", ":"))
        return start.dump()

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        """Pages of `stream` after `cursor`, until a short page; each carries the cursor after it."""
        if stream == "orders":
            return self._fetch_orders(cursor)
        cur = Cursor.load(cursor)
        return self._read(stream, cur, cur.dump)

    def _read(self, stream: str, cur: Cursor, dump: Callable[[], str],
              seen_rows: Callable[[list[dict[str, Any]], list[dict[str, Any]]], None] | None = None) -> Iterator[Page]:
        """Keyset pages of a stream's model after `cur` (orders come with their lines)."""
        spec = STREAMS[stream]
        while True:
            domain = [*spec.domain, *cur.domain(self.overlap)]
            rows, body = self.call(spec.model, "search_read", [domain, list(spec.fields)],
                                   {"limit": self.page_size, "order": ORDER}, stream=stream)
            key = spec.model
            if rows:
                key += f" {rows[0]['write_date']}/{rows[0]['id']}..{rows[-1]['write_date']}/{rows[-1]['id']}"
            cur.advance(rows, self.overlap)
            if stream == "orders":
                page = self._with_lines(key, rows, body, dump)
                if seen_rows is not None:
                    seen_rows(rows, page.related.get("lines", []))
                yield page
            else:
                yield Page(b'{"records":' + body + b"}", key, rows, dump())
            if len(rows) < self.page_size:
                return

    def _with_lines(self, key: str, rows: list[dict[str, Any]], body: bytes, dump: Callable[[], str]) -> Page:
        """A page of orders with their sale.order.line rows; raw holds both answers."""
        if not rows:
            return Page(b'{"records":' + body + b"}", key, rows, dump())
        lines, lines_body = self.call("sale.order.line", "search_read",
                                      [[("order_id", "in", [r["id"] for r in rows])], list(LINE_FIELDS)],
                                      {"order": "id asc"}, stream="orders")
        return Page(b'{"records":' + body + b',"lines":' + lines_body + b"}", key, rows, dump(), {"lines": lines})

    def _fetch_orders(self, cursor: str | None) -> Iterator[Page]:
        """Orders changed after the orders cursor, then orders whose lines changed after the lines
        cursor (a delivery moves a line's qty_delivered and write_date, not always its order's)."""
        state = json.loads(cursor) if cursor else {}
        orders, lines = Cursor.from_dict(state.get("orders")), Cursor.from_dict(state.get("lines"))
        full = not orders.write_date and not lines.write_date
        taken: set[int] = set()

        def dump() -> str:
            return json.dumps({"orders": orders.to_dict(), "lines": lines.to_dict()}, separators=(",", ":"))

        def seen(rows: list[dict[str, Any]], order_lines: list[dict[str, Any]]) -> None:
            taken.update(r["id"] for r in rows)
            if full:  # a full read saw every line: the lines cursor starts after them
                lines.advance(order_lines, self.overlap)

        yield from self._read("orders", orders, dump, seen)
        while True:
            changed, _ = self.call("sale.order.line", "search_read",
                                   [lines.domain(self.overlap), ["order_id", "write_date"]],
                                   {"limit": self.page_size, "order": ORDER}, stream="orders")
            ids = sorted({ln["order_id"][0] for ln in changed} - taken)
            lines.advance(changed, self.overlap)
            rows, body = self.call("sale.order", "search_read", [[("id", "in", ids)], list(STREAMS["orders"].fields)],
                                   {"order": ORDER}, stream="orders") if ids else ([], b"[]")
            taken.update(ids)
            yield self._with_lines(f"sale.order by changed lines {ids[:3]}..", rows, body, dump)
            if len(changed) < self.page_size:
                return

    # --- write-back ------------------------------------------------------------------------------

    def product_ids(self, skus: list[str]) -> dict[str, int]:
        """product.product ids by internal reference (default_code)."""
        if not skus:
            return {}
        rows, _ = self.call("product.product", "search_read",
                            [[("default_code", "in", sorted(set(skus)))], ["default_code"]], {}, stream="orders-out")
        return {r["default_code"]: r["id"] for r in rows}

    def create_order(self, values: dict[str, Any]) -> tuple[str, int]:
        """Create a sale.order unless one with the same client_order_ref exists.

        Returns ("ok", new id) or ("duplicate", existing id); raises ErpError if Odoo refuses it.
        """
        ref = values["client_order_ref"]
        found, _ = self.call("sale.order", "search", [[("client_order_ref", "=", ref)]], {"limit": 1},
                             stream="orders-out")
        if found:
            return "duplicate", int(found[0])
        new_id, _ = self.call("sale.order", "create", [values], {}, stream="orders-out")
        return "ok", int(new_id)


#: JSON-2 takes keywords only: the names of the positional arguments execute_kw would get.
_POSITIONAL: dict[str, tuple[str, ...]] = {
    "search_read": ("domain", "fields"), "search": ("domain",), "search_count": ("domain",),
    "read": ("ids", "fields"), "create": ("vals_list",), "write": ("ids", "vals"),
}


def _result(model: str, method: str, body: bytes) -> Any:
    try:
        data = json.loads(body)
    except ValueError:
        raise ErpError(model, method, "InvalidResponse", f"not JSON: {body[:120]!r}") from None
    if "error" in data:
        err = data["error"].get("data") or {}
        message = err.get("message") or data["error"].get("message", "")
        raise ErpError(model, method, err.get("name") or "OdooError", message)
    return data.get("result")


def _json2_error(model: str, method: str, err: PermanentHTTPError) -> ErpError:
    try:
        data = json.loads(err.body)
    except ValueError:
        data = {}
    return ErpError(model, method, data.get("name") or f"HTTP {err.status}", data.get("message") or err.body)


def page_from_raw(stream: str, raw: bytes) -> Page:
    """A logged page back into records (for replay): the bodies of its JSON-RPC or JSON-2 calls."""
    data = json.loads(raw)

    def unwrap(body: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = body["result"] if isinstance(body, dict) else body
        return rows

    related = {"lines": unwrap(data["lines"])} if "lines" in data else {}
    return Page(raw, "", unwrap(data["records"]), None, related)
