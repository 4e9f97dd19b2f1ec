"""`waybill show` opens a sealed message; `waybill keys list` shows each key's use; user errors
are one clear line, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fixtures.factories import batch, customer
from waybill.ops import cli


def test_show_prints_the_raw_bytes_and_keys_list_their_key(store, monkeypatch, capsysbinary):
    monkeypatch.setenv("WAYBILL_DB_URL", store.engine.url.render_as_string(hide_password=False))
    mid = store.apply(batch(customer("1"), raw=b"ISA*jane@example.org~")).messages[0]
    assert cli.main(["show", str(mid), "--json"]) == 0
    assert json.loads(capsysbinary.readouterr().out)["raw"] == "ISA*jane@example.org~"
    assert cli.main(["keys", "list", "--json"]) == 0
    [key] = json.loads(capsysbinary.readouterr().out)
    assert key == {"key": store.cipher.current, "role": "current", "ciphertexts": 1}


def test_show_of_an_unknown_message_is_a_clear_error(waybill_env, tmp_path: Path):
    env = {"WAYBILL_HOME": str(waybill_env), "WAYBILL_SECRET_KEY": "", "PATH": "",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # this checkout's waybill
    waybill = Path(sys.executable).with_name("waybill")
    subprocess.run([str(waybill), "db", "upgrade"], env=env, check=True, capture_output=True)
    done = subprocess.run([str(waybill), "show", "42"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2  # a usage error: no such message
    assert "message 42 does not exist" in done.stderr and "Traceback" not in done.stderr
