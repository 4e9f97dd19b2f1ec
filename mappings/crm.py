"""Hub views -> Salesforce records (Account, Order, Shipment__c, Case). Pure: no I/O.

Every record is keyed by the external id field Waybill_Id__c, the hub's own id, so an upsert is
idempotent and a redelivery changes nothing. Relationships use the parent's external id
(`Account: {"Waybill_Id__c": ...}`), so no CRM id is needed on our side. Contacts (personal data)
are not sent. Amounts go as JSON numbers, dates as ISO dates, times as ISO UTC with "Z"; fields
without a value are sent as null so a cleared value is cleared in the CRM as well.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from waybill.canonical.views import AccountView, CaseView, OrderView, ShipmentView

EXTERNAL_ID = "Waybill_Id__c"
ACCOUNT, ORDER, SHIPMENT, CASE = "Account", "Order", "Shipment__c", "Case"
#: problem (model.CASE_PROBLEMS) -> the Case's subject
CASE_SUBJECTS = {"failed_delivery": "Delivery failed", "stalled": "Parcel stalled in transit",
                 "late": "Delivery later than promised", "returning": "Parcel returning to sender"}

#: aging bucket (waybill.canonical.model.AGING_BUCKETS) -> Account field
AGING_FIELDS = {"current": "Aging_Current__c", "1-30": "Aging_1_30__c", "31-60": "Aging_31_60__c",
                "61-90": "Aging_61_90__c", "over_90": "Aging_Over_90__c"}


def account(view: AccountView) -> dict[str, Any]:
    """The Account of a hub customer, with its value facts when computed."""
    rec: dict[str, Any] = {
        "Name": view.name,
        "AccountNumber": view.erp_id,
        "Industry": view.industry,
        "CurrencyIsoCode": view.currency,
        "Credit_Limit__c": _number(view.credit_limit),
        "Payment_Terms__c": view.payment_terms,
        "Waybill_Status__c": view.status,
        "Tax_Id__c": view.tax_id,
    }
    if view.facts is not None:
        facts = view.facts
        rec.update({
            "Tier__c": facts.tier,
            "Revenue_12m__c": _number(facts.revenue_12m),
            "Lifetime_Value__c": _number(facts.lifetime_value),
            "Churn_Warning__c": facts.churn_warning,
            "Overdue_Amount__c": _number(facts.overdue_total),
            "Facts_As_Of__c": _date(facts.as_of),
            **{f: _number(facts.aging.get(bucket, Decimal(0))) for bucket, f in AGING_FIELDS.items()},
        })
    return rec


def order(view: OrderView) -> dict[str, Any]:
    """The Order of a hub order (its customer's Account by external id)."""
    return {
        "Account": {EXTERNAL_ID: str(view.customer_id)},
        # Salesforce's own Status only knows Draft/Activated; the hub's status goes alongside.
        "Status": "Draft" if view.status == "draft" else "Activated",
        "Waybill_Status__c": view.status,
        "Order_Kind__c": view.kind,
        "EffectiveDate": _date(view.order_date),
        "Requested_Date__c": _date(view.requested_date),
        "PoNumber": view.po_number,
        "CurrencyIsoCode": view.currency,
        "Amount_Untaxed__c": _number(view.amount_untaxed),
        "Amount_Total__c": _number(view.amount_total),
        "Source_System__c": view.ref.system,
        "Source_Id__c": view.ref.external_id,
    }


def shipment(view: ShipmentView) -> dict[str, Any]:
    """The Shipment__c of a hub shipment: tracking, canonical status, ETA, last event."""
    rec: dict[str, Any] = {
        "Name": str(view.ref)[:80],
        "Carrier__c": view.carrier,
        "Tracking_Number__c": view.tracking_number,
        "Status__c": view.status,
        "Status_Code__c": view.status_code,
        "ETA__c": _time(view.eta),
        "Last_Event__c": _time(view.status_at),
        "Last_Place__c": view.last_place,
        "Delivered_At__c": _time(view.delivered_at),
        "Ship_Date__c": _date(view.ship_date),
        "Packages__c": view.packages,
    }
    if view.customer_id is not None:
        rec["Account__r"] = {EXTERNAL_ID: str(view.customer_id)}
    return rec


def case(view: CaseView) -> dict[str, Any]:
    """The Case of a delivery problem, linked to its Account, Order (when known) and Shipment__c (which
    carries the carrier's latest code). Status is sent only when the case is created (New) and when it
    closes (Closed): in between an agent's own status holds."""
    c = view.case
    rec: dict[str, Any] = {
        "Subject": f"{CASE_SUBJECTS[c.problem]}: shipment {c.shipment_id}",
        "Description": c.detail,
        "Priority": c.priority,
        "Origin": "Waybill",
        "Type": "Delivery Exception",
        "Problem__c": c.problem,
        "Opened_At__c": _time(c.opened_at),
        "Closed_At__c": _time(c.closed_at),
        "Account": {EXTERNAL_ID: str(c.customer_id)},
        "Shipment__r": {EXTERNAL_ID: str(c.shipment_id)},
    }
    if c.state == "closed":
        rec["Status"] = "Closed"
    elif not view.in_crm:
        rec["Status"] = "New"
    if c.order_id is not None:
        rec["Order__r"] = {EXTERNAL_ID: str(c.order_id)}
    return rec


def _number(value: Decimal | int | float | None) -> float | None:
    # JSON has no decimal type; Salesforce currency fields hold 2-4 decimals, exact in a double.
    return None if value is None else float(value)


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z") if value is not None else None
