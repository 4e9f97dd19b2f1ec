"""An Odoo ERP simulator: the external API over JSON-RPC (`/jsonrpc`) and JSON-2 (`/json/2/...`).

JSON-RPC: `common.authenticate(db, login, password, {})` answers the uid (or false);
`object.execute_kw(db, uid, password, model, method, args, kwargs)` runs a model method. Errors
come back as Odoo sends them: HTTP 200 with a JSON-RPC `error` whose `data.name` is the exception
class (odoo.exceptions.AccessDenied, ValidationError, ...).
JSON-2 (Odoo 19): `POST /json/2/<model>/<method>` with `Authorization: bearer <api key>` and the
method's keyword arguments as the JSON body; errors are HTTP 401/404/422/500 with
{name, message, arguments, context, debug}.

Methods: search_read, search, search_count, read, create, write, fields_get on res.partner,
product.product, sale.order, sale.order.line, account.move and account.payment; res.users.context_get.
Odoo Inventory as Odoo 19 has it with the delivery module: stock.quant per product, location and lot
(several quants of one product at one location), counted with inventory_quantity and
action_apply_inventory; outgoing stock.picking per confirmed order (the latest PICKINGS) with its
stock.move lines, carrier_id and carrier_tracking_ref; stock.location with its usage, so domains
on a path such as ("location_id.usage", "=", "internal") work. The user is
allowed companies (`company_ids`, `company_id` the current one) and sees, as in Odoo, only the
records of the companies in the call's `allowed_company_ids` (a company it is not allowed there is
an AccessError); without that context, all of its companies. Domains are Odoo's prefix notation
('&', '|', '!' and [field, op, value] leaves; many2one values compare by id). search_read with
order "write_date asc, id asc" walks a (write_date, id) index from the domain's lowest write_date,
so incremental reads cost what they return, as on the real database.

The data comes from sim.dataset; changes after that (writes, created orders) are journaled to
`<folder>/erp.json` and replayed on start. Fault endpoints are named "<model>/<method>" (and
"common/authenticate").

    python -m sim.erp --port 8069 --state /tmp/erp --seed 1 [--orders 400 --customers 60]
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim import dataset as gen
from sim.faults import Faults
from sim.http_server import HttpError, Request, Response, SimServer, cli_parser, faults_from_args, json_response

MODELS = ("res.company", "res.users", "res.partner", "product.product", "uom.uom", "sale.order", "sale.order.line",
          "account.move", "account.move.line", "account.payment", "stock.location", "stock.quant", "stock.picking",
          "stock.move")
#: the model a many2one field points to, for domains on a path ("location_id.usage")
COMODELS = {"location_id": "stock.location", "location_dest_id": "stock.location", "product_id": "product.product",
            "partner_id": "res.partner", "picking_id": "stock.picking", "order_id": "sale.order",
            "sale_id": "sale.order", "company_id": "res.company"}
#: Odoo Inventory's locations in the simulator (display name = complete name, as Odoo reads it)
LOCATIONS = [{"id": 1, "name": "Stock", "complete_name": "WH/Stock", "usage": "internal"},
             {"id": 2, "name": "Shelf 1", "complete_name": "WH/Stock/Shelf 1", "usage": "internal"},
             {"id": 3, "name": "Customers", "complete_name": "Partners/Customers", "usage": "customer"}]
#: carriers (module stock_delivery) of the simulator's deliveries
CARRIERS = ([1, "UPS Ground"], [2, "FedEx Express"])
#: deliveries exist for the latest confirmed orders only, so that a large dataset stays small in memory
PICKINGS = 500
#: fields Odoo 19 has beside those the data carries (read as False when a record has no value)
EXTRA_FIELDS = {"res.partner": {"tz", "lang", "company_id", "child_ids"},
                "product.product": {"active", "type", "uom_id"},
                "sale.order": {"partner_invoice_id", "note", "company_id", "invoice_status", "locked"},
                "sale.order.line": {"product_uom_id", "display_type", "tax_ids"},
                "account.move": {"commercial_partner_id", "invoice_line_ids", "company_id"},
                "account.payment": {"journal_id", "memo", "company_id"}}
#: a stand-in for the traceback Odoo puts in every error's `debug` (several KB)
TRACEBACK = "Traceback (most recent call last):\n" + "  File \"odoo/http.py\", line 2298, in _serve_db\n" * 40
INDEX_ORDER = "write_date asc, id asc"


class OdooError(Exception):
    """An Odoo exception: `name` is its class path, as Odoo reports it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _denied() -> OdooError:
    return OdooError("odoo.exceptions.AccessDenied", "Access Denied")


