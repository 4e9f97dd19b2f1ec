"""Encryption at rest (AES-256-GCM) under a ring of keys with ids, and keyed content hashes.

Keys come from configuration (waybill.core.config), never from code: WAYBILL_SECRET_KEY (base64
keys separated by commas) or the key file (one base64 key a line), oldest first, the last one
current. A key's id is derived from the key itself, so a ring needs no other bookkeeping and a
ciphertext names the key that opens it:

- text (contacts, addresses): "<key id>:" + base64(nonce || ciphertext+tag); a token without an
  id was written before keys had ids, by the oldest key;
- bytes (raw messages, archived files): MAGIC + key id + nonce + ciphertext+tag, authenticated
  with associated data chosen by the caller (the message id for the message log).

Every encryption draws a fresh 96-bit nonce and uses the current key; decryption uses whichever
key the ciphertext names, so data written under older keys stays readable until `waybill keys
rotate` has re-encrypted it. The change-detection hashes (row_hash) are keyed by the oldest key,
so that rotation does not make every stored row look changed: that key stays in the ring.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from waybill.core.config import Settings
from waybill.core.errors import ConfigError, WaybillError
from waybill.core.files import write_private

_AAD = b"waybill/pii/v1"
MAGIC = b"WBE1"
KEY_ID_LEN = 8
_HEAD = len(MAGIC) + KEY_ID_LEN + 12


class DecryptError(WaybillError):
    """A ciphertext that no configured key opens (unknown key id, or tampered bytes)."""


def key_id(key: bytes) -> str:
    """The id of a key: 8 hex digits of a hash of it (reveals nothing usable about the key)."""
    return hashlib.sha256(b"waybill/key-id/v1" + key).hexdigest()[:KEY_ID_LEN]


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where}: a key is not valid base64") from None
    if len(key) != 32:
        raise ConfigError(f"{where}: a key must be 32 bytes (base64 of 32 random bytes)")
    return key


def load_keys(cfg: Settings, create: bool = False) -> list[bytes]:
    """The configured keys, oldest first; with `create`, a key file with one new key if none exists."""
    if cfg.secret_key_b64:
        return [_decode(k, "WAYBILL_SECRET_KEY") for k in cfg.secret_key_b64.split(",") if k.strip()]
    if cfg.secret_key_file.exists():
        lines = [ln for ln in cfg.secret_key_file.read_text().splitlines() if ln.strip()]
        if lines:
            return [_decode(ln, str(cfg.secret_key_file)) for ln in lines]
    if create:
        key = secrets.token_bytes(32)
        write_key_file(cfg.secret_key_file, [key])
        return [key]
    raise ConfigError(
        f"no encryption key: set WAYBILL_SECRET_KEY or create {cfg.secret_key_file} "
        "(`waybill db upgrade` creates one)"
    )


def write_key_file(path: Path, keys: list[bytes]) -> None:
    """Write the key file, readable by its owner only, atomically (a new file renamed over the old)."""
    write_private(path, "".join(base64.b64encode(k).decode() + "\n" for k in keys).encode())


class Cipher:
    """AES-256-GCM under a ring of keys (the last one current), plus a keyed hash for change detection."""

    def __init__(self, key: bytes | list[bytes]) -> None:
        keys = [key] if isinstance(key, bytes) else list(key)
        if not keys:
            raise ConfigError("no encryption key configured")
        self._aeads = {key_id(k): AESGCM(k) for k in keys}
        self.key_ids = [key_id(k) for k in keys]
        self.current = self.key_ids[-1]
        self._hash_key = hashlib.sha256(b"waybill/row-hash/v1" + keys[0]).digest()

    def _aead(self, kid: str) -> AESGCM:
        aead = self._aeads.get(kid)
        if aead is None:
            raise DecryptError(f"ciphertext under key {kid}, which is not configured (keys: {', '.join(self.key_ids)})")
        return aead

    # --- text ------------------------------------------------------------------------------------

    def encrypt(self, plaintext: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead(self.current).encrypt(nonce, plaintext.encode(), _AAD)
        return f"{self.current}:" + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        kid, sep, body = token.partition(":")
        if not sep:  # written before keys had ids: by the oldest key
            kid, body = self.key_ids[0], token
        blob = base64.b64decode(body)
        try:
            return self._aead(kid).decrypt(blob[:12], blob[12:], _AAD).decode()
        except InvalidTag:
            raise DecryptError(f"a ciphertext under key {kid} does not authenticate") from None

    def reveal(self, value: str) -> str:
        """The plaintext of a text column that is encrypted, or was stored in the clear as JSON
        before it was (a JSON text starts with [ or {, which no token does)."""
        return value if value.startswith(("[", "{")) else self.decrypt(value)

    @staticmethod
    def token_key_id(token: str) -> str | None:
        """The key id a text token names (None: written before keys had ids)."""
        kid, sep, _ = token.partition(":")
        return kid if sep else None

    # --- bytes -----------------------------------------------------------------------------------

    def seal(self, data: bytes, aad: bytes) -> bytes:
        """`data` encrypted under the current key, bound to `aad` (e.g. the message id)."""
        nonce = secrets.token_bytes(12)
        return MAGIC + self.current.encode() + nonce + self._aead(self.current).encrypt(nonce, data, aad)

    def open(self, blob: bytes, aad: bytes) -> bytes:
        """The plaintext of a sealed blob; DecryptError when no key opens it or `aad` differs."""
        if not blob.startswith(MAGIC):
            raise DecryptError("not a sealed blob")
        kid = blob[len(MAGIC):len(MAGIC) + KEY_ID_LEN].decode()
        try:
            return self._aead(kid).decrypt(blob[len(MAGIC) + KEY_ID_LEN:_HEAD], blob[_HEAD:], aad)
        except InvalidTag:
            raise DecryptError(f"sealed bytes under key {kid} do not authenticate (tampered or moved)") from None

    @staticmethod
    def blob_key_id(blob: bytes) -> str | None:
        """The key id a sealed blob names (None: not sealed)."""
        return blob[len(MAGIC):len(MAGIC) + KEY_ID_LEN].decode() if blob.startswith(MAGIC) else None

    def row_hash(self, text: str) -> str:
        """A keyed digest, so that a hash of a row holding personal data reveals nothing offline."""
        return hashlib.blake2b(text.encode(), key=self._hash_key[:32], digest_size=16).hexdigest()
