"""Connection settings of an external system, by Airflow Connection id.

Inside an Airflow task the Connection comes from Airflow (its secrets backends, metadata DB and
environment); outside Airflow (CLI, tests, the simulators' clients) from the same
AIRFLOW_CONN_<ID> environment variable, in Airflow's URI or JSON form.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from waybill.core.errors import ConfigError


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
    """The Connection `conn_id`: from Airflow when running inside it, else from the environment."""
    value = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if value is not None:
        return parse(conn_id, value)
    if os.environ.get("AIRFLOW_CTX_DAG_ID"):  # inside a task: ask Airflow (secrets, metadata DB)
        from airflow.sdk import BaseHook

        c = BaseHook.get_connection(conn_id)
        return ConnectionInfo(conn_id, c.conn_type or "", c.host or "", c.port, c.login, c.password,
                              c.schema, c.extra_dejson)
    raise ConfigError(f"connection {conn_id!r} is not configured: set AIRFLOW_CONN_{conn_id.upper()} "
                      "(URI or JSON) or define it in Airflow")


def parse(conn_id: str, value: str) -> ConnectionInfo:
    """Parse Airflow's JSON or URI form of a Connection."""
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