# --- domains -------------------------------------------------------------------------------------

Predicate = Callable[[dict[str, Any]], bool]
_ARITY = {"&": 2, "|": 2, "!": 1}


def _value(v: Any) -> Any:
    """Many2one values [id, display name] compare by id."""
    return v[0] if isinstance(v, list) and len(v) == 2 and isinstance(v[0], int) else v


def _leaf(field: str, op: str, value: Any) -> Predicate:
    get = lambda r: _value(r.get(field, False))  # noqa: E731 - tiny accessor
    if op == "=":
        return lambda r: get(r) == value
    if op == "!=":
        return lambda r: get(r) != value
    if op in ("in", "not in"):
        values = set(value)
        return (lambda r: get(r) in values) if op == "in" else (lambda r: get(r) not in values)
    if op in ("=like", "like") and value is False:
        return lambda r: False
    if op == "ilike":
        needle = str(value).lower()
        return lambda r: needle in str(get(r) or "").lower()
    compare = {">": lambda a: a > value, ">=": lambda a: a >= value, "<": lambda a: a < value,
               "<=": lambda a: a <= value}.get(op)
    if compare is None:
        raise OdooError("builtins.ValueError", f"Invalid domain operator {op!r}")
    return lambda r: (v := get(r)) is not False and v is not None and compare(v)


def compile_domain(domain: list, parents: Callable[[list[int]], set[int]] | None = None
                   ) -> tuple[Predicate, str | None]:
    """A predicate for an Odoo domain, and the lowest write_date it can match (None: any)."""
    items = list(domain)
    pos = 0

    def node() -> tuple[Predicate, str | None]:
        nonlocal pos
        if pos >= len(items):
            raise OdooError("builtins.ValueError", f"Invalid domain {domain!r}")
        item = items[pos]
        pos += 1
        if isinstance(item, str) and item in _ARITY:
            if item == "!":
                p, _ = node()
                return (lambda r: not p(r)), None
            (a, la), (b, lb) = node(), node()
            if item == "&":
                return (lambda r: a(r) and b(r)), max((x for x in (la, lb) if x), default=None)
            return (lambda r: a(r) or b(r)), None if la is None or lb is None else min(la, lb)
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise OdooError("builtins.ValueError", f"Invalid domain term {item!r}")
        field, op, value = item
        if op == "parent_of":  # the records and their parents, up the parent_id chain
            if parents is None:
                raise OdooError("builtins.ValueError", f"Invalid domain operator {op!r} on this model")
            ids = parents(list(value) if isinstance(value, list) else [value])
            return (lambda r: r["id"] in ids), None
        bound = value if field == "write_date" and op in ("=", ">", ">=") and isinstance(value, str) else None
        return _leaf(field, op, value), bound

    terms = []
    while pos < len(items):
        terms.append(node())
    if not terms:
        return (lambda r: True), None
    pred, bound = terms[0]
    for p, b in terms[1:]:  # top-level terms are and-ed
        pred = (lambda x, y: lambda r: x(r) and y(r))(pred, p)
        bound = max((v for v in (bound, b) if v), default=None)
    return pred, bound


# --- the model store -----------------------------------------------------------------------------


