"""Carrier profiles: one small TOML file per carrier, chosen per shipment by carrier code.

A profile says how Waybill talks to one carrier's tracking service, as data:

    name = "ups"                       # the file's name; system "carrier:<name>", Connection waybill_carrier_<name>
    title = "UPS Tracking API"
    codes = ["UPS"]                    # shipment carrier codes it tracks (any case)
    protocol = "rest"                  # "rest" (HTTP JSON) or "soap" (zeep, WSDL shipped with the profile)
    mapping = "waybill.mappings.ups"   # the pure module that builds requests and reads replies
    base_url = "https://onlinetools.ups.com"   # used when the Connection names no host
    batch_size = 1                     # tracking numbers per request the carrier allows
    rate_per_second = 10               # the carrier's rate limit: one pool per carrier
    retired = ""                       # why the carrier no longer answers (never chosen by code then)
    [auth]
    kind = "oauth2"                    # "oauth2" (client credentials), "api_key", "soap" (credentials in the
                                       # request) or "http_basic" (SOAP with the Connection's login/password)
    token_path = "/security/v1/oauth/token"
    client_auth = "basic"              # "basic" (client id/secret as HTTP Basic) or "form" (in the body)
    header = "DHL-API-Key"             # api_key: the header carrying the key
    [soap]
    wsdl = "fedex/TrackService_v16.wsdl"   # relative to the profile's folder, else to connectors/wsdl
    operation = "track"

Profiles ship in connectors/carriers/; WAYBILL_CARRIERS names a further folder (read after the
packaged one: a profile there replaces the packaged one of the same name). Adding a carrier is a
profile, its WSDL for SOAP, and one mapping module: no code change here or in the flow.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waybill.core.errors import ConfigError

PACKAGED = Path(__file__).with_name("carriers")
WSDL_DIR = Path(__file__).with_name("wsdl")
PROTOCOLS = ("rest", "soap")
AUTH_KINDS = ("oauth2", "api_key", "soap", "http_basic")


@dataclass(frozen=True)
class Auth:
    kind: str
    token_path: str = ""
    client_auth: str = "basic"
    header: str = ""


@dataclass(frozen=True)
class Profile:
    """One carrier's tracking service, as its profile file describes it."""

    name: str
    title: str
    codes: tuple[str, ...]
    protocol: str
    mapping: str
    auth: Auth
    batch_size: int
    rate_per_second: float
    base_url: str = ""
    retired: str = ""
    wsdl: Path | None = None
    operation: str = ""
    path: Path = field(default=Path(), compare=False)

    @property
    def system(self) -> str:
        return f"carrier:{self.name}"

    @property
    def conn_id(self) -> str:
        return f"waybill_carrier_{self.name}"


def folders() -> list[Path]:
    """Where profiles are read from: the packaged folder, then WAYBILL_CARRIERS if set."""
    extra = os.environ.get("WAYBILL_CARRIERS")
    return [PACKAGED, *([Path(extra)] if extra else [])]


def load_all() -> dict[str, Profile]:
    """Every profile by name (a later folder's profile replaces an earlier one of the same name)."""
    profiles: dict[str, Profile] = {}
    for folder in folders():
        for path in sorted(folder.glob("*.toml")):
            profiles[path.stem] = parse(path)
    return profiles


def load(name: str) -> Profile:
    """The profile called `name` (the last folder's, as in load_all); ConfigError naming the
    folders searched when there is none."""
    for folder in reversed(folders()):
        path = folder / f"{name}.toml"
        if path.is_file():
            return parse(path)
    raise ConfigError(f"carrier {name!r}: no profile {name}.toml in {', '.join(map(str, folders()))}")


def for_code(code: str, profiles: dict[str, Profile] | None = None) -> Profile | None:
    """The active (not retired) profile that tracks shipments of carrier code `code` (any case)."""
    wanted = code.upper()
    for p in (profiles if profiles is not None else load_all()).values():
        if not p.retired and wanted in p.codes:
            return p
    return None


def parse(path: Path) -> Profile:
    """Read and check one profile file; ConfigError with the file and field on any mistake."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"carrier profile {path}: {err}") from None
    where = f"carrier profile {path}"
    name = _get(data, "name", str, where)
    if name != path.stem:
        raise ConfigError(f"{where}: name must be the file's name {path.stem!r}, found {name!r}")
    protocol = _get(data, "protocol", str, where)
    if protocol not in PROTOCOLS:
        raise ConfigError(f"{where}: protocol must be one of {', '.join(PROTOCOLS)}, found {protocol!r}")
    auth_data = data.get("auth") or {}
    kind = _get(auth_data, "kind", str, f"{where} [auth]")
    if kind not in AUTH_KINDS:
        raise ConfigError(f"{where}: auth.kind must be one of {', '.join(AUTH_KINDS)}, found {kind!r}")
    auth = Auth(kind, str(auth_data.get("token_path", "")), str(auth_data.get("client_auth", "basic")),
                str(auth_data.get("header", "")))
    if kind == "oauth2" and not auth.token_path:
        raise ConfigError(f"{where}: auth.token_path is required for oauth2")
    if kind == "api_key" and not auth.header:
        raise ConfigError(f"{where}: auth.header is required for api_key")
    batch_size = _get(data, "batch_size", int, where)
    rate = float(data.get("rate_per_second", 10))
    if batch_size < 1 or rate <= 0:
        raise ConfigError(f"{where}: batch_size and rate_per_second must be positive")
    wsdl, operation = None, ""
    if protocol == "soap":
        soap = data.get("soap") or {}
        wsdl = _wsdl(path, _get(soap, "wsdl", str, f"{where} [soap]"), where)
        operation = _get(soap, "operation", str, f"{where} [soap]")
    return Profile(
        name=name, title=str(data.get("title", name)), codes=tuple(str(c).upper() for c in data.get("codes", [])),
        protocol=protocol, mapping=_get(data, "mapping", str, where), auth=auth, batch_size=batch_size,
        rate_per_second=rate, base_url=str(data.get("base_url", "")), retired=str(data.get("retired", "")),
        wsdl=wsdl, operation=operation, path=path,
    )


def _wsdl(profile: Path, relative: str, where: str) -> Path:
    """The profile's WSDL: next to the profile, else among the packaged WSDLs; never outside both."""
    for base in (profile.parent, WSDL_DIR):
        candidate = (base / relative).resolve()
        if candidate.is_relative_to(base.resolve()) and candidate.is_file():
            return candidate
    raise ConfigError(f"{where}: WSDL {relative!r} not found next to the profile or in {WSDL_DIR}")


def _get(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be a {kind.__name__}, found {value!r}")
    return value
