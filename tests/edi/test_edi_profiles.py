"""Partner profiles are validated when loaded."""

from __future__ import annotations

import pytest

from waybill.edi.profiles import ProfileError, load_profile, parse_profile

GOOD = """
id = "acme"
standard = "X12"
version = "00401"

[interchange]
qualifier = "08"
id = "ACME"
our_qualifier = "ZZ"
our_id = "WAYBILL"

[separators]
element = "|"
segment = "~"
line_end = "\\n"

[sets]
inbound = ["850", "940"]
outbound = ["856"]

[acks]
expect = true
send = "999"
"""


def test_a_good_profile_loads(tmp_path):
    path = tmp_path / "acme.toml"
    path.write_text(GOOD)
    profile = load_profile(path)
    assert profile.partner.id == "ACME" and profile.us.qualifier == "ZZ"
    assert profile.separators.element == "|" and profile.separators.component == ">"
    assert profile.inbound_sets == {"850", "940"} and profile.sends_ack == "999"
    assert profile.line_end == "\n" and profile.expects_acks


@pytest.mark.parametrize("change, message", [
    (("standard", "EANCOM"), "standard must be X12 or EDIFACT"),
    (("version", "401"), "5-digit"),
    (("interchange", {"qualifier": "8", "id": "A", "our_qualifier": "ZZ", "our_id": "W"}), "qualifier"),
    (("interchange", {"qualifier": "08", "id": "A" * 16, "our_qualifier": "ZZ", "our_id": "W"}), "1-15"),
    (("separators", {"element": "*", "segment": "*"}), "distinct"),
    (("separators", {"element": "A"}), "non-alphanumeric"),
    (("sets", {"inbound": ["85O"]}), "invalid message types"),
    (("acks", {"send": "CONTRL"}), "acks.send"),
    (("encoding", "klingon"), "unknown encoding"),
])
def test_bad_profiles_name_the_field(change, message):
    import tomllib

    data = tomllib.loads(GOOD)
    key, value = change
    data[key] = value
    with pytest.raises(ProfileError, match=message):
        parse_profile(data, "acme.toml")


def test_edifact_profile_defaults_and_invalid_toml(tmp_path):
    profile = parse_profile({"id": "eu", "standard": "EDIFACT",
                             "interchange": {"id": "5412345000013", "qualifier": "14",
                                             "our_id": "4012345000009", "our_qualifier": "14"},
                             "sets": {"inbound": ["ORDERS"]}})
    assert profile.version == "UNOC:3" and profile.separators.release == "?"
    assert profile.sends_ack == "CONTRL"
    path = tmp_path / "bad.toml"
    path.write_text("id = ")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(path)
