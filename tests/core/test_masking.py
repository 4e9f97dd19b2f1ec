"""Masking of personal data in free text (log lines, reasons): international phone formats and
e-mail addresses as people really write them, and what must stay readable."""

from __future__ import annotations

import logging

import pytest

from waybill.core.logs import event, get_logger, mask

PHONES = [
    ("030/1234567", "***-67"),  # German area code with a slash
    ("030 / 123 456 78", "***-78"),
    ("0170 1234567", "***-67"),  # German mobile
    ("+49 (0) 30 12345678", "***-78"),  # the trunk zero in parentheses
    ("0049 30 1234567", "***-67"),  # international prefix 00
    ("+44 (0)20 7946 0958", "***-58"),  # UK
    ("(555) 123-4567", "***-67"),  # North American
    ("+1-202-555-0143", "***-43"),
    ("+1 (202) 555-0143", "***-43"),
    ("+33 1 23 45 67 89", "***-89"),  # France, pairs
    ("06-12345678", "***-78"),  # Netherlands mobile
    ("+31 6 12345678", "***-78"),
    ("+48 61 123 45 67", "***-67"),  # Poland
    ("+81-3-1234-5678", "***-78"),  # Japan
    ("+86 10 1234 5678", "***-78"),  # China
    ("+7 495 123-45-67", "***-67"),  # Russia
    ("+49.30.1234567", "***-67"),  # dots
    ("+4930123456", "***-56"),  # E.164
]
EMAILS = [
    "anna@firma.de",
    "Jane.Doe+orders@sub.example.co.uk",
    "o'brien@example.ie",
    "INFO@EXAMPLE.DE",
    "josé.garcía@exämple.es",
    "a_b-c@mail-server.example",
]
KEPT = ["2026-12-01", "2026-12-01 10:00:00", "2026-12-01T10:00:00", "12.03.2026", "1,234.56", "123.40",
        "SO12345", "order 4711 of 12 lines", "v62.0", "10115 Berlin", "ratio 0.75", "14:05:33", "id 1234567"]


@pytest.mark.parametrize(("phone", "masked"), PHONES)
def test_phone_formats_are_masked_in_a_sentence(phone, masked):
    assert mask(f"please call {phone}. Thanks") == f"please call {masked}. Thanks"


@pytest.mark.parametrize("email", EMAILS)
@pytest.mark.parametrize("frame", ["write to {} today", "mailto:{}", "<{}>", '{{"email": "{}"}}'])
def test_emails_are_masked_in_free_text(email, frame):
    masked = mask(frame.format(email))
    assert email not in masked and email.split("@")[1] not in masked
    assert masked == frame.format(email[0] + "***@***")


@pytest.mark.parametrize("text", KEPT)
def test_dates_amounts_and_ids_stay_readable(text):
    assert mask(text) == text


def test_log_lines_are_masked_on_the_way_out(caplog):
    caplog.set_level(logging.INFO, logger="waybill.test")
    event(get_logger("test"), "contact", reason="call Jane at 030/1234567 or jane@firma.de")
    assert "1234567" not in caplog.text and "jane@firma.de" not in caplog.text
    assert "***-67" in caplog.text
