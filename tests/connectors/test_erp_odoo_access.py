"""The integration user's rights on a real Odoo 19: the README's minimum groups read every stream as
admin does; a Sales-only user is refused with Odoo's AccessError named (credit_limit needs Invoicing);
a user reads every company it is allowed, and the companies it cannot see are named in a warning."""

from __future__ import annotations

import json
import logging

import pytest

from tests.fixtures.odoo import OdooServer
from waybill.connectors.connection import parse
from waybill.connectors.erp import ErpConnector, ErpError
from waybill.flows import erp_sync

pytestmark = pytest.mark.odoo

#: the README's minimum groups of the integration user (Sales: all documents, Invoicing: billing,
#: Inventory: user for the WMS profile)
MINIMUM = ("sales_team.group_sale_salesman_all_leads", "account.group_account_invoice", "stock.group_stock_user")


def connector(odoo: OdooServer, login: str, password: str, **extra: object) -> ErpConnector:
    conn = {**odoo.connection("jsonrpc", read_timeout=60, **extra), "login": login, "password": password}
    return ErpConnector(parse("waybill_erp", json.dumps(conn)))


def make_user(admin: ErpConnector, login: str, groups: tuple[str, ...], companies: list[int] | None = None) -> None:
    """A user with these groups (xml ids), allowed these companies (default: all), the first one current."""
    ids = []
    for xml_id in groups:
        module, name = xml_id.split(".")
        [row], _ = admin.call("ir.model.data", "search_read", [[("module", "=", module), ("name", "=", name)],
                                                              ["res_id"]])
        ids.append(row["res_id"])
    if companies is None:
        companies, _ = admin.call("res.company", "search", [[]], {"order": "id asc"})
    admin.call("res.users", "create", [{"name": login, "login": login, "password": f"{login}-pass-1",
                                        "group_ids": [[6, 0, ids]], "company_ids": [[6, 0, companies]],
                                        "company_id": companies[0]}])


def counts(erp: ErpConnector) -> dict[str, tuple[int, int]]:
    """Records read and rejected per stream."""
    out = {}
    for stream in erp_sync.STREAMS:
        read = rejected = 0
        for page in erp.fetch(stream, None):
            read += len(page.records)
            rejected += len(erp_sync.map_page("erp", stream, page)[1])
        out[stream] = (read, rejected)
    return out


def test_the_minimum_groups_read_what_admin_reads(odoo: OdooServer) -> None:
    admin = connector(odoo, odoo.login, odoo.password)
    make_user(admin, "integration", MINIMUM)
    seen = counts(connector(odoo, "integration", "integration-pass-1"))
    assert seen == counts(admin) and all(read for read, _ in seen.values())


def test_a_sales_only_user_is_refused_with_the_reason(odoo: OdooServer) -> None:
    admin = connector(odoo, odoo.login, odoo.password)
    make_user(admin, "salesonly", ("sales_team.group_sale_salesman_all_leads",))
    with pytest.raises(ErpError) as err:
        list(connector(odoo, "salesonly", "salesonly-pass-1").fetch("customers", None))
    assert err.value.name == "odoo.exceptions.AccessError" and "credit_limit" in err.value.reason


def order_ids(erp: ErpConnector) -> set[int]:
    return {r["id"] for page in erp.fetch("orders", None) for r in page.records}


def test_every_allowed_company_is_read_and_the_unseen_ones_are_named(odoo: OdooServer,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    admin = connector(odoo, odoo.login, odoo.password)
    east, _ = admin.call("res.company", "create", [{"name": "Waybill East"}])
    admin = connector(odoo, odoo.login, odoo.password)  # allowed the new company from now on
    [partner], _ = admin.call("res.partner", "search", [[("is_company", "=", True), ("company_id", "=", False)]],
                              {"limit": 1})
    [product], _ = admin.call("product.product", "search", [[("sale_ok", "=", True), ("company_id", "=", False)]],
                              {"limit": 1})
    order, _ = admin.call("sale.order", "create", [{"partner_id": partner, "company_id": east, "order_line": [
        [0, 0, {"product_id": product, "product_uom_qty": 1.0}]]}])
    east_order = order[0] if isinstance(order, list) else order
    make_user(admin, "both", MINIMUM, [1, east])
    make_user(admin, "one", MINIMUM, [1])
    make_user(admin, "manager", (*MINIMUM, "base.group_erp_manager"), [1])

    caplog.set_level(logging.WARNING, logger="waybill.connectors.erp")
    both = connector(odoo, "both", "both-pass-1")
    assert both.companies() == [1, east]  # its current company first, then the others it is allowed
    read_by_both = order_ids(both)
    assert east_order in read_by_both and "erp-companies-not-visible" not in caplog.text

    # a user allowed one company cannot see the other: the Connection names both, the warning the missing one
    one = connector(odoo, "one", "one-pass-1", companies=["My Company (San Francisco)", "Waybill East"])
    assert one.companies() == [1]
    assert order_ids(one) == read_by_both - order_ids(connector(odoo, "both", "both-pass-1", companies=[east]))
    [warning] = [r for r in caplog.records if "erp-companies-not-visible" in r.getMessage()]
    fields = json.loads(warning.getMessage().split(" ", 1)[1])
    assert warning.levelno == logging.WARNING and fields["login"] == "one"
    assert fields["companies"] == [{"id": None, "name": "Waybill East"}]
    assert fields["read"] == [{"id": 1, "name": "My Company (San Francisco)"}]

    # a user who administers companies sees those outside its list: they are named without being asked
    caplog.clear()
    connector(odoo, "manager", "manager-pass-1").companies()
    [warning] = [r for r in caplog.records if "erp-companies-not-visible" in r.getMessage()]
    unseen = {c["name"] for c in json.loads(warning.getMessage().split(" ", 1)[1])["companies"]}
    assert "Waybill East" in unseen and "My Company (San Francisco)" not in unseen
