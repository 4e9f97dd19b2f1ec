"""The ERP connector: Odoo's external API, JSON-RPC (`execute_kw`) or JSON-2, chosen by the Connection.

Connection `waybill_erp` (JSON form), e.g.
    {"conn_type": "http", "host": "erp.example", "port": 8069, "login": "integration",
     "password": "...", "extra": {"db": "prod", "protocol": "jsonrpc", "page_size": 500}}
With "protocol": "json2" the password is the API key, sent as a bearer token (Odoo 19+).

Streams (fetch): customers (res.partner), orders (sale.order with their sale.order.line),
invoices (account.move: customer invoices and credit notes) and payments (account.payment,
inbound). Every page of orders, invoices and payments also carries the partners it names with their
parents (`parent_of`), so the hub knows each record's commercial partner whatever its
customer_rank (Odoo raises the rank only when an invoice is posted); order pages carry their
products (internal reference and barcode) and Odoo's units of measure. Dates are read in the
company's timezone (extra "timezone", an IANA name; Odoo stores UTC).
Reads are incremental on write_date, which Odoo keeps as naive UTC with second precision, so many
rows share one value. The cursor is therefore (write_date, id) and pages are read in that order;
rows committed late with an older write_date are caught by re-reading an overlap window
behind the cursor, and the ids already taken in that window are remembered in the
cursor so that re-reading returns only what is new (a run without changes gets one empty page).
Orders have a second cursor on their lines: a delivery changes a line (qty_delivered) without
always touching the order, so orders whose lines changed are read again too.
Write-back (create_order): a sale.order is created only if none carries the same client_order_ref;
JSON-2 answers `create` with a list of ids, JSON-RPC with one id.
Companies: every call runs with Odoo's context `allowed_company_ids` set to the companies the
integration user is allowed (its `company_ids`, its current company first), or to those of them the
Connection names (extra "companies": names or ids), so a user allowed several companies reads them
all whatever its current one. The companies the user cannot see (named by the Connection but not
allowed, or visible in Odoo but outside the user's list) are logged once as a WARNING: their
records are not read, and Odoo would not say so.
Errors: Odoo's own (JSON-RPC `error.data`, any `code`; JSON-2 bodies {name, message, debug}, read
whole) become ErpError with Odoo's exception class; an HTML answer (JSON-2 on a database the server
does not serve) says which database was asked for.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from waybill.connectors.connection import ConnectionInfo, get_connection
from waybill.connectors.http import HttpClient, PermanentHTTPError, client_for
from waybill.connectors.pages import Page
from waybill.core.errors import WaybillError
from waybill.core.logs import event, get_logger

log = get_logger("connectors.erp")

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
        "name", "is_company", "parent_id", "commercial_partner_id", "ref", "vat", "barcode", "email", "phone",
        "street", "city", "zip", "country_code",
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
    # Odoo Inventory, for the WMS profile (connectors/wms.py): stock per product and internal location,
    # and outgoing deliveries (carrier and tracking reference when the delivery module is installed)
    "stock": Stream("stock.quant", ("product_id", "location_id", "quantity", "reserved_quantity", "write_date"),
                    (("location_id.usage", "=", "internal"),)),
    "shipments": Stream("stock.picking", (
        "name", "origin", "sale_id", "partner_id", "state", "scheduled_date", "date_done", "write_date"),
        (("picking_type_code", "=", "outgoing"),)),
}
#: fields of stock.picking read only where Odoo has them (module stock_delivery)
CARRIER_FIELDS = ("carrier_id", "carrier_tracking_ref")
LINE_FIELDS = ("order_id", "sequence", "display_type", "product_id", "name", "product_uom_qty", "qty_delivered",
               "price_unit", "product_uom_id", "write_date")
PRODUCT_FIELDS = ("default_code", "barcode")
#: account.move.line of an invoice's products (display_type "product"; taxes, terms and notes are not lines)
INVOICE_LINE_FIELDS = ("move_id", "sequence", "product_id", "name", "quantity", "price_unit", "price_subtotal")
UOM_FIELDS = ("name", "relative_uom_id", "relative_factor")
#: what a page may carry beside its records (Page.related), as logged in its raw bytes
RELATED = ("lines", "invoice_lines", "partners", "commercial", "products", "uoms", "quants", "settings")
#: the models whose pages carry their partners (the field naming the partner)
PARTNER_OF = {"sale.order": "partner_id", "account.move": "partner_id", "account.payment": "partner_id",
              "stock.picking": "partner_id"}


class ErpError(WaybillError):
    """An error Odoo reported (its exception class in `name`); permanent: retrying will not help."""

    def __init__(self, model: str, method: str, name: str, message: str, *,
                 status: int | None = None) -> None:
        super().__init__(f"erp {model}.{method}: {name}: {message}")
        self.name = name
        self.reason = message
        self.status = status


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
        self.timezone = str(conn.extra.get("timezone") or "UTC")
        named = conn.extra.get("companies") or []
        if not isinstance(named, list) or not all(isinstance(c, (int, str)) for c in named):
            raise ValueError(f"connection {conn.conn_id}: companies must be a list of company names or ids")
        self.named_companies: list[int | str] = named
        self.overlap = int(conn.extra.get("overlap_seconds", OVERLAP_SECONDS))
        base = ConnectionInfo(conn.conn_id, conn.conn_type, conn.host, conn.port, extra=conn.extra)
        headers = {}
        if self.protocol == "json2":
            headers = {"Authorization": f"bearer {self.secret}", "X-Odoo-Database": self.db}
        self.http = client_for(base, system, headers, secrets=(self.secret,))
        # A create is sent once: a retry after a timeout would make a second record when the ERP made
        # the first after the client gave up (the caller finds it by its reference on the next try).
        self.http_once = HttpClient(system, self.http.base_url, replace(self.http.policy, max_attempts=1),
                                    session=self.http.session, secrets=self.http.secrets)
        self._uid: int | None = None
        #: allowed_company_ids of every call, once read (None: not yet)
        self._companies: list[int] | None = None
        self._uoms: tuple[list[dict[str, Any]], bytes] | None = None
        self._carrier_fields: list[str] | None = None
        #: partner id -> its commercial partner's, for the partners this connector read (and handed to the hub)
        self._commercial: dict[int, int] = {}

    @classmethod
    def from_connection(cls, conn_id: str = "waybill_erp") -> ErpConnector:
        return cls(get_connection(conn_id))

    # --- calls -----------------------------------------------------------------------------------

    def call(self, model: str, method: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None, *,
             stream: str = "-", once: bool = False) -> tuple[Any, bytes]:
        """Run a model method with the integration user's companies; returns (result, raw response body).
        `once`: no retry of a call that may have taken effect (a create), a transient failure is raised at once."""
        context = {"allowed_company_ids": self.companies(), **(kwargs or {}).get("context", {})}
        return self._call(model, method, args, {**(kwargs or {}), "context": context}, stream=stream, once=once)

    def _call(self, model: str, method: str, args: list[Any] | None, kwargs: dict[str, Any] | None, *,
              stream: str, once: bool = False) -> tuple[Any, bytes]:
        http = self.http_once if once else self.http
        if self.protocol == "json2":
            params = dict(kwargs or {})
            if args:
                params.update(dict(zip(_POSITIONAL.get(method, ("ids",)), args, strict=False)))
            try:
                resp = http.request("POST", f"/json/2/{model}/{method}", stream=stream, json=params)
            except PermanentHTTPError as err:
                raise _json2_error(model, method, err, self.db) from None
            return resp.json(), resp.content
        body = self._rpc("object", "execute_kw",
                         [self.db, self.uid(), self.secret, model, method, args or [], kwargs or {}], stream, http=http)
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

    def companies(self) -> list[int]:
        """The ids of the companies read (the user's allowed ones, its current company first, or those
        of them the Connection names), read once; warns about the companies the user cannot see."""
        if self._companies is None:
            me, _ = self._call("res.users", "context_get", [], {}, stream="auth")
            [user], _ = self._call("res.users", "read", [[me["uid"]], ["login", "company_id", "company_ids"]], {},
                                   stream="auth")
            current = user["company_id"][0]
            allowed: list[int] = [current, *(c for c in user["company_ids"] if c != current)]
            # a plain user sees only its own companies here; a user who administers companies sees all
            visible, _ = self._call("res.company", "search_read", [[], ["name"]],
                                    {"order": "id asc", "context": {"allowed_company_ids": allowed}}, stream="auth")
            names = {c["id"]: str(c["name"]) for c in visible}
            wanted = allowed
            unseen: list[dict[str, Any]] = [{"id": i, "name": n} for i, n in names.items() if i not in allowed]
            if self.named_companies:
                by_name = {n: i for i, n in names.items() if i in allowed}
                ids = {c: c if isinstance(c, int) else by_name.get(c, 0) for c in self.named_companies}
                wanted = [c for c in allowed if c in ids.values()]
                unseen = [{"id": c, "name": names.get(c, "")} if isinstance(c, int) else {"id": None, "name": c}
                          for c, i in ids.items() if i not in allowed]
            if unseen:
                event(log, "erp-companies-not-visible", severity=logging.WARNING, system=self.system,
                      login=user["login"], companies=unseen, read=[{"id": c, "name": names.get(c, "")} for c in wanted],
                      why="the integration user is not allowed these companies: their records are not read")
            if not wanted:
                raise ErpError("res.users", "read", "NoCompany",
                               f"user {user['login']!r} is allowed none of the companies {self.named_companies!r}")
            self._companies = wanted
        return self._companies

    def _rpc(self, service: str, method: str, args: list[Any], stream: str, *,
             http: HttpClient | None = None) -> bytes:
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1,
                   "params": {"service": service, "method": method, "args": args}}
        return (http or self.http).request("POST", "/jsonrpc", stream=stream, json=payload).content

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
            rows, body = self.call(spec.model, "search_read", [domain, self.fields_of(stream)],
                                   {"limit": self.page_size, "order": ORDER}, stream=stream)
            key = spec.model
            if rows:
                key += f" {rows[0]['write_date']}/{rows[0]['id']}..{rows[-1]['write_date']}/{rows[-1]['id']}"
            cur.advance(rows, self.overlap)
            page = self._page(stream, key, rows, body, dump=dump)
            if seen_rows is not None:
                seen_rows(rows, page.related.get("lines", []))
            yield page
            if len(rows) < self.page_size:
                return

    def _page(self, stream: str, key: str, rows: list[dict[str, Any]], body: bytes, *,
              dump: Callable[[], str]) -> Page:
        """A page of `stream` with what its records need; raw holds every answer, as received."""
        parts = [b'{"records":', body]
        related: dict[str, list[dict[str, Any]]] = {"settings": [{"timezone": self.timezone}]}
        parts += [b',"settings":', json.dumps(related["settings"]).encode()]
        model = STREAMS[stream].model
        if model == "res.partner":
            self._remember(rows)
        named = {r[PARTNER_OF[model]][0] for r in rows if r.get(PARTNER_OF[model])} if model in PARTNER_OF else set()
        # the partners a page names, with their parents, read once per connector (run): the hub has
        # them from then on; later pages carry only which commercial partner each belongs to
        ids = sorted(named - self._commercial.keys())
        if ids:
            partners, partners_body = self.call("res.partner", "search_read",
                                                [[("id", "parent_of", ids)], list(STREAMS["customers"].fields)],
                                                {"order": "id asc"}, stream=stream)
            self._remember(partners)
            related["partners"] = partners
            parts += [b',"partners":', partners_body]
        if named:
            related["commercial"] = [{"id": i, "commercial_partner_id": [self._commercial.get(i, i), ""]}
                                     for i in sorted(named)]
            parts += [b',"commercial":', json.dumps(related["commercial"]).encode()]
        if rows and stream == "invoices":
            lines, lines_body = self.call(
                "account.move.line", "search_read",
                [[("move_id", "in", [r["id"] for r in rows]), ("display_type", "=", "product")],
                 list(INVOICE_LINE_FIELDS)], {"order": "id asc"}, stream=stream)
            related["invoice_lines"] = lines
            parts += [b',"invoice_lines":', lines_body]
        if rows and stream == "stock":
            # a product's stock at a location may be several quants (lots, packages, owners): all of
            # them, so that a level is their sum even when only one of them changed
            product_ids = sorted({r["product_id"][0] for r in rows if r.get("product_id")})
            location_ids = sorted({r["location_id"][0] for r in rows if r.get("location_id")})
            quants, quants_body = self.call(
                "stock.quant", "search_read", [[("product_id", "in", product_ids), ("location_id", "in", location_ids)],
                                               list(STREAMS["stock"].fields)], {"order": "id asc"}, stream=stream)
            related["quants"] = quants
            parts += [b',"quants":', quants_body]
            products, products_body = self.call(
                "product.product", "search_read", [[("id", "in", product_ids)], list(PRODUCT_FIELDS)],
                {"order": "id asc", "context": {"active_test": False}}, stream=stream)
            related["products"] = products
            parts += [b',"products":', products_body]
        if rows and stream == "orders":
            lines, lines_body = self.call("sale.order.line", "search_read",
                                          [[("order_id", "in", [r["id"] for r in rows])], list(LINE_FIELDS)],
                                          {"order": "id asc"}, stream=stream)
            product_ids = sorted({ln["product_id"][0] for ln in lines if ln.get("product_id")})
            products, products_body = self.call(
                "product.product", "search_read", [[("id", "in", product_ids)], list(PRODUCT_FIELDS)],
                {"order": "id asc", "context": {"active_test": False}}, stream=stream) if product_ids else ([], b"[]")
            uoms, uoms_body = self.uoms()
            related.update(lines=lines, products=products, uoms=uoms)
            parts += [b',"lines":', lines_body, b',"products":', products_body, b',"uoms":', uoms_body]
        return Page(b"".join([*parts, b"}"]), key, rows, dump(), related)

    def _remember(self, partners: list[dict[str, Any]]) -> None:
        for p in partners:
            owner = p.get("commercial_partner_id")
            self._commercial[p["id"]] = owner[0] if isinstance(owner, list) and owner else p["id"]

    def fields_of(self, stream: str) -> list[str]:
        """The fields read of a stream's model: its own, and the carrier's on deliveries where Odoo has them."""
        fields = list(STREAMS[stream].fields)
        if stream == "shipments":
            if self._carrier_fields is None:
                known, _ = self.call("stock.picking", "fields_get", [], {"attributes": ["type"]}, stream=stream)
                self._carrier_fields = [f for f in CARRIER_FIELDS if f in known]
            fields += self._carrier_fields
        return fields

    def uoms(self) -> tuple[list[dict[str, Any]], bytes]:
        """Odoo's units of measure (uom.uom with the unit each is defined from), read once."""
        if self._uoms is None:
            self._uoms = self.call("uom.uom", "search_read", [[], list(UOM_FIELDS)],
                                   {"order": "id asc", "context": {"active_test": False}}, stream="orders")
        return self._uoms

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
            yield self._page("orders", f"sale.order by changed lines {ids[:3]}..", rows, body, dump=dump)
            if len(changed) < self.page_size:
                return

    # --- write-back ------------------------------------------------------------------------------

    def products(self, gtins: list[str], codes: list[str], ids: list[int]) -> list[dict[str, Any]]:
        """product.product rows (id, default_code, barcode) with one of these barcodes, internal
        references or ids."""
        terms = [t for t in (("barcode", "in", gtins), ("default_code", "in", codes), ("id", "in", ids)) if t[2]]
        if not terms:
            return []
        domain: list[Any] = ["|"] * (len(terms) - 1) + list(terms)
        rows: list[dict[str, Any]] = self.call("product.product", "search_read", [domain, list(PRODUCT_FIELDS)], {},
                                               stream="orders-out")[0]
        return rows

    def find_order(self, client_order_ref: str, partner: int) -> dict[str, Any] | None:
        """The sale.order (id, name, state, locked) carrying `client_order_ref` for `partner`, if any."""
        found, _ = self.call("sale.order", "search_read",
                             [[("client_order_ref", "=", client_order_ref), ("partner_id", "=", partner)],
                              ["name", "state", "locked"]], {"limit": 1}, stream="orders-out")
        return found[0] if found else None

    def product_lines(self, order_id: int) -> list[dict[str, Any]]:
        """An order's product lines (no sections or notes) in sequence order."""
        rows: list[dict[str, Any]] = self.call(
            "sale.order.line", "search_read", [[("order_id", "=", order_id), ("display_type", "=", False)],
                                               ["product_id", "product_uom_qty", "price_unit"]],
            {"order": "sequence asc, id asc"}, stream="orders-out")[0]
        return rows

    def new_order(self, values: dict[str, Any], *, confirm: bool = False) -> tuple[int, str]:
        """Create a sale.order (a quotation; confirmed when `confirm`); returns its id and number.
        The create is sent once: on a transient failure the order may exist, and the caller's next
        try finds it by client_order_ref instead of creating it again."""
        created, _ = self.call("sale.order", "create", [values], {}, stream="orders-out", once=True)
        order_id = _one_id(created)
        if confirm:
            self.call("sale.order", "action_confirm", [[order_id]], stream="orders-out")
        [row], _ = self.call("sale.order", "read", [[order_id], ["name"]], stream="orders-out")
        return order_id, str(row["name"])

    def change_order(self, order_id: int, commands: list[list[Any]]) -> None:
        """Apply order_line commands to a sale.order; Odoo refuses what its state does not allow.
        Sent once, like a create: a retried write would add its new lines twice; the next try
        computes the change again from the ERP's lines."""
        self.call("sale.order", "write", [[order_id], {"order_line": commands}], stream="orders-out", once=True)


