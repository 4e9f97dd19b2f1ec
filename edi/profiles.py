"""Partner profiles: one TOML file per trading partner, validated when loaded.

Example (``partners/acme.toml``)::

    id = "acme"
    standard = "X12"                # or "EDIFACT"
    version = "00401"               # ISA12, or the EDIFACT syntax identifier "UNOC:3"
    encoding = "latin-1"            # "cp037" allows EBCDIC files from this partner

    [interchange]
    qualifier = "ZZ"                # their ISA05/07 or UNB partner id qualifier
    id = "ACME"
    our_qualifier = "ZZ"
    our_id = "WAYBILL"

    [separators]                    # what we write to them; inbound files declare their own
    element = "*"
    component = ">"
    segment = "~"
    repetition = "^"
    line_end = "\\n"

    [sets]
    inbound = ["850", "940"]
    outbound = ["855", "856", "810", "945"]

    [acks]
    expect = true                   # they acknowledge our interchanges
    send = "997"                    # 997, 999 (X12), CONTRL (EDIFACT) or none

    [validation]
    code_lists = "warn"             # off (default), warn or reject
    unvalidated = "accept"          # a set without definition: accept (default) or reject
    guides = ["guides/acme-850.toml"]  # implementation guides, relative to this file

Other keys are not the engine's: the hub keeps its [hub] section in the same file and reads it
with waybill.flows.partners, from the same parsed dict.
"""

from __future__ import annotations

import os
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from waybill.core.errors import ConfigError
from waybill.edi.guides import GuideError, load_guide
from waybill.edi.model import EDIFACT_DEFAULT, X12_DEFAULT, Separators
from waybill.edi.serializer import Party
from waybill.edi.validator import DEFAULT_OPTIONS, Options

_ACKS = {"X12": {"997", "999", "none"}, "EDIFACT": {"CONTRL", "none"}}
_ID_MAX = {"X12": 15, "EDIFACT": 35}
T = TypeVar("T")


class ProfileError(ConfigError):
    """A partner profile that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class PartnerProfile:
    id: str
    standard: str
    version: str
    encoding: str
    partner: Party
    us: Party
    separators: Separators
    line_end: str
    inbound_sets: frozenset[str]
    outbound_sets: frozenset[str]
    expects_acks: bool
    sends_ack: str
    validation: Options = DEFAULT_OPTIONS


def _field(data: dict[str, Any], path: str, key: str, kind: type[T], *, default: T | None = None) -> T:
    """data[key] (or `default`), which must be a `kind`."""
    value = data.get(key, default)
    if value is None:
        raise ProfileError(f"{path}: {key} is required")
    if not isinstance(value, kind):
        raise ProfileError(f"{path}: {key} must be a {kind.__name__}, found {value!r}")
    return value


def parse_profile(data: dict[str, Any], path: str = "<profile>") -> PartnerProfile:
    """Validate parsed TOML and return the profile."""
    standard = _field(data, path, "standard", str)
    if standard not in _ACKS:
        raise ProfileError(f"{path}: standard must be X12 or EDIFACT, found {standard!r}")
    x12 = standard == "X12"
    version = _field(data, path, "version", str, default="00401" if x12 else "UNOC:3")
    if x12 and not (len(version) == 5 and version.isdigit()):
        raise ProfileError(f"{path}: version must be a 5-digit ISA12 value, found {version!r}")
    if not x12 and (len(version.split(":")) != 2 or not version.startswith("UNO")):
        raise ProfileError(f"{path}: version must look like 'UNOC:3', found {version!r}")
    inter = _field(data, path, "interchange", dict)
    parties = []
    for prefix in ("", "our_"):
        qualifier = _field(inter, path, prefix + "qualifier", str, default="" if not x12 else None)
        ident = _field(inter, path, prefix + "id", str)
        if x12 and len(qualifier) != 2:
            raise ProfileError(f"{path}: interchange.{prefix}qualifier must be 2 characters")
        if not ident or len(ident) > _ID_MAX[standard]:
            raise ProfileError(f"{path}: interchange.{prefix}id must be 1-{_ID_MAX[standard]} "
                               f"characters, found {ident!r}")
        parties.append(Party(ident, qualifier))
    seps_data = _field(data, path, "separators", dict, default={})
    default = X12_DEFAULT if x12 else EDIFACT_DEFAULT
    seps = Separators(
        element=seps_data.get("element", default.element),
        component=seps_data.get("component", default.component),
        segment=seps_data.get("segment", default.segment),
        repetition=seps_data.get("repetition", default.repetition),
        release="" if x12 else seps_data.get("release", default.release),
        decimal=seps_data.get("decimal", default.decimal),
    )
    chars = [seps.element, seps.component, seps.segment] + [c for c in (seps.repetition, seps.release) if c]
    if len(set(chars)) != len(chars) or any(
            len(c) != 1 or c in string.ascii_letters + string.digits + " " for c in chars):
        raise ProfileError(f"{path}: separators must be distinct single non-alphanumeric "
                           f"characters, found {chars!r}")
    sets = _field(data, path, "sets", dict, default={})
    directions = []
    for direction in ("inbound", "outbound"):
        names = sets.get(direction, [])
        bad = [s for s in names if not _is_message_type(s, x12)]
        if bad:
            raise ProfileError(f"{path}: sets.{direction} has invalid message types {bad!r}")
        directions.append(frozenset(names))
    acks = _field(data, path, "acks", dict, default={})
    send = acks.get("send", "997" if x12 else "CONTRL")
    if send not in _ACKS[standard]:
        raise ProfileError(f"{path}: acks.send must be one of {sorted(_ACKS[standard])}, "
                           f"found {send!r}")
    encoding = _field(data, path, "encoding", str, default="latin-1")
    try:
        "".encode(encoding)
    except LookupError:
        raise ProfileError(f"{path}: unknown encoding {encoding!r}") from None
    return PartnerProfile(
        id=_field(data, path, "id", str), standard=standard, version=version, encoding=encoding,
        partner=parties[0], us=parties[1], separators=seps,
        line_end=seps_data.get("line_end", ""), inbound_sets=directions[0],
        outbound_sets=directions[1], expects_acks=bool(acks.get("expect", False)), sends_ack=send,
        validation=_validation(_field(data, path, "validation", dict, default={}), path))


def _validation(data: dict[str, Any], path: str) -> Options:
    """The [validation] section: code lists, sets without definition, implementation guides."""
    code_lists = data.get("code_lists", "off")
    unvalidated = data.get("unvalidated", "accept")
    if code_lists not in ("off", "warn", "reject"):
        raise ProfileError(f"{path}: validation.code_lists must be off, warn or reject, found {code_lists!r}")
    if unvalidated not in ("accept", "reject"):
        raise ProfileError(f"{path}: validation.unvalidated must be accept or reject, found {unvalidated!r}")
    folder = Path(path).parent
    try:
        guides = tuple(load_guide(folder / name) for name in data.get("guides", []))
    except GuideError as exc:
        raise ProfileError(str(exc)) from None
    return Options(code_lists, unvalidated, guides)


def _is_message_type(name: object, x12: bool) -> bool:
    """An X12 set id ("850") or an EDIFACT message type ("ORDERS")."""
    if not isinstance(name, str):
        return False
    return len(name) == 3 and name.isdigit() if x12 else len(name) == 6 and name.isalpha()


def read_profile(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed TOML of a profile file, every section of it (validated by whoever uses it)."""
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None


def load_profile(path: str | os.PathLike[str]) -> PartnerProfile:
    """Read and validate one partner profile file."""
    return parse_profile(read_profile(path), str(path))
