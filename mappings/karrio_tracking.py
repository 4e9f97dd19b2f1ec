"""karrio's tracking request builders and reply parsers, for the REST carriers' mappings. Pure: no I/O.

karrio (karrio-fedex, karrio-ups, karrio-dhl-universal) builds each carrier's tracking request body
and parses its reply into karrio's TrackingDetails (one per tracking number: its events in the
carrier's order, event codes and places) and Messages (the numbers the carrier refused). Its
transport is not used: the connector sends the requests on our HTTP policy (timeouts, bounded
retries, Retry-After, OAuth2 tokens cached), which karrio's urllib proxies do not follow.

karrio's FedEx parser fetches a proof of delivery over the network for every delivered parcel
(urllib, no timeout, seconds per parcel when the host is unreachable). The settings given to the
parsers here have no server URL: reading it raises, so that fetch stops before any connection,
inside karrio's own failsafe, and parsing stays pure. karrio's own log lines, and those of jstruct
under it (which quote reply fields), are switched off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import karrio.core.models as karrio_models
import karrio.lib as karrio_lib
import karrio.providers.dhl_universal.tracking as dhl_tracking
import karrio.providers.dhl_universal.utils as dhl_utils
import karrio.providers.fedex.tracking as fedex_tracking
import karrio.providers.fedex.utils as fedex_utils
import karrio.providers.ups.tracking as ups_tracking
import karrio.providers.ups.utils as ups_utils
from loguru import logger

from waybill.canonical import model
from waybill.mappings.carrier_events import reply_json

TrackingDetails = Any  # karrio.core.models.TrackingDetails (karrio ships no type information)
Message = Any  # karrio.core.models.Message

logger.disable("karrio")  # its request/response lines would bypass our logs (and their masking)
# jstruct, under karrio's schemas, logs every reply field a schema lacks with its value (names,
# addresses of recipients): never into our logs
logging.getLogger("jstruct").setLevel(logging.CRITICAL)


class ReplyError(ValueError):
    """karrio could not read a reply (a shape it does not expect): the reply is refused whole."""


class OfflineError(RuntimeError):
    """What a parser meets when it asks the settings for the carrier's server (mappings do no I/O)."""


class _FedexSettings(fedex_utils.Settings):  # type: ignore[misc]
    @property
    def server_url(self) -> str:
        raise OfflineError("karrio's FedEx parser asked for the server (proof of delivery): not from a mapping")


class _UpsSettings(ups_utils.Settings):  # type: ignore[misc]
    @property
    def server_url(self) -> str:
        raise OfflineError("karrio's UPS parser asked for the server: not from a mapping")


class _DhlSettings(dhl_utils.Settings):  # type: ignore[misc]
    @property
    def server_url(self) -> str:
        raise OfflineError("karrio's DHL parser asked for the server: not from a mapping")


# No credentials here: they are the connector's. Built once (settings are read-only to the parsers).
_SETTINGS: dict[str, Any] = {
    "fedex": _FedexSettings(carrier_id="fedex"),
    "ups": _UpsSettings(carrier_id="ups"),
    "dhl": _DhlSettings(carrier_id="dhl"),
}


def fedex_request(numbers: Sequence[str]) -> Any:
    """The FedEx Track API body (`POST /track/v1/trackingnumbers`) for up to 30 numbers, as karrio builds it."""
    payload = karrio_models.TrackingRequest(tracking_numbers=list(numbers))
    return fedex_tracking.tracking_request(payload, _SETTINGS["fedex"]).serialize()


def dhl_request(number: str) -> dict[str, str]:
    """The DHL Unified query (`GET /track/shipments?...`) of one number, as karrio builds it."""
    payload = karrio_models.TrackingRequest(tracking_numbers=[number])
    [query] = dhl_tracking.tracking_request(payload, _SETTINGS["dhl"]).serialize()
    return {k: str(v) for k, v in query.items()}


def ups_numbers(numbers: Sequence[str]) -> list[str]:
    """The numbers karrio's UPS request carries (one call each, `GET /api/track/v1/details/{number}`)."""
    payload = karrio_models.TrackingRequest(tracking_numbers=list(numbers))
    return [str(n) for n in ups_tracking.tracking_request(payload, _SETTINGS["ups"]).serialize()]


def parse_fedex(body: Any) -> tuple[list[TrackingDetails], list[Message]]:
    """karrio's reading of a FedEx Track API reply (a parsed JSON object); ReplyError if it cannot."""
    return _parsed("FedEx", fedex_tracking.parse_tracking_response, body)


def parse_ups(number: str, body: Any) -> tuple[list[TrackingDetails], list[Message]]:
    """karrio's reading of the UPS Tracking API reply for `number`; ReplyError if it cannot."""
    return _parsed("UPS", ups_tracking.parse_tracking_response, [(number, body)])


def parse_dhl(body: Any) -> tuple[list[TrackingDetails], list[Message]]:
    """karrio's reading of a DHL Unified tracking reply (or problem document); ReplyError if it cannot."""
    return _parsed("DHL", dhl_tracking.parse_tracking_response, [body])


Parsed = tuple[list[TrackingDetails], list[Message]]


def read_reply(system: str, msg: model.InboundMessage, parse: Callable[[Any], Parsed],
               scans: Callable[[Any], bool]) -> tuple[Any, Parsed] | None:
    """(the reply as JSON, what `parse` (one of the parse_* above) reads in it), or None with `msg`
    refused whole (with its reason) when the reply is not JSON or karrio cannot read it. A reply
    without scans (`scans` says) that karrio cannot read loses nothing: None, `msg` not refused
    (karrio fails on a parcel with no scan yet; the number is asked for again next run)."""
    body = reply_json(system, msg.raw, msg)
    if body is None:
        return None
    try:
        return body, parse(body)
    except ReplyError as err:
        if scans(body):
            msg.rejected_reason = f"{system}: {err}"
        return None


def _parsed(carrier: str, parse: Any, body: Any) -> tuple[list[TrackingDetails], list[Message]]:
    settings = _SETTINGS[carrier.lower()]
    try:
        details, messages = parse(karrio_lib.Deserializable(body, lambda value: value), settings)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
        raise ReplyError(f"karrio cannot read this {carrier} tracking reply ({type(err).__name__}: {err})") from err
    return [d for d in details if d is not None], list(messages)
