"""Partner implementation guides and validation options, from the partner profile."""

from __future__ import annotations

import pytest

from waybill.edi import cli
from waybill.edi.profiles import ProfileError, load_profile
from waybill.edi.validator import Hook

from .util import PO_BODY, codes, read, x12

PROFILE = """id = "acme"
standard = "X12"
[interchange]
qualifier = "ZZ"
id = "SENDER"
our_qualifier = "ZZ"
our_id = "RECEIVER"
[validation]
code_lists = "reject"
guides = ["guides/acme-850.toml"]
"""
GUIDE = """set = "850"
versions = ["004010"]
[segments]
CUR = "required"
TD5 = "not used"
[max_use]
PO1 = 1
[codes]
PO103 = ["EA", "CA"]
"""


@pytest.fixture
def profile(tmp_path):
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "acme-850.toml").write_text(GUIDE)
    path = tmp_path / "acme.toml"
    path.write_text(PROFILE)
    return path


def test_a_guide_narrows_the_set_and_reports_like_the_standard(profile):
    options = load_profile(profile).validation
    assert options.code_lists == "reject" and options.guides[0].set == "850"
    body = [PO_BODY[0], "TD5****ZZ*X", *PO_BODY[1:3], "PO1*2*5*KG*1**VP*SKU-2", "CTT*2"]
    [ic] = read(x12(body), on_message=Hook(options))
    found = {(i.qualified_code("X12"), i.segment_id, i.element_position) for i in ic.messages[0].issues}
    assert ("AK304:3", "CUR", None) in found  # required by the guide
    assert ("AK304:2", "TD5", None) in found  # not used by the partner
    assert ("AK304:5", "PO1", None) in found  # at most once
    assert ("AK403:7", "PO1", 3) in found  # KG is not among EA, CA
    plain = read(x12(body))[0]
    assert plain.accepted, codes(plain)  # the standard alone accepts it


def test_a_good_message_passes_the_guide(profile):
    body = [PO_BODY[0], "CUR*BY*EUR", *PO_BODY[1:3], "CTT*1"]
    [ic] = read(x12(body), on_message=Hook(load_profile(profile).validation))
    assert ic.accepted, codes(ic)


def test_validate_applies_the_profile(profile, tmp_path, capsys):
    path = tmp_path / "po.x12"
    path.write_text(x12())
    assert cli.main(["validate", str(path)]) == 0
    assert cli.main(["validate", "--profile", str(profile), str(path)]) == 1
    assert "the partner's guide requires segment CUR" in capsys.readouterr().out


def test_bad_validation_settings_are_profile_errors(profile, tmp_path):
    profile.write_text(PROFILE.replace('"reject"', '"maybe"'))
    with pytest.raises(ProfileError, match="code_lists must be off, warn or reject"):
        load_profile(profile)
    profile.write_text(PROFILE.replace("acme-850", "missing"))
    with pytest.raises(ProfileError, match="cannot be read as a guide"):
        load_profile(profile)
