"""Structured logging with personal data masked.

Airflow masks only secrets it knows by name; e-mail addresses and phone numbers in our own log
lines are masked here, by a filter on the `waybill` loggers and by `mask()` for any text.
"""

from __future__ import annotations

import json
import logging
import re

# The local part as RFC 5322 allows it unquoted, international (UTF-8) letters included.
_EMAIL = re.compile(r"([\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]*@(?:[\w-]+\.)+[\w-]{2,}")
# Phone-like: optional + (or 00), then 7+ digits possibly separated by spaces, dots, dashes,
# slashes (German 030/1234567) or parentheses ((0)20, (555)); a sentence's full stop may follow.
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d \t()./-]{5,}\d(?!\w|\.\d)")


def mask(text: str) -> str:
    """Replace e-mail addresses and phone numbers with masked forms (j***@*** and ***-NN)."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@***", text)
    return _PHONE.sub(_mask_phone, text)


_DATE = re.compile(r"\d{4}[-/.]\d{2}[-/.]\d{2}([ T]\d{2}(:\d{2}){0,2})?|\d{1,2}[./]\d{1,2}[./]\d{2,4}")


def _mask_phone(m: re.Match[str]) -> str:
    text = m.group(0)
    digits = re.sub(r"\D", "", text)
    # Dates, amounts and plain record ids are not phone numbers: a phone has 7+ digits and a
    # leading + or separators, or is a long bare number.
    if _DATE.fullmatch(text.strip()):
        return text
    looks_like_phone = text.startswith("+") or digits != text
    if len(digits) < 7 or not (looks_like_phone or len(digits) >= 10):
        return text
    return "***-" + digits[-2:]


class MaskFilter(logging.Filter):
    """Masks personal data in the formatted message of every record passing through."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def get_logger(name: str) -> logging.Logger:
    """A `waybill.*` logger with the mask filter (logger filters do not apply to child loggers)."""
    logger = logging.getLogger(f"waybill.{name}")
    if not any(isinstance(f, MaskFilter) for f in logger.filters):
        logger.addFilter(MaskFilter())
    return logger


def event(logger: logging.Logger, what: str, *, severity: int = logging.INFO, **fields: object) -> None:
    """Log one structured event: `what` followed by its fields as JSON (masked), at `severity`."""
    logger.log(severity, "%s %s", what, json.dumps(fields, default=str, sort_keys=True))