class Model:
    """The records of one model, with a (write_date, id) index."""

    def __init__(self, name: str, records: list[dict[str, Any]]) -> None:
        self.name = name
        self.fields = {"id", "write_date", "display_name", *EXTRA_FIELDS.get(name, ())}
        for r in records:
            self.fields.update(k for k in r if not k.startswith("_"))
        self.rows: dict[int, dict[str, Any]] = {}
        for r in records:
            self.rows[r["id"]] = {k: v for k, v in r.items() if not k.startswith("_")}
        self.index = sorted((r.get("write_date") or "", i) for i, r in self.rows.items())
        #: field -> value -> ids, built on first use, as a database index on a foreign key
        self.by_value: dict[str, dict[Any, list[int]]] = {}
        #: whether any record belongs to a company (only then do reads filter by company)
        self.of_companies = name != "res.company" and any(r.get("company_id") for r in self.rows.values())

    def parents(self, ids: list[int]) -> set[int]:
        """`ids` and their parents (parent_id), as Odoo's parent_of operator."""
        out: set[int] = set()
        todo = [i for i in ids if i in self.rows]
        while todo:
            rid = todo.pop()
            if rid not in out:
                out.add(rid)
                parent = _value(self.rows[rid].get("parent_id", False))
                if parent and parent in self.rows:
                    todo.append(parent)
        return out

    def put(self, row: dict[str, Any]) -> None:
        self.by_value.clear()
        self.of_companies = self.of_companies or (self.name != "res.company" and bool(row.get("company_id")))
        old = self.rows.get(row["id"])
        if old is not None:
            del self.index[bisect.bisect_left(self.index, (old.get("write_date") or "", row["id"]))]
        self.rows[row["id"]] = row
        bisect.insort(self.index, (row.get("write_date") or "", row["id"]))

    def remove(self, rid: int) -> dict[str, Any]:
        """Delete one record, as Odoo's unlink does; returns it."""
        self.by_value.clear()
        old = self.rows.pop(rid)
        del self.index[bisect.bisect_left(self.index, (old.get("write_date") or "", rid))]
        return old

    def search(self, domain: list, offset: int = 0, limit: int | None = None, order: str | None = None) -> list[dict]:
        pred, bound = compile_domain(domain, self.parents)
        wanted = offset + limit if limit else None
        lookup = self._lookup(domain)
        if lookup is not None:
            found = sorted((self.rows[i] for i in lookup), key=_sort_key(order))
        elif _norm(order) == INDEX_ORDER:
            start = bisect.bisect_left(self.index, (bound, 0)) if bound else 0
            found = []
            for _, rid in self.index[start:] if start else self.index:
                row = self.rows[rid]
                if pred(row):
                    found.append(row)
                    if wanted is not None and len(found) >= wanted:
                        break
        else:
            found = sorted((r for r in self.rows.values() if pred(r)), key=_sort_key(order))
        return found[offset:wanted]


    def _lookup(self, domain: list) -> list[int] | None:
        """Ids matching a single `[field, "in" | "=", value]` term through a value index, else None."""
        if len(domain) != 1 or not isinstance(domain[0], (list, tuple)) or domain[0][1] not in ("in", "="):
            return None
        field, op, value = domain[0]
        if field == "id":
            index = None
        else:
            index = self.by_value.get(field)
            if index is None:
                index = self.by_value[field] = {}
                for rid, row in self.rows.items():
                    index.setdefault(_value(row.get(field, False)), []).append(rid)
        values = value if op == "in" else [value]
        if index is None:
            return [v for v in values if v in self.rows]
        return [rid for v in values for rid in index.get(v, ())]


def _norm(order: str | None) -> str:
    parts = [p.split() for p in (order or "id").split(",")]
    return ", ".join(f"{p[0]} {p[1].lower() if len(p) > 1 else 'asc'}" for p in parts)


def _sort_key(order: str | None) -> Callable[[dict], tuple]:
    fields = [(p.split()[0], len(p.split()) > 1 and p.split()[1].lower() == "desc") for p in _norm(order).split(", ")]
    if any(desc for _, desc in fields):
        raise OdooError("builtins.ValueError", "descending order is not supported by the simulator")
    return lambda r: tuple(str(_value(r.get(f))) if f != "id" else r["id"] for f, _ in fields)


