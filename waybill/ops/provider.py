"""Waybill as an Airflow provider: its connection types, their form fields and their hooks.

Airflow finds this through the `apache_airflow_provider` entry point (pyproject.toml) and reads
the form fields declaratively ("conn-fields", "ui-field-behaviour"), without importing the hooks;
the UI then offers each type with its own fields and a Test button (`test_connection()` of the
hook, in waybill.ops.hooks). This module is data only: it imports nothing of Airflow.
"""

from __future__ import annotations

from typing import Any

from waybill.connectors.http import HttpPolicy

HOOKS = "waybill.ops.hooks"

_POLICY_HELP = {
    "connect_timeout": "seconds to connect",
    "read_timeout": "seconds to wait for an answer",
    "max_attempts": "attempts of a transient failure (429, 502-504, timeouts) before giving up",
    "max_total_seconds": "time budget of one call across its attempts",
    "backoff_initial": "first wait between attempts, doubled each time, with jitter",
    "backoff_max": "longest wait between attempts",
    "retry_after_cap": "a Retry-After longer than this is not waited for",
}


def _field(label: str, kind: str = "string", description: str = "", *, secret: bool = False,
           default: Any = None, choices: list[str] | None = None) -> dict[str, Any]:
    """One form field in Airflow's declarative conn-fields form."""
    schema: dict[str, Any] = {"type": [kind, "null"]}
    if secret:
        schema["format"] = "password"
    if default is not None:
        schema["default"] = default
    if choices:
        schema["enum"] = choices
    return {"label": label, "description": description, "schema": schema}


def _http_fields() -> dict[str, dict[str, Any]]:
    """Waybill's HTTP policy, tunable per Connection (defaults as in HttpPolicy)."""
    policy = HttpPolicy()
    fields = {name: _field(name.replace("_", " ").capitalize(),
                           "integer" if isinstance(getattr(policy, name), int) else "number",
                           help_, default=getattr(policy, name))
              for name, help_ in _POLICY_HELP.items()}
    fields["scheme"] = _field("Scheme", description="http or https", default="http", choices=["http", "https"])
    fields["verify"] = _field("Verify TLS", description="true, false or the path of a CA bundle", default="true")
    return fields


def _sftp_fields() -> dict[str, dict[str, Any]]:
    return {
        "host_key": _field("Host key", description="the server's public key, '<type> <base64>', always pinned"),
        "known_hosts": _field("known_hosts file", description="instead of Host key: an OpenSSH known_hosts file"),
        "private_key": _field("Private key", description="OpenSSH private key (instead of the password)",
                              secret=True),
        "inbox": _field("Inbox folder", default="inbox"),
        "outbox": _field("Outbox folder", default="outbox"),
        "archive": _field("Archive folder", default="archive"),
        "pattern": _field("File pattern", default="*"),
        "settle_seconds": _field("Settle seconds", "number",
                                 "a file is taken once its size stayed the same this long", default=1.0),
    }


def _connection_type(conn_type: str, hook: str, name: str, fields: dict[str, dict[str, Any]], *,
                     hidden: list[str], relabel: dict[str, str], placeholders: dict[str, str]) -> dict[str, Any]:
    return {"connection-type": conn_type, "hook-class-name": f"{HOOKS}.{hook}", "hook-name": name,
            "conn-fields": fields,
            "ui-field-behaviour": {"hidden-fields": hidden, "relabeling": relabel, "placeholders": placeholders}}


def connection_types() -> list[dict[str, Any]]:
    """Every Waybill connection type: ERP, WMS, TMS, carrier, CRM, finance, partner SFTP."""
    http = _http_fields()

    def rest(conn_type: str, hook: str, name: str, stream_host: str) -> dict[str, Any]:
        """A REST system with a bearer token in the password."""
        return _connection_type(conn_type, hook, name, {"page_size": _field("Page size", "integer", default=500),
                                                        **http},
                                hidden=["login", "schema"], relabel={"password": "API token"},
                                placeholders={"host": stream_host})

    return [
        _connection_type("waybill_erp", "ErpHook", "Waybill ERP (Odoo)", {
            "db": _field("Database", description="the Odoo database"),
            "protocol": _field("Protocol", description="json2 (Odoo 19+, API key) or jsonrpc (login, password)",
                               default="jsonrpc", choices=["jsonrpc", "json2"]),
            "page_size": _field("Page size", "integer", default=500),
            "overlap_seconds": _field("Overlap seconds", "integer",
                                      "re-read window for rows committed late with an older write_date"),
            **http}, hidden=["schema"], relabel={"login": "Odoo user", "password": "Password or API key"},
            placeholders={"host": "odoo.example.com", "port": "8069"}),
        rest("waybill_wms", "WmsHook", "Waybill WMS (REST)", "wms.example.com"),
        rest("waybill_tms", "TmsHook", "Waybill TMS (REST)", "tms.example.com"),
        _connection_type("waybill_carrier", "CarrierHook", "Waybill carrier tracking", {
            "batch_size": _field("Numbers per call", "integer"),
            "operation": _field("SOAP operation", description="the WSDL's tracking operation"),
            **http}, hidden=[], relabel={"login": "API key", "password": "API password",
                                         "schema": "Service path"},
            placeholders={"schema": "web-services/track"}),
        _connection_type("waybill_crm", "CrmHook", "Waybill CRM (Salesforce REST)", {
            "api_version": _field("API version", default="v62.0"),
            "batch_size": _field("Records per call", "integer", default=200),
            "max_usage": _field("Max API usage", "number", "stop publishing above this share of the daily limit",
                                default=0.9),
            **http}, hidden=["schema"], relabel={"login": "Client id", "password": "Client secret"},
            placeholders={"host": "example.my.salesforce.com"}),
        _connection_type("waybill_finance", "FinanceHook", "Waybill finance feed", {
            "path": _field("Folder", description="a local or mounted folder (leave Host empty)"),
            **_sftp_fields()}, hidden=["schema"], relabel={"host": "SFTP host (or set Folder)"},
            placeholders={"path": "/mnt/finance/ar"}),
        _connection_type("waybill_sftp", "PartnerSftpHook", "Waybill partner SFTP", _sftp_fields(),
                         hidden=["schema"], relabel={}, placeholders={"host": "sftp.partner.example", "port": "22"}),
    ]


def get_provider_info() -> dict[str, Any]:
    """What Airflow's ProvidersManager reads from the `apache_airflow_provider` entry point."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("waybill")
    except PackageNotFoundError:  # a source checkout on sys.path without an install
        installed = "0"
    return {
        "package-name": "waybill",
        "name": "Waybill",
        "description": "Logistics integration: ERP, WMS, TMS, carriers, CRM, finance and EDI partners.",
        "versions": [installed],
        "connection-types": connection_types(),
        # the DAGs' waybill:// Assets as OpenLineage datasets in the OpenLineage provider's events
        "asset-uris": [{"schemes": ["waybill"], "handler": None,
                        "to_openlineage_converter": "waybill.ops.lineage.to_openlineage"}],
    }
