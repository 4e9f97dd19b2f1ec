"""Fixtures of the receiver tests: simulators on loopback, Connections pointing at them, hub data."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from sim import carrier as carrier_sim
from sim import crm as crm_sim
from waybill.canonical import model
from waybill.connectors.http import HttpPolicy
from waybill.store.store import Store

#: Short backoff so retried faults do not slow the suite down.
FAST = HttpPolicy(connect_timeout=2, read_timeout=2, backoff_initial=0.01, backoff_max=0.05, max_total_seconds=20)


def set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: object) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


@pytest.fixture
def fedex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[carrier_sim.CarrierSim]:
    """The FedEx Track simulator (30 parcels, seed 7) and the waybill_carrier_fedex Connection."""
    server, sim = carrier_sim.start(tmp_path / "carrier", seed=7, count=30)
    sim.server = server  # type: ignore[attr-defined]
    host, port = server.httpd.server_address[:2]
    set_conn(monkeypatch, "waybill_carrier_fedex", conn_type="http", host=host, port=port,
             schema="web-services/track", login="key", password="secret",
             extra={"credentials": {"account": "510087020", "meter": "119009727"}})
    yield sim
    server.shutdown()


def customer(ext: str, name: str | None = None, **kw: object) -> model.Customer:
    return model.Customer(ref=model.Ref("erp", ext), name=name or f"Customer {ext}", version=model.version_of(1),
                          **kw)


def shipment(ext: str, number: str | None, cust: str = "C1", carrier: str = "fedex", **kw: object) -> model.Shipment:
    return model.Shipment(ref=model.Ref("tms", ext), version=model.version_of(1), carrier=carrier,
                          tracking_number=number, customer=model.Ref("erp", cust), **kw)


def load(store: Store, *entities: model.Entity, system: str = "erp", stream: str = "seed", key: str = "seed") -> None:
    """Put canonical entities in the hub as a source system would."""
    raw = repr(entities).encode()
    result = store.apply(model.Batch(system, stream, [model.InboundMessage(raw, key, list(entities))]))
    assert result.dead == 0, result


def invoice(ext: str, cust: str, total: str, open_: str, due: dt.date, currency: str = "EUR",
            kind: str = "invoice", day: dt.date | None = None) -> model.Invoice:
    return model.Invoice(ref=model.Ref("erp", ext), customer=model.Ref("erp", cust), version=model.version_of(1),
                         number=ext, invoice_date=day or due - dt.timedelta(days=30), due_date=due,
                         currency=currency, amount_total=Decimal(total), amount_open=Decimal(open_), kind=kind)


@pytest.fixture
def crm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[crm_sim.CrmSim]:
    """The Salesforce simulator and the waybill_crm Connection."""
    server, sim = crm_sim.start(tmp_path / "crm")
    sim.server = server  # type: ignore[attr-defined]
    host, port = server.httpd.server_address[:2]
    set_conn(monkeypatch, "waybill_crm", conn_type="http", host=host, port=port, login="waybill",
             password="s3cret", extra={"api_version": "v62.0"})
    yield sim
    server.shutdown()
