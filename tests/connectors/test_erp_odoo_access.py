"""The integration user's rights on a real Odoo 19: the README's minimum groups read every stream as
admin does; a Sales-only user is refused with Odoo's AccessError named (credit_limit needs Invoicing)."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.odoo import OdooServer
from waybill.connectors.connection import parse
from waybill.connectors.erp import ErpConnector, ErpError
from waybill.flows import erp_sync

pytestmark = pytest.mark.odoo

#: the README's minimum groups of the integration user (Sales: all documents, Invoicing: billing,
#: Inventory: user for the WMS profile)
MINIMUM = ("sales_team.group_sale_salesman_all_leads", "account.group_account_invoice", "stock.group_stock_user")


def connector(odoo: OdooServer, login: str, password: str) -> ErpConnector:
    conn = {**odoo.connection("jsonrpc", read_timeout=60), "login": login, "password": password}
    return ErpConnector(parse("waybill_erp", json.dumps(conn)))


def make_user(admin: ErpConnector, login: str, groups: tuple[str, ...]) -> None:
    ids = []
    for xml_id in groups:
        module, name = xml_id.split(".")
        [row], _ = admin.call("ir.model.data", "search_read", [[("module", "=", module), ("name", "=", name)],
                                                              ["res_id"]])
        ids.append(row["res_id"])
    companies, _ = admin.call("res.company", "search", [[]])
    admin.call("res.users", "create", [{"name": login, "login": login, "password": f"{login}-pass-1",
                                        "group_ids": [[6, 0, ids]], "company_ids": [[6, 0, companies]]}])


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
