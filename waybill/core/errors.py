"""Errors of the hub. Each carries the context an integration engineer needs to act on it."""

from __future__ import annotations


class WaybillError(Exception):
    """Base of every error Waybill raises on purpose."""


class ConfigError(WaybillError):
    """Configuration is missing or wrong (names the setting, never its secret value)."""


class RecordRejected(WaybillError):
    """A record failed validation or mapping; it is dead-lettered, the rest of the batch goes on."""

    def __init__(self, reason: str, field_path: str | None = None, key: str | None = None) -> None:
        self.reason = reason
        self.field_path = field_path
        self.key = key
        where = f" at {field_path}" if field_path else ""
        who = f" (record {key})" if key else ""
        super().__init__(f"{reason}{where}{who}")


class UnknownReference(RecordRejected):
    """A record refers to something the hub does not hold yet (an order before its customer, a scan
    before its shipment): it is early, not bad. The store parks it until `awaits` arrives."""

    def __init__(self, awaits: str, field_path: str | None = None, key: str | None = None) -> None:
        super().__init__(f"unknown {awaits}", field_path, key)
        self.awaits = awaits
