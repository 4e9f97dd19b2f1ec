"""Customers, with identity resolution across systems (the customer_identity crosswalk)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from waybill.canonical import model
from waybill.store.outbox import Change
from waybill.store.schema import customer, customer_identity
from waybill.store.writers.common import Context, Item, Key, Outcome, by_ref, chunks, json_text, latest

#: the customer columns every system's record fills with the values it knows
_MERGED = ("name", "tax_id", "gln", "industry", "credit_limit", "currency", "payment_terms", "status")
#: the columns of personal data, stored encrypted (waybill.store.crypto)
_SEALED = ("contacts_enc", "addresses")


@dataclass(frozen=True)
class _Ident:
    """A crosswalk row: which hub customer a system's id belongs to, and what was stored from it."""

    customer_id: int
    version: str | None
    row_hash: str | None


@dataclass
class _Known:
    """What the batch's records can be matched against: crosswalk rows, tax ids and GLNs."""

    idents: dict[Key, _Ident]
    by_tax: dict[str, int]
    by_gln: dict[str, int]

    def match(self, c: model.Customer) -> tuple[int | None, str]:
        """The hub customer a record belongs to, and by which key (None, "new": none yet)."""
        ident = self.idents.get(c.ref)
        if ident is not None:
            return ident.customer_id, "crosswalk"
        for alias in c.aliases:
            hit = self.idents.get(alias)
            if hit is not None:
                return hit.customer_id, "alias"
        if c.tax_id and c.tax_id in self.by_tax:
            return self.by_tax[c.tax_id], "tax_id"
        if c.gln and c.gln in self.by_gln:
            return self.by_gln[c.gln], "gln"
        return None, "new"


def write_customers(ctx: Context, items: list[Item]) -> Outcome:
    """Customers with identity resolution: crosswalk, then explicit aliases, tax id or GLN.

    A record from a system the hub has not seen for this customer joins the existing customer when
    a strong key matches, instead of creating a duplicate. Each system's record fills the fields
    it knows (non-empty values); the customer row records the message that changed it last.
    """
    out = Outcome()
    if not items:
        return out
    items = latest(items)
    known = _load_known(ctx.conn, [i.entity for i in items])
    for message_id, c in items:
        ident = known.idents.get(c.ref)
        if ident is not None and ident.version is not None and c.version < ident.version:
            out.stale += 1
            continue
        digest = content_hash(ctx, c)
        if ident is not None and ident.row_hash == digest:
            out.unchanged += 1
            continue
        cid, matched_by = known.match(c)
        if cid is None:
            cid = _insert_customer(ctx, c, message_id)
            out.inserted += 1
            changed = True
        else:
            changed = _merge_customer(ctx, cid, c, message_id)
            out.updated += int(changed)
            out.unchanged += int(not changed)
        _upsert_identity(ctx.conn, c.ref, _Ident(cid, c.version, digest), matched_by, exists=ident is not None)
        known.idents[c.ref] = _Ident(cid, c.version, digest)
        for alias in c.aliases:
            if alias not in known.idents:
                _upsert_identity(ctx.conn, alias, _Ident(cid, None, None), "alias", exists=False)
                known.idents[alias] = _Ident(cid, None, None)
        if c.tax_id:
            known.by_tax.setdefault(c.tax_id, cid)
        if c.gln:
            known.by_gln.setdefault(c.gln, cid)
        if changed:
            out.changes.append(Change("customer", cid, c.ref.system))
    return out


def _load_known(conn: Connection, batch: list[model.Customer]) -> _Known:
    """The crosswalk rows of the batch's refs and aliases, and the customers with its tax ids and GLNs."""
    refs = {c.ref for c in batch} | {a for c in batch for a in c.aliases}
    rows = by_ref(conn, customer_identity, refs, customer_identity.c.customer_id,
                  customer_identity.c.version, customer_identity.c.row_hash)
    idents = {key: _Ident(r.customer_id, r.version, r.row_hash) for key, r in rows.items()}
    return _Known(idents, _customers_by(conn, "tax_id", {c.tax_id for c in batch if c.tax_id}),
                  _customers_by(conn, "gln", {c.gln for c in batch if c.gln}))