class ErpSim:
    """The Odoo simulator's state and request handler (a SimServer handler)."""

    def __init__(self, folder: Path, seed: int = 1, data: gen.Dataset | None = None, db: str = "waybill",
                 login: str = "admin", password: str = "admin", api_key: str = "waybill-api-key",
                 **sizes: int) -> None:
        data = data or gen.generate(seed, logistics=False, **sizes)  # the ERP part is the same either way
        self.db, self.login, self.password, self.api_key = db, login, password, api_key
        self.uid = 2
        self.lock = threading.RLock()
        erp = {"res.company": [{"id": 1, "name": "My Company", "write_date": "2024-01-01 00:00:00"}],
               "res.users": [{"id": self.uid, "login": login, "name": "Administrator", "company_id": [1, "My Company"],
                              "company_ids": [1], "write_date": "2024-01-01 00:00:00"}], **data.erp}
        if "stock.quant" not in erp:
            erp.update(inventory(erp))
        self.models = {name: Model(name, copy.deepcopy(erp.get(name, []))) for name in MODELS}
        self.clock = max(r["write_date"] for m in self.models.values() for r in m.rows.values()
                         if r.get("write_date"))
        self.journal = gen.Journal(folder, "erp", seed)
        for entry in self.journal.entries:
            self._apply(entry)

    # --- changes (also used by tests to move the source on) --------------------------------------

    def tick(self) -> str:
        """The next write_date: one second after the latest one (deterministic)."""
        with self.lock:
            self.clock = gen.fmt(gen.parse(self.clock) + dt.timedelta(seconds=1))
            return self.clock

    def write(self, model: str, rid: int, values: dict[str, Any], write_date: str | None = None) -> dict:
        """Change a record as Odoo would (write_date moves on unless given, e.g. a late commit)."""
        with self.lock:
            entry = {"op": "write", "model": model, "id": rid, "values": values,
                     "write_date": write_date or self.tick()}
            self.journal.append(entry)
            return self._apply(entry)

    def create(self, model: str, values: dict[str, Any]) -> int:
        with self.lock:
            rid = max(self.models[model].rows, default=0) + 1
            self.journal.append({"op": "create", "model": model, "id": rid, "values": values,
                                 "write_date": self.tick()})
            self._apply(self.journal.entries[-1])
            return rid

    def invoice(self, order_id: int, number: str, *, day: str, due: str) -> int:
        """Invoice every line of sale.order `order_id` as posted and unpaid (account.move with its
        product lines, 19% tax as the generator's), as an accountant would in Odoo; returns its id."""
        order = self.models["sale.order"].rows[order_id]
        lines = sorted((ln for ln in self.models["sale.order.line"].rows.values() if ln["order_id"][0] == order_id),
                       key=lambda ln: ln["id"])
        untaxed = round(sum(ln["price_subtotal"] for ln in lines), 2)
        move = self.create("account.move", {
            "name": number, "move_type": "out_invoice", "state": "posted", "partner_id": order["partner_id"],
            "invoice_date": day, "invoice_date_due": due, "currency_id": order["currency_id"],
            "invoice_origin": order["name"], "amount_untaxed": untaxed, "amount_total": round(untaxed * 1.19, 2),
            "amount_residual": round(untaxed * 1.19, 2), "payment_state": "not_paid", "reversed_entry_id": False})
        for ln in lines:
            self.create("account.move.line", {
                "move_id": [move, number], "display_type": "product", "sequence": ln["sequence"],
                "product_id": ln["product_id"], "name": ln["name"], "quantity": ln["product_uom_qty"],
                "price_unit": ln["price_unit"], "price_subtotal": ln["price_subtotal"]})
        return move

    def unlink(self, model: str, rid: int) -> None:
        with self.lock:
            entry = {"op": "unlink", "model": model, "id": rid, "values": {}, "write_date": self.tick()}
            self.journal.append(entry)
            self._apply(entry)

    def _apply(self, entry: dict[str, Any]) -> dict:
        m = self.models[entry["model"]]
        if entry["op"] == "unlink":
            return m.remove(entry["id"])
        if entry["op"] == "write":
            if entry["id"] not in m.rows:
                raise OdooError("odoo.exceptions.MissingError",
                                f"Record {entry['model']}({entry['id']}) does not exist")
            row = {**m.rows[entry["id"]], **entry["values"]}
        else:
            row = {"id": entry["id"], **entry["values"]}
        row["write_date"] = entry["write_date"]
        self.clock = max(self.clock, entry["write_date"])
        m.put(row)
        return row

    # --- the API ---------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        if request.method != "POST":
            raise HttpError(405, "use POST")
        if request.path == "/jsonrpc":
            return self._jsonrpc(request)
        if request.path.startswith("/json/2/"):
            return self._json2(request)
        raise HttpError(404, f"no route {request.path}")

    def _jsonrpc(self, request: Request) -> Response:
        body = request.json()
        params = body.get("params") or {} if isinstance(body, dict) else {}
        rid = body.get("id") if isinstance(body, dict) else None
        try:
            result = self._service(params.get("service"), params.get("method"), params.get("args") or [])
        except OdooError as err:  # Odoo 19 answers every server error with code 0
            error = {"code": 0, "message": "Odoo Server Error",
                     "data": {"name": err.name, "message": err.message, "arguments": [err.message], "context": {},
                              "debug": TRACEBACK}}
            return json_response({"jsonrpc": "2.0", "id": rid, "error": error})
        return json_response({"jsonrpc": "2.0", "id": rid, "result": result})

    def _service(self, service: str | None, method: str | None, args: list) -> Any:
        if service == "common" and method in ("authenticate", "login"):
            db, login, password = args[:3]
            self._check_db(db)
            return self.uid if (login, password) == (self.login, self.password) else False
        if service == "common" and method == "version":
            return {"server_version": "19.0", "server_version_info": [19, 0, 0, "final", 0, ""]}
        if service == "object" and method == "execute_kw":
            db, uid, password, model, name = args[:5]
            self._check_db(db)
            if (uid, password) != (self.uid, self.password):
                raise _denied()
            if model not in self.models:
                raise OdooError("odoo.exceptions.UserError", f"Object {model} doesn't exist")
            call_args = args[5] if len(args) > 5 else []
            kwargs = args[6] if len(args) > 6 else {}
            return self.execute(model, name, list(call_args), dict(kwargs), many_ids=False)
        raise OdooError("builtins.KeyError", f"unknown service method {service}.{method}")

    def _check_db(self, db: str) -> None:
        if db != self.db:
            raise OdooError("psycopg2.OperationalError", f'connection to server at "127.0.0.1", port 5432 failed: '
                                                         f'FATAL:  database "{db}" does not exist\n')

    def _json2(self, request: Request) -> Response:
        _, _, model, method = [*request.path.rstrip("/").split("/"), "", ""][1:5]
        db = request.headers.get("X-Odoo-Database")
        if db and db != self.db:  # the server's own 404 page: no database, so no JSON-2 route
            return Response(404, NOT_FOUND_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        if request.bearer() != self.api_key:
            return _json2_error(401, OdooError("werkzeug.exceptions.Unauthorized", "Invalid apikey"))
        if model not in self.models:
            return _json2_error(404, OdooError("werkzeug.exceptions.NotFound", f"the model '{model}' does not exist"))
        if method not in METHODS:
            return _json2_error(404, OdooError("werkzeug.exceptions.NotFound",
                                               f"The method '{model}.{method}' does not exist"))
        kwargs = request.json() or {}
        try:
            return json_response(self.execute(model, method, [], dict(kwargs), many_ids=True))
        except OdooError as err:
            status = {"odoo.exceptions.AccessDenied": 401, "odoo.exceptions.AccessError": 403,
                      "odoo.exceptions.MissingError": 404, "odoo.exceptions.ValidationError": 422,
                      "odoo.exceptions.UserError": 422}.get(err.name, 500)
            return _json2_error(status, err)

    def execute(self, model: str, method: str, args: list, kwargs: dict, *, many_ids: bool = False) -> Any:
        """Run one model method; positional args as execute_kw passes them, or keywords (JSON-2,
        `many_ids`: `create` answers a list of ids whatever it was given, as Odoo 19's JSON-2 does)."""
        if model not in self.models:
            raise OdooError("odoo.exceptions.UserError", f"Object {model} doesn't exist")
        m = self.models[model]
        with self.lock:
            companies = self._companies(kwargs.get("context") or {})
            if method == "context_get" and model == "res.users":
                return {"lang": "en_US", "tz": False, "uid": self.uid}
            if method in ("search_read", "search", "search_count"):
                domain = self._paths(args[0] if args else kwargs.get("domain", []))
                if m.of_companies:  # Odoo's multi-company record rule
                    domain = ["|", ("company_id", "=", False), ("company_id", "in", companies), *domain]
                rows = m.search(domain, int(kwargs.get("offset") or 0), kwargs.get("limit") or None,
                                kwargs.get("order"))
                if method == "search_count":
                    return len(rows)
                if method == "search":
                    return [r["id"] for r in rows]
                return _fields(m, rows, args[1] if len(args) > 1 else kwargs.get("fields"))
            if method == "read":
                ids = args[0] if args else kwargs.get("ids", [])
                missing = [i for i in ids if i not in m.rows]
                hidden = [i for i in ids if m.of_companies and i in m.rows
                          and _value(m.rows[i].get("company_id", False)) not in (False, *companies)]
                if hidden:
                    raise OdooError("odoo.exceptions.AccessError",
                                    f"You are not allowed to access '{model}' records {tuple(hidden)} "
                                    "(records of companies not in allowed_company_ids)")
                if missing:
                    raise OdooError("odoo.exceptions.MissingError", f"Records {model}{tuple(missing)} do not exist")
                return _fields(m, [m.rows[i] for i in ids], args[1] if len(args) > 1 else kwargs.get("fields"))
            if method == "create":
                vals = args[0] if args else kwargs.get("vals_list", kwargs.get("vals"))
                many = isinstance(vals, list)
                ids = [self._create(model, v) for v in (vals if many else [vals])]
                return ids if many or many_ids else ids[0]
            if method == "fields_get":
                return {f: {"type": _field_type(m, f)} for f in sorted(m.fields)}
            if method == "action_apply_inventory" and model == "stock.quant":
                for rid in args[0] if args else kwargs.get("ids", []):
                    counted = m.rows[rid].get("inventory_quantity") or 0.0
                    self.write(model, rid, {"quantity": float(counted), "inventory_quantity": 0.0,
                                            "inventory_quantity_set": False})
                return True
            if method == "action_confirm" and model == "sale.order":
                ids = args[0] if args else kwargs.get("ids", [])
                for rid in ids:
                    if m.rows[rid]["state"] not in ("draft", "sent"):
                        raise OdooError("odoo.exceptions.UserError",
                                        "Some orders are not in a state requiring confirmation.")
                    self.write(model, rid, {"state": "sale"})
                return True
            if method == "write":
                ids, vals = (args[0], args[1]) if args else (kwargs["ids"], kwargs["vals"])
                for rid in ids:
                    if model == "sale.order" and "order_line" in vals:
                        self._order_lines(rid, vals["order_line"])
                        vals = {k: v for k, v in vals.items() if k != "order_line"}
                    if vals:
                        self.write(model, rid, vals)
                return True
        raise OdooError("builtins.AttributeError", f"The method '{method}' does not exist on the model '{model}'")

    def _paths(self, domain: list) -> list:
        """The domain with its path leaves ("location_id.usage", "=", "internal") as id leaves on the
        first field, as Odoo joins them."""
        out: list = []
        for item in domain:
            if isinstance(item, (list, tuple)) and len(item) == 3 and "." in str(item[0]):
                field, rest = str(item[0]).split(".", 1)
                comodel = COMODELS.get(field)
                if comodel is None:
                    raise OdooError("builtins.ValueError", f"Invalid field {item[0]!r} in domain term {item!r}")
                ids = [r["id"] for r in self.models[comodel].search(self._paths([(rest, item[1], item[2])]))]
                item = (field, "in", ids)
            out.append(item)
        return out

    def _companies(self, context: dict[str, Any]) -> list[int]:
        """The companies a call reads: its context's `allowed_company_ids`, which must be the user's,
        else all of the user's companies."""
        user = self.models["res.users"].rows[self.uid]
        asked = list(context.get("allowed_company_ids") or [])
        if set(asked) - set(user["company_ids"]):
            raise OdooError("odoo.exceptions.AccessError", "Access to unauthorized or invalid companies.")
        return asked or list(user["company_ids"])

    def _order_lines(self, order_id: int, commands: list) -> None:
        """order_line commands on an order: (0, 0, values) add, (1, id, values) change, (2, id, 0)
        remove; a confirmed order keeps its lines, as in Odoo. The totals follow."""
        order = self.models["sale.order"].rows[order_id]
        lines = self.models["sale.order.line"]
        products = self.models["product.product"].rows
        for command in commands:
            op, line_id, values = [*command, 0, 0][:3]
            if op == 2:
                if order["state"] not in ("draft", "sent"):
                    raise OdooError("odoo.exceptions.UserError",
                                    "Once a sales order is confirmed, you can't remove one of its lines (we need to "
                                    "track if something gets invoiced or delivered). Set the quantity to 0 instead.")
                self.unlink("sale.order.line", line_id)
                continue
            product = products.get(values.get("product_id", lines.rows[line_id]["product_id"][0] if op == 1 else None))
            if product is None:
                raise OdooError("odoo.exceptions.ValidationError",
                                f"order_line: no product {values.get('product_id')!r}")
            qty = float(values.get("product_uom_qty", 1.0))
            price = float(values.get("price_unit", product["list_price"]))
            line = {"product_id": [product["id"], _display_name(product)], "name": product["name"],
                    "product_uom_qty": qty, "price_unit": price, "price_subtotal": round(qty * price, 2)}
            if op == 1:
                self.write("sale.order.line", line_id, line)
            elif op == 0:
                self.create("sale.order.line", {"order_id": [order_id, order["name"]], "sequence": 1000,
                                                "qty_delivered": 0.0, "product_uom_id": [1, "Units"],
                                                "display_type": False, **line})
        kept = [ln for ln in lines.rows.values() if ln["order_id"][0] == order_id and not ln.get("display_type")]
        untaxed = round(sum(ln["price_subtotal"] for ln in kept), 2)
        self.write("sale.order", order_id, {"amount_untaxed": untaxed, "amount_tax": round(untaxed * 0.19, 2),
                                            "amount_total": round(untaxed * 1.19, 2),
                                            "order_line": [ln["id"] for ln in kept]})

    def _create(self, model: str, vals: dict[str, Any]) -> int:
        if model != "sale.order":
            raise OdooError("odoo.exceptions.AccessError", f"creating {model} records is not allowed")
        partner = self.models["res.partner"].rows.get(vals.get("partner_id"))
        if partner is None:
            raise OdooError("odoo.exceptions.ValidationError", f"partner_id: no partner {vals.get('partner_id')!r}")
        products = self.models["product.product"].rows
        lines = []
        for n, command in enumerate(vals.get("order_line") or []):
            line = command[2] if isinstance(command, list) and len(command) == 3 and command[0] == 0 else None
            if line is None:
                raise OdooError("odoo.exceptions.ValidationError",
                                f"order_line[{n}]: expected a (0, 0, values) command")
            product = products.get(line.get("product_id"))
            if product is None:
                raise OdooError("odoo.exceptions.ValidationError",
                                f"order_line[{n}].product_id: no product {line.get('product_id')!r}")
            lines.append((product, float(line.get("product_uom_qty", 1)),
                          float(line.get("price_unit", product["list_price"]))))
        order_id = max(self.models["sale.order"].rows, default=0) + 1
        name = f"S{order_id:05d}"
        line_ids = []
        for seq, (product, qty, price) in enumerate(lines, start=1):
            line_ids.append(self.create("sale.order.line", {
                "order_id": [order_id, name], "sequence": seq * 10,
                "product_id": [product["id"], _display_name(product)],
                "name": product["name"], "product_uom_qty": qty, "qty_delivered": 0.0, "price_unit": price,
                "price_subtotal": round(qty * price, 2), "product_uom_id": [1, "Units"],
                "display_type": False}))
        untaxed = round(sum(qty * price for _, qty, price in lines), 2)
        return self.create("sale.order", {
            "name": name, "partner_id": [partner["id"], partner["name"]],
            "partner_shipping_id": [partner["id"], partner["name"]],
            "client_order_ref": vals.get("client_order_ref") or False,
            "date_order": vals.get("date_order") or self.clock, "commitment_date": vals.get("commitment_date") or False,
            "state": "draft", "currency_id": gen.CURRENCY, "amount_untaxed": untaxed,
            "amount_tax": round(untaxed * 0.19, 2), "amount_total": round(untaxed * 1.19, 2), "order_line": line_ids})


def _field_type(m: Model, name: str) -> str:
    """A field's Odoo type, as fields_get reports it, from the values the records hold."""
    value = next((r[name] for r in m.rows.values() if r.get(name) not in (None, False)), None)
    if isinstance(value, list):
        return "many2one" if len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str) else "one2many"
    return {bool: "boolean", int: "integer", float: "float"}.get(type(value), "char")


