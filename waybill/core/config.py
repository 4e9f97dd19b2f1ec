"""Settings from the environment, with embedded defaults that need no set-up.

WAYBILL_HOME       working folder (default ./.waybill): SQLite store, landing, archive, key file.
WAYBILL_DB_URL     SQLAlchemy URL of the store (default: SQLite file in WAYBILL_HOME).
WAYBILL_SECRET_KEY base64 of the 32-byte AES-256-GCM key for personal data; if unset, the key is
                   read from WAYBILL_SECRET_KEY_FILE (default WAYBILL_HOME/secret.key), which
                   `waybill db upgrade` creates with a random key when it does not exist.
WAYBILL_EXPECTED_YEARS expected relationship years for lifetime value (default 3).
WAYBILL_RETENTION  TOML file of retention days (default WAYBILL_HOME/retention.toml; none: the
                   defaults of waybill.store.retention).
WAYBILL_PARK_HOURS how long a record waits for a reference the hub does not hold yet before it is
                   dead-lettered (default 24).
WAYBILL_CLAIM_SECONDS how long a worker's claim on outbox rows and inbound partner files holds
                   (default 600): a killed worker's rows go out, and its files are read, after it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str
    secret_key_b64: str | None
    secret_key_file: Path
    expected_years: Decimal
    retention_file: Path
    park_hours: float = 24.0
    claim_seconds: float = 600.0


def settings() -> Settings:
    """Read the settings now (tests change the environment between calls)."""
    home = Path(os.environ.get("WAYBILL_HOME", ".waybill")).resolve()
    return Settings(
        home=home,
        db_url=os.environ.get("WAYBILL_DB_URL") or f"sqlite:///{home / 'waybill.db'}",
        secret_key_b64=os.environ.get("WAYBILL_SECRET_KEY") or None,
        secret_key_file=Path(os.environ.get("WAYBILL_SECRET_KEY_FILE", home / "secret.key")),
        expected_years=Decimal(os.environ.get("WAYBILL_EXPECTED_YEARS", "3")),
        retention_file=Path(os.environ.get("WAYBILL_RETENTION", home / "retention.toml")),
        park_hours=float(os.environ.get("WAYBILL_PARK_HOURS", "24")),
        claim_seconds=float(os.environ.get("WAYBILL_CLAIM_SECONDS", "600")),
    )
