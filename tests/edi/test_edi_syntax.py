"""Syntax helpers: dates, times and EDIFACT character sets."""

from __future__ import annotations

import pytest

from waybill.edi.syntax import charset, recode, valid_date, valid_time


@pytest.mark.parametrize("value, ok", [
    ("20260101", True), ("260101", True), ("20240229", True), ("240229", True), ("20250229", False),
    ("261301", False), ("2026011", False), ("2026-01-01", False), ("", False),
])
def test_valid_date(value, ok):
    assert valid_date(value) is ok


@pytest.mark.parametrize("value, ok", [
    ("1200", True), ("235959", True), ("23595999", True), ("2400", False), ("1260", False),
    ("12000", False), ("120060", False), ("12:00", False),
])
def test_valid_time(value, ok):
    assert valid_time(value) is ok


def test_charset_and_recode():
    assert (charset("UNOC"), charset("UNOY"), charset("UNOQ")) == ("latin-1", "utf-8", None)
    latin1 = "Müller".encode().decode("latin-1")
    assert recode(["NAD", (latin1, "x"), latin1], "utf-8") == ["NAD", ("Müller", "x"), "Müller"]