def inventory(erp: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Odoo Inventory for a dataset's products and orders: quants of each product (every third in
    two lots, every fifth also on a shelf, every seventh also at a customer's location, which is not
    stock), and a delivery with its moves per confirmed order (the latest PICKINGS): done when every
    line is delivered, with its carrier and tracking reference, else ready (assigned)."""
    locations = [{**loc, "display_name": loc["complete_name"], "write_date": "2024-01-01 00:00:00"}
                 for loc in LOCATIONS]
    where = {loc["id"]: [loc["id"], loc["complete_name"]] for loc in locations}
    quants: list[dict[str, Any]] = []
    for product in erp.get("product.product", []):
        n, ref = product["id"], [product["id"], _display_name(product)]
        wd = product.get("write_date") or "2024-01-01 00:00:00"
        places = [(1, float(n * 7 % 50 + 1), float(n % 3))]
        places += [(1, float(n % 11 + 2), 0.0)] if n % 3 == 0 else []
        places += [(2, float(n % 13 + 1), 0.0)] if n % 5 == 0 else []
        places += [(3, float(n % 4 + 1), 0.0)] if n % 7 == 0 else []
        for location, qty, reserved in places:
            quants.append({"id": len(quants) + 1, "product_id": ref, "location_id": where[location], "quantity": qty,
                           "reserved_quantity": min(reserved, qty), "inventory_quantity": 0.0,
                           "inventory_quantity_set": False, "lot_id": False, "write_date": wd})
    lines: dict[int, list[dict[str, Any]]] = {}
    for line in erp.get("sale.order.line", []):
        if line.get("product_id") and not line.get("display_type"):
            lines.setdefault(line["order_id"][0], []).append(line)
    pickings: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    confirmed = [o for o in erp.get("sale.order", []) if o["state"] == "sale" and o["id"] in lines][-PICKINGS:]
    for order in confirmed:
        pid = len(pickings) + 1
        name = f"WH/OUT/{pid:05d}"
        done = all(ln["qty_delivered"] >= ln["product_uom_qty"] for ln in lines[order["id"]])
        carrier = CARRIERS[pid % 2]
        move_ids = []
        for line in lines[order["id"]]:
            move_ids.append(len(moves) + 1)
            moves.append({"id": len(moves) + 1, "picking_id": [pid, name], "product_id": line["product_id"],
                          "product_uom_qty": line["product_uom_qty"], "quantity": line["qty_delivered"],
                          "product_uom": [1, "Units"], "location_id": where[1], "location_dest_id": where[3],
                          "sale_line_id": [line["id"], line["name"]], "state": "done" if done else "assigned",
                          "write_date": order["write_date"]})
        pickings.append({"id": pid, "name": name, "origin": order["name"], "sale_id": [order["id"], order["name"]],
                         "partner_id": order["partner_shipping_id"], "picking_type_code": "outgoing",
                         "state": "done" if done else "assigned", "scheduled_date": order["date_order"],
                         "date_done": order["write_date"] if done else False, "carrier_id": carrier,
                         "carrier_tracking_ref": f"{carrier[1][:2].upper()}{order['id']:010d}" if done else False,
                         "move_ids": move_ids, "location_id": where[1], "location_dest_id": where[3],
                         "write_date": order["write_date"]})
    return {"stock.location": locations, "stock.quant": quants, "stock.picking": pickings, "stock.move": moves}


def _display_name(product: dict[str, Any]) -> str:
    """A product's display name: "[CODE] name", or the name alone without an internal reference."""
    return f"[{product['default_code']}] {product['name']}" if product.get("default_code") else product["name"]


