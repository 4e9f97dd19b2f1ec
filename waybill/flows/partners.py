"""Trading partners: one TOML file per partner (partners/<id>.toml), read once into one `Partner`.

A profile file has two parts, parsed from the same dict:

- the EDI engine's part (id, standard, version, encoding, [interchange], [separators], [sets],
  [acks]), validated by waybill.edi.profiles.parse_profile. The engine ignores every other key, so
  it (and its CLI) keeps using a profile on its own, without the hub;
- the [hub] section, whose documents these are in the hub (waybill.mappings.edi_fields.PartnerContext):
  the default customer, the customers behind the partner's party ids, the default currency and the
  partner's own shipment status codes. It is the hub's business, so it is validated here.

Both parts fail with waybill.edi.profiles.ProfileError (a ConfigError) naming the file and the key.

    [hub]
    customer = "erp:res.partner/1"    # a Ref (waybill.canonical.model.Ref.parse); optional
    currency = "USD"                  # when a document names none (default USD)

    [hub.parties]                     # party id or GLN (N1 04, NAD C082) -> hub customer ref
    "33333" = "erp:res.partner/1"

    [hub.status_codes]                # the partner's status code -> canonical delivery status
    "21" = "delivered"

    [hub.erp]                         # the partner's orders written back to the ERP
    confirm = true                    # confirm them there (default: left as quotations)
    [hub.erp.items]                   # the partner's item ids -> the ERP's internal references
    "ACME-77" = "FURN_6741"
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waybill.canonical import tracking
from waybill.canonical.model import DELIVERY_STATUSES, Ref
from waybill.edi.profiles import PartnerProfile, ProfileError, parse_profile, read_profile
from waybill.mappings.edi_fields import PartnerContext

#: the family of partner systems: a partner's documents come from system "edi:<partner id>"
FAMILY = "edi"
_HUB_KEYS = frozenset({"customer", "currency", "parties", "status_codes", "erp"})


@dataclass(frozen=True)
class ErpWriteBack:
    """How a partner's orders are written back to the ERP ([hub.erp])."""

    confirm: bool = False
    #: the partner's item id -> the ERP's internal reference
    items: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Partner:
    """A trading partner: the EDI engine's profile and whose documents these are in the hub."""

    profile: PartnerProfile
    context: PartnerContext
    erp: ErpWriteBack = field(default_factory=ErpWriteBack)

    @property
    def id(self) -> str:
        return self.profile.id

    @property
    def system(self) -> str:
        """The hub system of the partner's documents, "edi:<id>"."""
        return self.context.system

    @property
    def conn_id(self) -> str:
        """The Airflow Connection of the partner's SFTP server."""
        return f"waybill_partner_{self.profile.id}"


def partners_dir() -> Path:
    """WAYBILL_PARTNERS, or the partners/ folder of the project."""
    return Path(os.environ.get("WAYBILL_PARTNERS") or Path(__file__).resolve().parents[2] / "partners")


def partner_ids(folder: Path | None = None) -> list[str]:
    """The ids of every partner with a profile, sorted."""
    return sorted(path.stem for path in (folder or partners_dir()).glob("*.toml"))


def load_partner(partner_id: str, folder: Path | None = None) -> Partner:
    """The partner whose profile is <folder>/<id>.toml, validated."""
    path = (folder or partners_dir()) / f"{partner_id}.toml"
    if not path.is_file():
        raise ProfileError(f"partner {partner_id!r}: no profile at {path}")
    partner = parse_partner(read_profile(path), str(path))
    if partner.id != partner_id:
        raise ProfileError(f"{path}: id must be the file's name {partner_id!r}, found {partner.id!r}")
    return partner


def is_partner_system(system: str) -> bool:
    """Whether `system` is a partner's ("edi:<id>")."""
    family, _, partner_id = system.partition(":")
    return family == FAMILY and bool(partner_id)


def partner_of(system: str) -> Partner:
    """The partner whose documents come from `system` ("edi:acme")."""
    if not is_partner_system(system):
        raise ProfileError(f"{system!r} is not a partner's system ({FAMILY}:<partner id>)")
    return load_partner(system.partition(":")[2])


def parse_partner(data: dict[str, Any], path: str = "<profile>") -> Partner:
    """Both parts of a parsed profile file, validated."""
    profile = parse_profile(data, path)
    hub = _table(data, path, "hub")
    unknown = sorted(set(hub) - _HUB_KEYS)
    if unknown:
        raise ProfileError(f"{path}: hub.{unknown[0]} is not a key of [hub] (known: {', '.join(sorted(_HUB_KEYS))})")
    customer = hub.get("customer")
    currency = hub.get("currency", "USD")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise ProfileError(f"{path}: hub.currency must be an ISO 4217 code such as 'USD', found {currency!r}")
    status_codes = {str(k): v for k, v in _table(hub, path, "hub.status_codes").items()}
    bad = {k: v for k, v in status_codes.items() if not isinstance(v, str)} or tracking.invalid(status_codes)
    if bad:
        raise ProfileError(f"{path}: hub.status_codes {bad} must map to one of {', '.join(DELIVERY_STATUSES)} "
                           "(optionally with :substatus)")
    context = PartnerContext(
        system=f"{FAMILY}:{profile.id}",
        customer=_ref(customer, path, "hub.customer") if customer is not None else None,
        parties={str(k): _ref(v, path, f"hub.parties.{k}") for k, v in _table(hub, path, "hub.parties").items()},
        currency=currency, status_codes=status_codes)
    return Partner(profile, context, _erp(_table(hub, path, "hub.erp"), path))


def _erp(table: dict[str, Any], path: str) -> ErpWriteBack:
    confirm = table.get("confirm", False)
    if not isinstance(confirm, bool):
        raise ProfileError(f"{path}: hub.erp.confirm must be true or false, found {confirm!r}")
    unknown = sorted(set(table) - {"confirm", "items"})
    if unknown:
        raise ProfileError(f"{path}: hub.erp.{unknown[0]} is not a key of [hub.erp] (known: confirm, items)")
    items = _table(table, path, "hub.erp.items")
    bad = [k for k, v in items.items() if not isinstance(v, str) or not v]
    if bad:
        raise ProfileError(f"{path}: hub.erp.items.{bad[0]} must be the ERP's internal reference (a string)")
    return ErpWriteBack(confirm, {str(k): v for k, v in items.items()})


def _table(data: dict[str, Any], path: str, key: str) -> dict[str, Any]:
    """The sub-table `key` (its last dotted part) of `data`, empty when absent."""
    value = data.get(key.rsplit(".", 1)[-1], {})
    if not isinstance(value, dict):
        raise ProfileError(f"{path}: {key} must be a table, found {value!r}")
    return value


def _ref(value: object, path: str, key: str) -> Ref:
    if not isinstance(value, str):
        raise ProfileError(f"{path}: {key} must be a ref string such as 'erp:res.partner/1', found {value!r}")
    try:
        return Ref.parse(value)
    except ValueError as err:
        raise ProfileError(f"{path}: {key}: {err}") from None
