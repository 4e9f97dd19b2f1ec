"""Connection settings of an external system, by Airflow Connection id.

Wherever Airflow is installed, the Connection comes from Airflow itself: its secrets backends in
their configured order (the AIRFLOW_CONN_<ID> environment variable, then a configured backend such
as Vault, then the metadata DB), parsed by Airflow's own Connection class, with the password and
the sensitive extras registered with Airflow's secrets masker. Without Airflow (`pip install
waybill` for the EDI engine and the hub), only the AIRFLOW_CONN_<ID> variable is read, in the same
JSON or URI form.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from waybill.core.errors import ConfigError

#: extras that hold secrets, registered for masking like the password
SENSITIVE_EXTRAS = ("credentials", "private_key", "token", "api_key", "client_secret", "secret")


@dataclass(frozen=True)
class ConnectionInfo:
    conn_id: str
    conn_type: str
    host: str = ""
    port: int | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def base_url(self) -> str:
        """http(s)://host:port[/schema] for HTTP-style connections (extra `scheme`, default http)."""
        scheme = self.extra.get("scheme") or ("https" if self.conn_type == "https" else "http")
        port = f":{self.port}" if self.port else ""
        path = f"/{self.schema.strip('/')}" if self.schema else ""
        return f"{scheme}://{self.host}{port}{path}"


def get_connection(conn_id: str) -> ConnectionInfo:
    """The Connection `conn_id`, from Airflow when it is installed, else from the environment."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:
        value = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        if value is None:
            raise _not_configured(conn_id) from None
        return _parse_without_airflow(conn_id, value)
    try:
        c = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise _not_configured(conn_id) from None
    return mask(from_airflow(conn_id, c))


def parse(conn_id: str, value: str) -> ConnectionInfo:
    """Airflow's JSON or URI form of a Connection, parsed by Airflow's Connection class."""
    try:
        from airflow.sdk import Connection
    except ImportError:
        return _parse_without_airflow(conn_id, value)
    value = value.strip()
    try:
        c = (Connection.from_json(value, conn_id=conn_id) if value.startswith("{")
             else Connection.from_uri(value, conn_id=conn_id))
    except ValueError as err:  # json.JSONDecodeError is a ValueError
        raise ConfigError(f"connection {conn_id!r}: not a Connection in Airflow's JSON or URI form ({err})") from None
    if not value.startswith("{") and not c.conn_type:
        raise ConfigError(f"connection {conn_id!r}: expected a URI like type://user:pass@host:port/schema")
    return from_airflow(conn_id, c)


def mask(info: ConnectionInfo) -> ConnectionInfo:
    """Register the Connection's secrets with Airflow's masker (task logs, rendered fields)."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:
        return info
    def every_value(value: Any) -> None:
        # Airflow masks a dict's values only under key names it knows as sensitive ("meter" is not).
        if isinstance(value, dict):
            for item in value.values():
                every_value(item)
        elif isinstance(value, list | tuple):
            for item in value:
                every_value(item)
        elif value not in (None, ""):
            mask_secret(str(value))

    every_value(info.password)
    for key in SENSITIVE_EXTRAS:
        every_value(info.extra.get(key))
    return info


def from_airflow(conn_id: str, c: Any) -> ConnectionInfo:
    """Airflow's Connection as the connectors' frozen settings. Extras saved by a connection form
    under Airflow's prefixed names (extra__<type>__<field>) are read under their plain names."""
    prefix = f"extra__{c.conn_type}__"
    extra = {k.removeprefix(prefix): v for k, v in (c.extra_dejson if c.extra else {}).items()}
    return ConnectionInfo(conn_id, c.conn_type or "", c.host or "", c.port, c.login, c.password, c.schema,
                          extra)


def _not_configured(conn_id: str) -> ConfigError:
    return ConfigError(f"connection {conn_id!r} is not configured: set AIRFLOW_CONN_{conn_id.upper()} "
                       "(URI or JSON) or define it in Airflow")


def _parse_without_airflow(conn_id: str, value: str) -> ConnectionInfo:
    """Airflow's JSON or URI form, for an install without Airflow (the EDI engine and hub alone)."""
    value = value.strip()
    if value.startswith("{"):
        try:
            d = json.loads(value)
        except json.JSONDecodeError as err:
            raise ConfigError(f"connection {conn_id!r}: invalid JSON ({err.msg} at {err.pos})") from None
        extra = d.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra)
        return ConnectionInfo(conn_id, d.get("conn_type", ""), d.get("host") or "", d.get("port"),
                              d.get("login"), d.get("password"), d.get("schema"), extra)
    parts = urlsplit(value)
    if not parts.scheme:
        raise ConfigError(f"connection {conn_id!r}: expected a URI like type://user:pass@host:port/schema")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra = json.loads(query.pop("__extra__")) if "__extra__" in query else query
    return ConnectionInfo(
        conn_id=conn_id,
        conn_type=parts.scheme.replace("-", "_"),
        host=unquote(parts.hostname or ""),
        port=parts.port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=unquote(parts.path.lstrip("/")) or None,
        extra=extra,
    )
