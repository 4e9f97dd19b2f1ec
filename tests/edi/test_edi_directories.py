"""UN/EDIFACT directories: read from the shipped UNECE zips at first use, cached under
WAYBILL_HOME, and any other official directory zip installed with `waybill edi directory add`."""

from __future__ import annotations

import shutil
import zipfile

from waybill.edi import cli, definitions

UNECE = definitions._shipped()


def test_every_shipped_directory_is_available():
    assert definitions.directories() == ["D00A", "D01B", "D03B", "D05B", "D07A", "D10B", "D16A",
                                         "D21B", "D93A", "D95B", "D96A", "D96B", "D97A", "D98B", "D99B"]


def test_a_directory_is_parsed_once_and_cached_under_waybill_home(waybill_env):
    definitions.edifact.cache_clear()
    doc = definitions.edifact("D93A")
    assert doc is not None and len(doc["messages"]) == 55
    [cached] = (waybill_env / "edi" / "edifact").glob("D93A-*.json")
    definitions.edifact.cache_clear()
    assert definitions.edifact("D93A") == doc  # read back from the cache
    assert cached.stat().st_size > 0
    definitions.edifact.cache_clear()


def test_directory_add_installs_an_official_zip_unmodified(waybill_env, tmp_path, capsys):
    source = tmp_path / "d93a.zip"
    shutil.copyfile(UNECE["D93A"], source)
    assert cli.main(["directory", "add", str(source)]) == 0
    assert "D93A: 55 messages" in capsys.readouterr().out
    installed = definitions.added_folder() / "d93a.zip"
    assert installed.read_bytes() == source.read_bytes()
    assert cli.main(["directory", "list"]) == 0 and "D93A" in capsys.readouterr().out
    definitions.edifact.cache_clear()


def test_directory_add_refuses_what_is_not_a_directory(waybill_env, tmp_path, capsys):
    junk = tmp_path / "d99z.zip"
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("README.TXT", "nothing here")
    assert cli.main(["directory", "add", str(junk)]) == 1
    assert "not a UN/EDIFACT directory" in capsys.readouterr().err
    assert cli.main(["directory", "add"]) == 2
