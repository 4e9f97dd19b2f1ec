"""The ERP contract: the connector and its mapping against the simulator AND a real Odoo 19, over
JSON-2 and JSON-RPC. One suite, four backends: whatever passes here holds for both, so the
simulator cannot drift from Odoo (field names, many2one shapes, states, create results, errors)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sim import erp as erp_sim
from tests.fixtures.sources import FAST
from waybill.canonical import model
from waybill.connectors.connection import parse
from waybill.connectors.erp import LINE_FIELDS, ErpConnector, ErpError
from waybill.flows import erp_sync
from waybill.mappings import erp as mapping

BACKENDS = ["sim-json2", "sim-jsonrpc", pytest.param("odoo-json2", marks=pytest.mark.odoo),
            pytest.param("odoo-jsonrpc", marks=pytest.mark.odoo)]
#: Odoo is a real server: a patient policy (its first reads compile views and warm caches)
PATIENT = {"connect_timeout": 2, "read_timeout": 60, "max_attempts": 3, "backoff_initial": 0.1, "backoff_max": 1}


@dataclass
class Backend:
    """A connector on one backend, and how to build another one with changed settings."""

    kind: str
    protocol: str
    conn: dict[str, Any]

    def connector(self, **changes: Any) -> ErpConnector:
        conn = {**self.conn, **{k: v for k, v in changes.items() if k != "extra"}}
        conn["extra"] = {**self.conn["extra"], **changes.get("extra", {})}
        return ErpConnector(parse("waybill_erp", json.dumps(conn)))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, serve, data, tmp_path: Path) -> Iterator[Backend]:
    kind, protocol = request.param.split("-")
    if kind == "odoo":
        server = request.getfixturevalue("odoo")
        conn = server.connection(protocol, **PATIENT, page_size=20)
    else:
        sim = serve(erp_sim, tmp_path / "sim", data)
        secret = sim.handler.api_key if protocol == "json2" else sim.handler.password
        conn = {"conn_type": "http", "host": "127.0.0.1", "port": sim.port, "login": "admin", "password": secret,
                "extra": {**FAST, "db": sim.handler.db, "protocol": protocol, "page_size": 50}}
    yield Backend(kind, protocol, conn)


def read_all(erp: ErpConnector, stream: str, cursor: str | None = None) -> tuple[list[Any], list[Any], str | None]:
    """Every page of a stream after `cursor`: the mapped entities, the rejects and the last cursor."""
    entities: list[Any] = []
    rejects: list[Any] = []
    for page in erp.fetch(stream, cursor):
        mapped, rejected = erp_sync.map_page("erp", stream, page)
        entities += mapped
        rejects += rejected
        cursor = page.cursor
    return entities, rejects, cursor


def test_every_stream_maps_and_every_record_finds_its_customer(backend: Backend) -> None:
    erp = backend.connector()
    customers = {e.ref for e in read_all(erp, "customers")[0]}
    counts = {}
    for stream in ("orders", "invoices", "payments"):
        entities, rejects, _ = read_all(erp, stream)
        assert rejects == [], f"{stream}: {rejects[:3]}"
        customers |= {e.ref for e in entities if isinstance(e, model.Customer)}
        records = [e for e in entities if not isinstance(e, model.Customer)]
        assert {r.customer for r in records} <= customers, stream
        counts[stream] = len(records)
        if stream == "invoices":  # drafts are not receivables: every invoice taken has its number and date
            assert all(r.number and r.invoice_date for r in records)
            # and its product lines (account.move.line), whose amounts are quantity x price
            assert all(r.lines for r in records)
            assert all(abs(ln.amount - ln.quantity * ln.unit_price) <= Decimal("0.01")
                       for r in records for ln in r.lines)
        if stream == "orders":
            assert all(ln.sku or ln.gtin for r in records for ln in r.lines)
    assert all(counts.values()), counts


def test_order_lines_and_units_have_odoo_19_shapes(backend: Backend) -> None:
    erp = backend.connector()
    lines, _ = erp.call("sale.order.line", "search_read", [[], list(LINE_FIELDS)], {"limit": 200})
    assert lines
    for ln in lines:
        uom, product = ln["product_uom_id"], ln["product_id"]
        assert ln["display_type"] in (False, "line_section", "line_note")
        if not ln["display_type"]:
            assert isinstance(uom, list) and isinstance(uom[0], int) and isinstance(uom[1], str)
            assert isinstance(product, list) and isinstance(product[0], int)
    units = mapping.units_of(erp.uoms()[0])
    names = {u["name"]: u["id"] for u in erp.uoms()[0]}
    assert units[names["Units"]] == mapping.Unit("EA")
    assert units[names["Pack of 6"]] == mapping.Unit("EA", 6)
    assert units[names["Dozens"]] == mapping.Unit("DZN")  # archived in Odoo 19, still on old lines


def test_create_answers_one_id_and_a_quotation_that_confirms_and_amends(backend: Backend) -> None:
    erp = backend.connector()
    products, _ = erp.call("product.product", "search_read", [[("default_code", "!=", False)], ["default_code"]],
                           {"limit": 2})
    [order], _ = erp.call("sale.order", "search_read", [[], ["partner_id"]], {"limit": 1})
    partner, ref = order["partner_id"][0], f"CONTRACT-{backend.protocol}"
    values = {"partner_id": partner, "client_order_ref": ref,
              "order_line": [[0, 0, {"product_id": products[0]["id"], "product_uom_qty": 2.0, "price_unit": 15.0}]]}
    new_id, name = erp.new_order(values)
    assert isinstance(new_id, int) and name.startswith("S")
    found = erp.find_order(ref, partner)
    assert found is not None and (found["id"], found["state"]) == (new_id, "draft")
    assert erp.find_order(ref, partner + 1000) is None
    # a quotation takes any change: a new price, another line
    [line] = erp.product_lines(new_id)
    erp.change_order(new_id, [[1, line["id"], {"product_id": products[0]["id"], "product_uom_qty": 2.0,
                                               "price_unit": 16.0}],
                              [0, 0, {"product_id": products[1]["id"], "product_uom_qty": 1.0, "price_unit": 4.0}]])
    assert [(ln["product_uom_qty"], ln["price_unit"]) for ln in erp.product_lines(new_id)] == [(2.0, 16.0), (1.0, 4.0)]
    [created], _ = erp.call("sale.order", "read", [[new_id], ["amount_untaxed"]])
    assert created["amount_untaxed"] == 36.0
    erp.call("sale.order", "action_confirm", [[new_id]])
    [confirmed], _ = erp.call("sale.order", "read", [[new_id], ["state"]])
    assert confirmed["state"] == "sale"
    # a confirmed order keeps its lines: Odoo refuses, and says why
    with pytest.raises(ErpError) as err:
        erp.change_order(new_id, [[2, erp.product_lines(new_id)[1]["id"], 0]])
    assert err.value.name == "odoo.exceptions.UserError" and "confirmed" in err.value.reason
    confirmed_id, _ = erp.new_order({**values, "client_order_ref": f"{ref}-2"}, confirm=True)
    [state], _ = erp.call("sale.order", "read", [[confirmed_id], ["state"]])
    assert state["state"] == "sale"


#: (case, JSON-2 exception class, JSON-RPC exception class, words of the message)
ERRORS = [
    ("bad secret", "werkzeug.exceptions.Unauthorized", "AccessDenied", ""),
    ("unknown model", "werkzeug.exceptions.NotFound", "odoo.exceptions.UserError", "nope.model"),
    ("unknown field", "builtins.ValueError", "builtins.ValueError", "Invalid field 'nope' on 'sale.order'"),
    ("wrong database", "DatabaseNotFound", "psycopg2.OperationalError", "no_such_db"),
]


@pytest.mark.parametrize(("case", "json2_name", "jsonrpc_name", "words"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_odoos_exception_and_say_what_failed(backend: Backend, case: str, json2_name: str,
                                                         jsonrpc_name: str, words: str) -> None:
    changes: dict[str, Any] = {"bad secret": {"password": "not-the-secret"},
                               "wrong database": {"extra": {"db": "no_such_db"}}}.get(case, {})
    erp = backend.connector(**changes)
    model_name, fields = ("nope.model", ["name"]) if case == "unknown model" else (
        "sale.order", ["name", "nope"] if case == "unknown field" else ["name"])
    with pytest.raises(ErpError) as err:
        erp.call(model_name, "search_read", [[], fields], {"limit": 1})
    expected = json2_name if backend.protocol == "json2" else jsonrpc_name
    assert err.value.name.endswith(expected) and words in str(err.value)
    assert "Traceback" not in err.value.reason  # Odoo's debug text stays out of the reason


def test_an_incremental_read_returns_what_changed(backend: Backend) -> None:
    erp = backend.connector()
    entities, _, cursor = read_all(erp, "customers")
    partner = int(entities[0].ref.external_id.split("/")[1])
    assert read_all(erp, "customers", cursor)[0] == []
    erp.call("res.partner", "write", [[partner], {"name": f"Renamed {backend.protocol}"}])
    changed, _, _ = read_all(erp, "customers", cursor)
    assert [(c.ref.external_id, c.name) for c in changed] == [(f"res.partner/{partner}", f"Renamed {backend.protocol}")]


def test_every_call_reads_the_users_companies_and_the_unseen_ones_are_named(
        backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    erp = backend.connector()
    me, _ = erp.call("res.users", "context_get", [])
    [user], _ = erp.call("res.users", "read", [[me["uid"]], ["company_id", "company_ids"]])
    assert erp.companies()[0] == user["company_id"][0] and sorted(erp.companies()) == sorted(user["company_ids"])
    [current], _ = erp.call("res.company", "read", [[user["company_id"][0]], ["name"]])
    caplog.set_level(logging.WARNING, logger="waybill.connectors.erp")
    named = backend.connector(extra={"companies": [current["name"], "No Such Company"]})
    assert named.companies() == [current["id"]] and read_all(named, "customers")[0]
    assert '"companies": [{"id": null, "name": "No Such Company"}]' in caplog.text
    # a company the user is not allowed is refused by Odoo, not read silently
    with pytest.raises(ErpError) as err:
        erp.call("res.partner", "search_read", [[], ["name"]], {"limit": 1, "context": {"allowed_company_ids": [999]}})
    assert err.value.name == "odoo.exceptions.AccessError"
    with pytest.raises(ErpError, match="allowed none of the companies"):
        backend.connector(extra={"companies": ["No Such Company"]}).companies()