def _customers_by(conn: Connection, column: str, values: set[str]) -> dict[str, int]:
    """Hub customer ids by the value of a strong key column (tax_id, gln)."""
    found: dict[str, int] = {}
    col = customer.c[column]
    for chunk in chunks(sorted(values)):
        found.update({value: cid for cid, value in conn.execute(select(customer.c.id, col).where(col.in_(chunk)))})
    return found


def content_hash(ctx: Context, c: model.Customer) -> str:
    """The hash of what one system says about a customer (its identity row keeps it)."""
    return ctx.cipher.row_hash(repr(_customer_content(c)))


def _customer_content(c: model.Customer) -> tuple[Any, ...]:
    return (c.name, c.tax_id, c.gln, c.industry, c.credit_limit, c.currency, c.payment_terms, c.status,
            c.contacts, c.addresses, c.aliases)


def _customer_values(c: model.Customer) -> dict[str, Any]:
    """The customer's column values, the sealed ones (contacts, addresses) still in plaintext."""
    values: dict[str, Any] = {f: getattr(c, f) for f in _MERGED}
    values["contacts_enc"] = json_text([asdict(x) for x in c.contacts])
    values["addresses"] = json_text([asdict(a) for a in c.addresses])
    return values


def _sealed(ctx: Context, values: dict[str, Any]) -> dict[str, Any]:
    """`values` with the personal-data columns encrypted, as they are stored."""
    return {k: ctx.cipher.encrypt(v) if k in _SEALED and v is not None else v for k, v in values.items()}


def _opened(ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
    """A stored row with its personal-data columns in plaintext."""
    return {k: ctx.cipher.reveal(v) if k in _SEALED and v is not None else v for k, v in row.items()}


def _customer_row_hash(ctx: Context, row: dict[str, Any]) -> str:
    """The keyed hash of a customer row's content, over the plaintext of its sealed columns
    (ciphertexts differ on every encryption)."""
    return ctx.cipher.row_hash(repr((*(row[k] for k in (*_MERGED, "addresses")), row["contacts_enc"])))


def _insert_customer(ctx: Context, c: model.Customer, message_id: int | None) -> int:
    values = _customer_values(c)
    row = {**_sealed(ctx, values), "version": c.version, "last_message_id": message_id, "updated_at": ctx.now,
           "row_hash": _customer_row_hash(ctx, values)}
    return int(ctx.conn.execute(customer.insert().returning(customer.c.id), row).scalar_one())


def _merge_customer(ctx: Context, cid: int, c: model.Customer, message_id: int | None) -> bool:
    """Fill the stored customer with this record's non-empty fields; True if anything changed."""
    conn = ctx.conn
    stored = _opened(ctx, conn.execute(select(customer).where(customer.c.id == cid)).one()._asdict())
    incoming = {k: v for k, v in _customer_values(c).items() if v is not None}
    changed = {k: v for k, v in incoming.items() if _differs(stored.get(k), v)}
    if not changed:
        return False
    row_hash = _customer_row_hash(ctx, {**stored, **changed})
    conn.execute(update(customer).where(customer.c.id == cid).values(
        **_sealed(ctx, changed), row_hash=row_hash, version=max(stored["version"], c.version),
        last_message_id=message_id, updated_at=ctx.now))
    return True


def _differs(stored: Any, new: Any) -> bool:
    """Whether a stored value differs from a new one, compared as the new value's type (the store
    gives back e.g. a float or str where the record has a Decimal)."""
    if stored is None:
        return new is not None
    try:
        return bool(type(new)(stored) != new)
    except (TypeError, ValueError, ArithmeticError):
        return bool(stored != new)


def _upsert_identity(conn: Connection, ref: model.Ref, ident: _Ident, matched_by: str, *, exists: bool) -> None:
    if exists:
        conn.execute(
            update(customer_identity)
            .where(customer_identity.c.system == ref.system, customer_identity.c.external_id == ref.external_id)
            .values(customer_id=ident.customer_id, version=ident.version, row_hash=ident.row_hash)
        )
    else:
        conn.execute(customer_identity.insert().values(
            system=ref.system, external_id=ref.external_id, customer_id=ident.customer_id, version=ident.version,
            row_hash=ident.row_hash, matched_by=matched_by))