def _fields(m: Model, rows: list[dict], fields: list[str] | None) -> list[dict]:
    unknown = [f for f in fields or () if f not in m.fields]
    if unknown:
        raise OdooError("builtins.ValueError", f"Invalid field {unknown[0]!r} on {m.name!r}")
    if not fields:
        return rows
    wanted = ["id", *(f for f in fields if f != "id")]
    return [{f: r.get(f, False) for f in wanted} for r in rows]


def _json2_error(status: int, err: OdooError) -> Response:
    return json_response({"name": err.name, "message": err.message, "arguments": [err.message, status],
                          "context": {}, "debug": TRACEBACK}, status)


METHODS = frozenset({"context_get", "search_read", "search", "search_count", "read", "create", "write",
                     "action_confirm", "fields_get", "action_apply_inventory"})
NOT_FOUND_PAGE = (b"<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected "
                  b"and the requested URL was not found in the server-wide controllers.</p>\n")


def endpoint(request: Request) -> str:
    """Fault endpoint of a request: "<model>/<method>" (JSON-RPC or JSON-2), else the path."""
    if request.path.startswith("/json/2/"):
        return "/".join(request.path.split("/")[3:5])
    if request.path == "/jsonrpc":
        try:
            params = request.json().get("params") or {}
        except (HttpError, AttributeError):
            return request.path
        args = params.get("args") or []
        if params.get("method") == "execute_kw" and len(args) > 4:
            return f"{args[3]}/{args[4]}"
        return f"{params.get('service')}/{params.get('method')}"
    return request.path


def start(folder: Path, seed: int = 1, data: gen.Dataset | None = None, faults: Faults | None = None,
          port: int = 0, **options: Any) -> SimServer:
    """An ERP simulator serving on 127.0.0.1 in a thread; `server.handler` is its ErpSim."""
    return SimServer(ErpSim(folder, seed, data, **options), faults, port, endpoint).start()


def main() -> None:
    p = cli_parser("Odoo ERP simulator (JSON-RPC and JSON-2)")
    p.add_argument("--customers", type=int, default=60)
    p.add_argument("--orders", type=int, default=400)
    args = p.parse_args()
    sim = ErpSim(args.state, args.seed, customers=args.customers, orders=args.orders)
    server = SimServer(sim, faults_from_args(args), args.port, endpoint, host=args.host)
    print(f"erp simulator on {server.url} (db {sim.db})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
