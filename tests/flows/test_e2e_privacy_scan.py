"""The scan: run the flows end to end against the simulators with distinctive credentials and
seeded personal data, then look for each secret (as itself, base64 and URL-encoded) and each
e-mail, phone, contact name and street in every table, the raw database file, every file under
WAYBILL_HOME (archive, landing, quarantine) and every captured log line. None may be found."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from sim import erp as erp_sim
from sim import tms as tms_sim
from sim import wms as wms_sim
from sim.faults import FaultRates, Faults
from tests.fixtures.privacy import encodings, files_under, found, table_dump
from tests.fixtures.sources import FAST as SOURCE_POLICY
from tests.fixtures.targets import FAST, set_conn
from waybill.connectors.crm import CrmClient
from waybill.connectors.finance import FolderTarget
from waybill.flows import (
    carrier_tracking,
    crm_publish,
    customer_insights,
    edi_inbound,
    edi_outbound,
    erp_sync,
    finance_receivables,
    tms_delivery,
    wms_stock,
)
from waybill.store.reads import edi as reads

pytestmark = pytest.mark.e2e

ERP_PASSWORD = "erp-Pa55/w0rd+Q"
API_TOKEN = "tok_9Jd3kLm2Xq"
FEDEX_KEY, FEDEX_PASSWORD = "fxKey-4t7Yh2", "fx&Pass<9>"
CRM_SECRET = "crm-S3cret=Zr8"
SECRETS = (ERP_PASSWORD, API_TOKEN, FEDEX_KEY, FEDEX_PASSWORD, CRM_SECRET)
DATA = Path(__file__).resolve().parents[1] / "data" / "partners"
X12_850 = "bots_x12_850_fixed_x12_850tofixed_850_850-004010-01.x12"


def personal_data(data) -> set[bytes]:
    """The seeded partners' e-mails, phones and streets, as the ERP serves them."""
    texts = set()
    for p in data.erp["res.partner"]:
        texts |= {p.get("email"), p.get("phone"), p.get("street")}
    return {t.encode() for t in texts if t}


def haystacks(store, home: Path, caplog) -> dict[str, bytes]:
    """Everything the hub keeps at rest and everything it logged."""
    return {"tables": table_dump(store), "logs": caplog.text.encode(),
            **{str(p): data for p, data in files_under(home).items()}}


@pytest.mark.parametrize("faulty", [False, pytest.param(True, marks=pytest.mark.reliability)],
                         ids=["calm", "faulty"])
def test_nothing_secret_or_personal_is_readable_after_the_flows(store, data, serve, fedex, crm, waybill_env,
                                                                 tmp_path, monkeypatch, caplog, faulty):
    """With `faulty`, the sources and the carrier throttle, fail, stall and drop a fifth of the
    calls: the error and retry paths log and store nothing secret either."""
    caplog.set_level(logging.DEBUG)

    def faults(seed: int) -> Faults | None:
        return Faults({"*": FaultRates.transient(0.2, retry_after=0, slow_seconds=0.8)}, seed=seed) if faulty else None

    erp = serve(erp_sim, tmp_path / "erp", data, faults(1), login="integration", password=ERP_PASSWORD)
    wms = serve(wms_sim, tmp_path / "wms", data, faults(2), token=API_TOKEN)
    tms = serve(tms_sim, tmp_path / "tms", data, faults(3), token=API_TOKEN)
    fedex.server.faults = Faults({"*": FaultRates(error=0.2, throttle=0.1, retry_after=0)}, seed=4) if faulty \
        else fedex.server.faults
    for conn_id, server, fields in (("waybill_erp", erp, {"login": "integration", "password": ERP_PASSWORD,
                                                          "extra": {**SOURCE_POLICY, "db": "waybill"}}),
                                    ("waybill_wms", wms, {"password": API_TOKEN, "extra": SOURCE_POLICY}),
                                    ("waybill_tms", tms, {"password": API_TOKEN, "extra": SOURCE_POLICY})):
        set_conn(monkeypatch, conn_id, conn_type="http", host="127.0.0.1", port=server.port, **fields)
    fedex.key, fedex.password = FEDEX_KEY, FEDEX_PASSWORD
    host, port = fedex.server.httpd.server_address[:2]
    set_conn(monkeypatch, "waybill_carrier_fedex_soap", conn_type="http", host=host, port=port,
             schema="web-services/track", login=FEDEX_KEY, password=FEDEX_PASSWORD,
             extra={"credentials": {"account": "510087020", "meter": "119009727"}})
    crm.client_secret = CRM_SECRET
    crm_host, crm_port = crm.server.httpd.server_address[:2]
    set_conn(monkeypatch, "waybill_crm", conn_type="http", host=crm_host, port=crm_port, login="waybill",
             password=CRM_SECRET)

    counts = {
        "erp": erp_sync.run(store), "wms": wms_stock.run(store), "tms": tms_delivery.run(store),
        "carrier": carrier_tracking.run(store, tracker=carrier_tracking.tracker_for("fedex_soap", policy=FAST)),
        "insights": customer_insights.run(store),
        "crm": crm_publish.run(store, client=CrmClient(policy=FAST)),
        "finance": finance_receivables.run(store, target=FolderTarget(tmp_path / "finance")),
    }
    assert counts["erp"].stored > 0 and counts["tms"].stored > 0 and counts["crm"].published > 0
    assert counts["carrier"].received > 0 and counts["finance"].published > 0
    if faulty:
        assert erp.faults.total() > 0 and fedex.server.faults.total() > 0  # the error paths did run

    needles = {n for s in SECRETS for n in encodings(s)} | personal_data(data)
    assert len(needles) > 100
    hits = found(needles, haystacks(store, waybill_env, caplog))
    assert hits == {}, json.dumps(hits, indent=1)[:3000]


@pytest.mark.sftp
def test_a_partners_names_addresses_and_phones_are_not_readable_after_the_exchange(store, partners, waybill_env,
                                                                                    caplog):
    """A partner's 850 names a person at the ship-to party, with street and phone (N1/N3): the
    order is stored, acknowledged and answered, and none of it is readable at rest or in the logs."""
    caplog.set_level(logging.DEBUG)
    x12 = (DATA / X12_850).read_bytes()
    seeded = x12.replace(b"N1*ST**92*333333", b"N1*ST*Jane Roe*92*333333").replace(
        b"N3*AAAAAAAAAAA*AAAAAAAAAAAAAAAAAAA", b"N3*Lindenstrasse 5*Tel 030/1234567")
    assert seeded.count(b"Jane Roe") == 1 and b"Lindenstrasse 5" in seeded
    (partners / "inbox" / "po_850.x12").write_bytes(seeded)

    inbound = edi_inbound.run(store, partner="acme")
    outbound = edi_outbound.run(store)
    assert inbound.stored == 1 and outbound.published >= 1
    with store.engine.connect() as conn:
        [order] = reads.orders_from(conn, store.cipher, "edi:acme")
    assert order.ship_to and order.ship_to.name == "Jane Roe"  # readable through Waybill

    needles = {b"Jane Roe", b"JANE ROE", b"Lindenstrasse 5", b"030/1234567", b"1234567"}
    hits = found(needles, haystacks(store, waybill_env, caplog))
    assert hits == {}, json.dumps(hits, indent=1)[:3000]
