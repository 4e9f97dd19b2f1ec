"""Airflow hooks for Waybill's systems, reusable in any DAG.

Each hook is one of Airflow's own (HttpHook, SFTPHook, BaseHook) bound to a Waybill connection
type (waybill.ops.provider). Its Connection comes from Airflow (any secrets backend, or
AIRFLOW_CONN_<ID> outside a scheduler) with the secrets registered for masking; `connector()`
returns Waybill's client of that system, which keeps Waybill's policy: timeouts, bounded retries
honouring Retry-After (waybill.connectors.http), pinned host keys, safe remote names, completeness
checks and atomic uploads (waybill.connectors.sftp). `test_connection()` backs the UI's Test button.

    erp = ErpHook("waybill_erp").connector()          # an ErpConnector
    with PartnerSftpHook("waybill_partner_acme").connector() as sftp:
        sftp.ready_files()
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from airflow.providers.http.hooks.http import HttpHook
from airflow.providers.sftp.hooks.sftp import SFTPHook
from airflow.sdk import BaseHook

from waybill.connectors import finance
from waybill.connectors.connection import ConnectionInfo, from_airflow, mask
from waybill.connectors.crm import CrmClient
from waybill.connectors.erp import ErpConnector
from waybill.connectors.sftp import SftpClient, SftpSettings
from waybill.connectors.tms import TmsConnector
from waybill.connectors.wms import WmsConnector
from waybill.core.errors import WaybillError
from waybill.flows import carrier_tracking
from waybill.flows.carrier_tracking import Tracker

Client = TypeVar("Client")


def _tested(system: str, probe: Callable[[], str]) -> tuple[bool, str]:
    """Airflow's (ok, message) of a probe; a refusal or an unreachable system is a failed test."""
    try:
        return True, f"{system}: {probe()}"
    except (WaybillError, OSError, ValueError) as err:
        return False, f"{system}: {type(err).__name__}: {err}"


def _info(hook: Any, conn_id: str) -> ConnectionInfo:
    """The hook's Connection from Airflow, its secrets registered for masking."""
    return mask(from_airflow(conn_id, hook.get_connection(conn_id)))