#: JSON-2 takes keywords only: the names of the positional arguments execute_kw would get (a record
#: method such as action_confirm takes the ids).
_POSITIONAL: dict[str, tuple[str, ...]] = {
    "search_read": ("domain", "fields"), "search": ("domain",), "search_count": ("domain",),
    "read": ("ids", "fields"), "create": ("vals_list",), "write": ("ids", "vals"),
}


def _one_id(created: Any) -> int:
    """The id `create` answered: JSON-2 gives a list of ids ([45]), JSON-RPC one id (45)."""
    if isinstance(created, list):
        if len(created) != 1:
            raise ErpError("sale.order", "create", "InvalidResponse", f"expected one new id, got {created!r}")
        created = created[0]
    return int(created)


def _result(model: str, method: str, body: bytes) -> Any:
    """A JSON-RPC answer's result, or its error (whatever its `code`: Odoo 19 sends 0) as ErpError."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ErpError(model, method, "InvalidResponse", f"not JSON: {body[:120]!r}") from None
    if "error" in data:
        error: dict[str, Any] = data["error"] if isinstance(data["error"], dict) else {"message": str(data["error"])}
        err: dict[str, Any] = error.get("data") or {}
        message = err.get("message") or error.get("message", "")
        raise ErpError(model, method, err.get("name") or "OdooError", message)
    return data.get("result")


def _json2_error(model: str, method: str, err: PermanentHTTPError, db: str) -> ErpError:
    """A JSON-2 error answer: Odoo's {name, message, debug} (read whole: the traceback in `debug`
    makes it several KB), or the HTML page of a server that does not serve the database."""
    try:
        data = json.loads(err.body)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("name"):
        return ErpError(model, method, str(data["name"]), str(data.get("message") or ""), status=err.status)
    if err.body.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        return ErpError(model, method, "DatabaseNotFound",
                        f"the server does not serve database {db!r} (HTTP {err.status})", status=err.status)
    return ErpError(model, method, f"HTTP {err.status}", err.body[:500], status=err.status)


def page_from_raw(stream: str, raw: bytes) -> Page:
    """A logged page back into records (for replay): the bodies of its JSON-RPC or JSON-2 calls."""
    data = json.loads(raw)

    def unwrap(body: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = body["result"] if isinstance(body, dict) else body
        return rows

    related = {name: unwrap(data[name]) for name in RELATED if name in data}
    return Page(raw, "", unwrap(data["records"]), None, related)
