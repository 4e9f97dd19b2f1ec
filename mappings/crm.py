"""Hub rows -> Salesforce records (Account, Order, Shipment__c). Pure: no I/O.

Every record is keyed by the external id field Waybill_Id__c, the hub's own id, so an upsert is
idempotent and a redelivery changes nothing. Relationships use the parent's external id
(`Account: {"Waybill_Id__c": ...}`), so no CRM id is needed on our side. Contacts (personal data)
are not sent. Amounts go as JSON numbers, dates as ISO dates, times as ISO UTC with "Z"; fields
without a value are sent as null so a cleared value is cleared in the CRM as well.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

EXTERNAL_ID = "Waybill_Id__c"
ACCOUNT, ORDER, SHIPMENT = "Account", "Order", "Shipment__c"

#: aging bucket (waybill.canonical.model.AGING_BUCKETS) -> Account field
AGING_FIELDS = {"current": "Aging_Current__c", "1-30": "Aging_1_30__c", "31-60": "Aging_31_60__c",
                "61-90": "Aging_61_90__c", "over_90": "Aging_Over_90__c"}

Row = Mapping[str, Any]


def account(customer: Row, erp_id: str | None, fact: Row | None) -> dict[str, Any]:
    """The Account of a hub customer row, with its value facts (customer_fact row) when computed."""
    rec: dict[str, Any] = {
        "Name": customer["name"],
        "AccountNumber": erp_id,
        "Industry": customer["industry"],
        "CurrencyIsoCode": customer["currency"],
        "Credit_Limit__c": _number(customer["credit_limit"]),
        "Payment_Terms__c": customer["payment_terms"],
        "Waybill_Status__c": customer["status"],
        "Tax_Id__c": customer["tax_id"],
    }
    if fact is not None:
        aging = json.loads(fact["aging"]) if isinstance(fact["aging"], str) else dict(fact["aging"])
        rec.update({
            "Tier__c": fact["tier"],
            "Revenue_12m__c": _number(fact["revenue_12m"]),
            "Lifetime_Value__c": _number(fact["lifetime_value"]),
            "Churn_Warning__c": bool(fact["churn_warning"]),
            "Overdue_Amount__c": _number(fact["overdue_total"]),
            "Facts_As_Of__c": _date(fact["as_of"]),
            **{f: _number(Decimal(str(aging.get(bucket, 0)))) for bucket, f in AGING_FIELDS.items()},
        })
    return rec


def order(row: Row) -> dict[str, Any]:
    """The Order of a hub order row (its customer's Account by external id)."""
    return {
        "Account": {EXTERNAL_ID: str(row["customer_id"])},
        # Salesforce's own Status only knows Draft/Activated; the hub's status goes alongside.
        "Status": "Draft" if row["status"] == "draft" else "Activated",
        "Waybill_Status__c": row["status"],
        "Order_Kind__c": row["kind"],
        "EffectiveDate": _date(row["order_date"]),
        "Requested_Date__c": _date(row["requested_date"]),
        "PoNumber": row["po_number"],
        "CurrencyIsoCode": row["currency"],
        "Amount_Untaxed__c": _number(row["amount_untaxed"]),
        "Amount_Total__c": _number(row["amount_total"]),
        "Source_System__c": row["system"],
        "Source_Id__c": row["external_id"],
    }


def shipment(row: Row) -> dict[str, Any]:
    """The Shipment__c of a hub shipment row: tracking, canonical status, ETA, last event."""
    rec: dict[str, Any] = {
        "Name": f"{row['system']}:{row['external_id']}"[:80],
        "Carrier__c": row["carrier"],
        "Tracking_Number__c": row["tracking_number"],
        "Status__c": row["status"],
        "Status_Code__c": row["status_code"],
        "ETA__c": _time(row["eta"]),
        "Last_Event__c": _time(row["status_at"]),
        "Last_Place__c": row["last_place"],
        "Delivered_At__c": _time(row["delivered_at"]),
        "Ship_Date__c": _date(row["ship_date"]),
        "Packages__c": row["packages"],
    }
    if row["customer_id"] is not None:
        rec["Account__r"] = {EXTERNAL_ID: str(row["customer_id"])}
    return rec


def _number(value: Decimal | int | float | None) -> float | None:
    # JSON has no decimal type; Salesforce currency fields hold 2-4 decimals, exact in a double.
    return None if value is None else float(value)


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z") if value is not None else None
