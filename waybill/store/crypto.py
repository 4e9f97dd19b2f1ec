"""Encryption of personal data at rest (AES-256-GCM) and keyed content hashes.

The key comes from configuration (waybill.core.config), never from code. Ciphertexts are
base64(nonce || ciphertext+tag) with a fresh 96-bit nonce each time.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from waybill.core.config import Settings
from waybill.core.errors import ConfigError

_AAD = b"waybill/pii/v1"


def load_key(cfg: Settings, create: bool = False) -> bytes:
    """The 32-byte key from WAYBILL_SECRET_KEY or the key file; with create, make the file once."""
    if cfg.secret_key_b64:
        key = base64.b64decode(cfg.secret_key_b64)
    elif cfg.secret_key_file.exists():
        key = base64.b64decode(cfg.secret_key_file.read_text().strip())
    elif create:
        key = secrets.token_bytes(32)
        write_key_file(cfg.secret_key_file, key)
    else:
        raise ConfigError(
            f"no encryption key: set WAYBILL_SECRET_KEY or create {cfg.secret_key_file} "
            "(`waybill db upgrade` creates one)"
        )
    if len(key) != 32:
        raise ConfigError("the personal-data key must be 32 bytes (base64 of 32 random bytes)")
    return key


def write_key_file(path: Path, key: bytes) -> None:
    """Write a key file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(key).decode() + "\n")


class Cipher:
    """AES-256-GCM for small personal-data blobs, plus a keyed hash for change detection."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._hash_key = hashlib.sha256(b"waybill/row-hash/v1" + key).digest()

    def encrypt(self, plaintext: str) -> str:
        nonce = secrets.token_bytes(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plaintext.encode(), _AAD)).decode()

    def decrypt(self, token: str) -> str:
        blob = base64.b64decode(token)
        return self._aead.decrypt(blob[:12], blob[12:], _AAD).decode()

    def row_hash(self, text: str) -> str:
        """A keyed digest, so that a hash of a row holding personal data reveals nothing offline."""
        return hashlib.blake2b(text.encode(), key=self._hash_key[:32], digest_size=16).hexdigest()