class _WaybillHttpHook(HttpHook, Generic[Client]):
    """An HttpHook whose `connector()` is Waybill's connector of one system. (HttpHook's own
    `get_conn()`/`run()` stay as Airflow defines them: a bare session without Waybill's policy.)"""

    system = ""

    def __init__(self, http_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(method="GET", http_conn_id=http_conn_id or self.default_conn_name, **kwargs)

    def connection_info(self) -> ConnectionInfo:
        return _info(self, self.http_conn_id)

    def connector(self) -> Client:
        """Waybill's client of this system, with the Connection's policy."""
        return self.build(self.connection_info())

    def build(self, info: ConnectionInfo) -> Client:
        raise NotImplementedError

    def probe(self, client: Client) -> str:
        """One cheap authenticated call; returns what it found."""
        raise NotImplementedError

    def test_connection(self) -> tuple[bool, str]:
        return _tested(self.system, lambda: self.probe(self.connector()))


class ErpHook(_WaybillHttpHook[ErpConnector]):
    """The ERP (Odoo, JSON-2 or JSON-RPC)."""

    conn_type = "waybill_erp"
    default_conn_name = "waybill_erp"
    hook_name = "Waybill ERP (Odoo)"
    system = "erp"

    def build(self, info: ConnectionInfo) -> ErpConnector:
        return ErpConnector(info, self.system)

    def probe(self, client: ErpConnector) -> str:
        count, _ = client.call("res.partner", "search_count", [[]], stream="test")
        return f"signed in, {count} partners visible"


Feed = TypeVar("Feed", bound=WmsConnector | TmsConnector)


class _FeedHook(_WaybillHttpHook[Feed]):
    """A REST feed system whose probe reads one record of one stream."""

    stream = ""

    def probe(self, client: Feed) -> str:
        client.page_size = 1
        page = next(iter(client.fetch(self.stream, None)))
        return f"read a page of {self.stream} ({len(page.records)} record)"


class WmsHook(_FeedHook[WmsConnector]):
    """The warehouse system's REST API."""

    conn_type = "waybill_wms"
    default_conn_name = "waybill_wms"
    hook_name = "Waybill WMS (REST)"
    system = "wms"
    stream = "stock"

    def build(self, info: ConnectionInfo) -> WmsConnector:
        return WmsConnector(info, self.system)


class TmsHook(_FeedHook[TmsConnector]):
    """The transport system's REST API."""

    conn_type = "waybill_tms"
    default_conn_name = "waybill_tms"
    hook_name = "Waybill TMS (REST)"
    system = "tms"
    stream = "events"

    def build(self, info: ConnectionInfo) -> TmsConnector:
        return TmsConnector(info, self.system)


class CarrierHook(_WaybillHttpHook[Tracker]):
    """A carrier's tracking service; the Connection id names the carrier: waybill_carrier_<name>."""

    conn_type = "waybill_carrier"
    default_conn_name = "waybill_carrier_fedex"
    hook_name = "Waybill carrier tracking"
    system = "carrier"

    def build(self, info: ConnectionInfo) -> Tracker:
        return carrier_tracking.tracker_for(info.conn_id.removeprefix("waybill_carrier_"), conn=info)

    def probe(self, client: Tracker) -> str:
        exchange = next(iter(client.track(["000000000000"])))  # an unknown number answers a per-number fault
        return f"the service answered ({len(exchange.reply)} bytes)"


class CrmHook(_WaybillHttpHook[CrmClient]):
    """The CRM (Salesforce-style REST, OAuth2 client credentials)."""

    conn_type = "waybill_crm"
    default_conn_name = "waybill_crm"
    hook_name = "Waybill CRM (Salesforce REST)"
    system = "crm"

    def build(self, info: ConnectionInfo) -> CrmClient:
        return CrmClient(info)

    def probe(self, client: CrmClient) -> str:
        client.authenticate()
        return "signed in"


class FinanceHook(BaseHook):
    """Finance's receivables drop point: a folder or an SFTP server."""

    conn_name_attr = "finance_conn_id"
    conn_type = "waybill_finance"
    default_conn_name = "waybill_finance"
    hook_name = "Waybill finance feed"
    system = "finance"

    def __init__(self, finance_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.finance_conn_id = finance_conn_id or self.default_conn_name

    def get_conn(self) -> finance.FolderTarget | finance.SftpTarget:
        return self.connector()

    def connector(self) -> finance.FolderTarget | finance.SftpTarget:
        """The drop point, with Waybill's atomic, never-overwriting delivery."""
        return finance.target_for(_info(self, self.finance_conn_id))

    def test_connection(self) -> tuple[bool, str]:
        def probe() -> str:
            target = self.connector()
            if isinstance(target, finance.FolderTarget):
                folder = target.folder
                folder.mkdir(parents=True, exist_ok=True)
                if not os.access(folder, os.W_OK):
                    raise PermissionError(f"folder {folder} is not writable")
                return f"folder {folder} is writable"
            with target.client as sftp:
                return f"signed in, {len(sftp.listing(sftp.s.outbox))} files in {sftp.s.outbox}"

        return _tested(self.system, probe)


class PartnerSftpHook(SFTPHook):
    """A trading partner's SFTP server. `connector()` is Waybill's client: host keys always pinned
    (extra host_key or known_hosts), safe remote names, files taken only once complete, uploads
    written under a temporary name and renamed. (SFTPHook's own paramiko helpers stay as Airflow
    defines them.)"""

    conn_type = "waybill_sftp"
    default_conn_name = "waybill_partner_acme"
    hook_name = "Waybill partner SFTP"

    def __init__(self, ssh_conn_id: str | None = None, **kwargs: Any) -> None:
        self.partner_conn_id = ssh_conn_id or self.default_conn_name
        super().__init__(ssh_conn_id=self.partner_conn_id, **kwargs)
        self.system = f"edi:{self.partner_conn_id.removeprefix('waybill_partner_')}"

    def connector(self) -> SftpClient:
        return SftpClient(SftpSettings.from_connection(_info(self, self.partner_conn_id), self.system))

    def test_connection(self) -> tuple[bool, str]:
        def probe() -> str:
            with self.connector() as sftp:
                return f"signed in, host key verified, {len(sftp.listing())} files in {sftp.s.inbox}"

        return _tested(self.system, probe)


__all__ = ["CarrierHook", "CrmHook", "ErpHook", "FinanceHook", "PartnerSftpHook", "TmsHook", "WmsHook"]
