"""Airflow's ProvidersManager finds Waybill's provider: every connection type with its hook, form
fields and field behaviour, read from the `apache_airflow_provider` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema

from tests.fixtures.provider import REPO, provider_path
from waybill.ops.provider import get_provider_info

TYPES = {"waybill_erp", "waybill_wms", "waybill_tms", "waybill_carrier", "waybill_crm", "waybill_finance",
         "waybill_sftp"}

LIST = """
import json
from airflow.providers_manager import ProvidersManager
pm = ProvidersManager()
hooks = {t: pm.hooks[t] for t in pm.hooks if t.startswith("waybill_")}
print(json.dumps({
    "providers": sorted(pm.providers),
    "hooks": {t: [h.hook_class_name, h.hook_name] for t, h in hooks.items() if h},
    "fields": sorted(k for k in pm.connection_form_widgets if k.startswith("extra__waybill_")),
    "secret": sorted(k for k, w in pm.connection_form_widgets.items() if k.startswith("extra__waybill_")
                     and w.is_sensitive),
    "behaviours": {t: b for t, b in pm.field_behaviours.items() if t.startswith("waybill_")},
}))
"""


def test_the_provider_info_follows_airflows_schema() -> None:
    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    assert {t["connection-type"] for t in info["connection-types"]} == TYPES


def test_airflow_lists_every_connection_type_with_its_hook_and_fields(tmp_path: Path) -> None:
    extra = provider_path(tmp_path / "meta")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in (extra, REPO) if p)}
    done = subprocess.run([sys.executable, "-c", LIST], env=env, capture_output=True, text=True, timeout=120,
                          check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "waybill" in found["providers"]
    assert set(found["hooks"]) == TYPES
    assert found["hooks"]["waybill_sftp"] == ["waybill.ops.hooks.PartnerSftpHook", "Waybill partner SFTP"]
    for field in ("extra__waybill_sftp__host_key", "extra__waybill_erp__db", "extra__waybill_erp__read_timeout",
                  "extra__waybill_finance__path", "extra__waybill_crm__api_version"):
        assert field in found["fields"], field
    assert "extra__waybill_sftp__private_key" in found["secret"]
    assert found["behaviours"]["waybill_wms"]["relabeling"] == {"password": "API token"}
    assert "login" in found["behaviours"]["waybill_wms"]["hidden_fields"]
