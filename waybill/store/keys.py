"""Key rotation: which keys the stored ciphertexts use, and re-encryption under the current key.

`rotate` adds a key to the key file, which becomes current for everything written from then on,
and re-encrypts what is stored. Re-encryption walks what is not yet under the current key
(contacts, addresses, ship-to addresses, raw messages and their archived copies) in batches, each
committed on its own, so an interrupted run loses nothing and the next run carries on where it
stopped: what is done is no longer selected.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Connection, or_, select, update

from waybill.core.errors import ConfigError
from waybill.store import audit, message_log
from waybill.store.crypto import Cipher, key_id, load_keys, write_key_file
from waybill.store.schema import customer, message, orders
from waybill.store.store import Store, utcnow

BATCH = 500


#: the text columns that hold ciphertexts (personal data of customers and orders)
SEALED_TEXT = ((customer, "contacts_enc"), (customer, "addresses"), (orders, "ship_to"))


@dataclass
class Reencrypted:
    """How many ciphertexts one re-encryption moved to the current key: text columns, raw messages."""

    fields: int = 0
    messages: int = 0


def usage(conn: Connection) -> dict[str, int]:
    """How many stored ciphertexts each key id opens ("plain" for raw bytes logged before sealing)."""
    counts: Counter[str] = Counter()
    q = select(message.c.key_id).where(message_log.holds_bytes())
    counts.update(kid or "plain" for kid in conn.execute(q).scalars())
    for table, name in SEALED_TEXT:
        col = table.c[name]
        for token in conn.execute(select(col).where(col.is_not(None))).scalars():
            counts[(Cipher.token_key_id(token) or "legacy") if not token.startswith(("[", "{")) else "plain"] += 1
    return dict(counts)


def reencrypt(store: Store, *, batch: int = BATCH, limit_batches: int | None = None) -> Reencrypted:
    """Move every ciphertext to the store cipher's current key, `batch` rows a transaction.

    `limit_batches` stops after that many batches (an interrupted run, in tests); a later call
    carries on."""
    done = Reencrypted()
    current = store.cipher.current
    batches = 0
    while limit_batches is None or batches < limit_batches:
        with store.begin() as conn:
            rows = 0
            for table, name in SEALED_TEXT:
                col = table.c[name]
                found = conn.execute(select(table.c.id, col).where(col.is_not(None), col.not_like(f"{current}:%"))
                                     .order_by(table.c.id).limit(batch)).all()
                for row_id, token in found:
                    conn.execute(update(table).where(table.c.id == row_id)
                                 .values({name: store.cipher.encrypt(store.cipher.reveal(token))}))
                rows += len(found)
            done.fields += rows
            ids = conn.execute(
                select(message.c.id)
                .where(message_log.holds_bytes(), or_(message.c.key_id.is_(None), message.c.key_id != current))
                .order_by(message.c.id).limit(batch)).scalars().all()
            for mid in ids:
                message_log.reseal(conn, store.vault, mid)
            done.messages += len(ids)
        batches += 1
        if not rows and not ids:
            break
    return done


def add_key(store: Store) -> Store:
    """Append a new random key to the key file (it becomes current) and return the store under the
    new ring. Keys configured by WAYBILL_SECRET_KEY are the operator's to add."""
    cfg = store.cfg
    if cfg.secret_key_b64:
        raise ConfigError("the keys come from WAYBILL_SECRET_KEY: append a new base64 key to it (comma-separated, "
                          "newest last), then run `waybill keys rotate --resume` to re-encrypt under it")
    keys = [*load_keys(cfg), secrets.token_bytes(32)]
    write_key_file(cfg.secret_key_file, keys)
    return Store(store.engine, Cipher(keys), cfg)


def rotate(store: Store, *, new_key: bool = True, batch: int = BATCH) -> tuple[Store, Reencrypted]:
    """Add a key (unless resuming) and re-encrypt everything under it; audited. Old keys stay in
    the ring until `prune` finds nothing that uses them."""
    if new_key:
        store = add_key(store)
    done = reencrypt(store, batch=batch)
    with store.begin() as conn:
        audit.record(conn, "rotate", utcnow(), detail={"current": store.cipher.current, "keys": store.cipher.key_ids,
                                                        "fields": done.fields, "messages": done.messages})
    return store, done


def prune(store: Store) -> list[str]:
    """Drop from the key file the keys nothing uses any more (never the current one, nor the oldest,
    which keys the change-detection hashes); the ids dropped."""
    cfg = store.cfg
    with store.engine.connect() as conn:
        used = usage(conn)
    keys = load_keys(cfg)
    keep = [k for i, k in enumerate(keys) if i in (0, len(keys) - 1) or used.get(key_id(k), 0) > 0]
    dropped = [key_id(k) for k in keys if k not in keep]
    if dropped:
        if cfg.secret_key_b64:
            raise ConfigError(f"keys {', '.join(dropped)} are unused: remove them from WAYBILL_SECRET_KEY")
        write_key_file(cfg.secret_key_file, keep)
        with store.begin() as conn:
            audit.record(conn, "prune-keys", utcnow(), detail={"dropped": dropped})
    return dropped
