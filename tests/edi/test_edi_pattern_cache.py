"""Validation patterns are compiled once per installation: the engine's code is kept under
WAYBILL_HOME and handed back to it, so a later process does not parse the pattern again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from waybill.edi import definitions, pattern_cache, validator

PATTERN = r"(?P<tag>[A-Z]{2,3})(?:\*([^*~]{0,5}+))*+~(?=ST|\Z)"
TEXTS = ["BEG*00*SA~", "N1*ST*W1~ST", "BEG*123456~", "beg*1~", "PO1~"]


def cached_files() -> list[Path]:
    return sorted((definitions.cache_folder() / "patterns").glob("*.bin"))


def test_a_cached_pattern_matches_as_the_compiled_one_without_parsing_it_again(monkeypatch):
    first = pattern_cache.compile_cached(PATTERN, re.DOTALL)
    [kept] = cached_files()

    class Refuse:
        def parse(self, *args, **kwargs):
            raise AssertionError("the cached pattern was parsed again")

    monkeypatch.setattr(pattern_cache, "_parser", Refuse())
    second = pattern_cache.compile_cached(PATTERN, re.DOTALL)
    reference = re.compile(PATTERN, re.DOTALL)
    assert second is not first and cached_files() == [kept]
    assert (second.flags, second.groups, second.groupindex) == \
        (reference.flags, reference.groups, reference.groupindex) == (first.flags, 2, {"tag": 1})
    for text in TEXTS:
        found, expected = second.fullmatch(text), reference.fullmatch(text)
        assert (found and found.groups()) == (expected and expected.groups()), text


@pytest.mark.parametrize("damage", [
    lambda data: data[:len(data) // 2],  # cut short
    lambda data: data[:-4] + b"\xff\xff\xff\xff",  # altered code
    lambda data: b"not a cache entry",
    lambda data: b"",
], ids=["truncated", "altered", "garbage", "empty"])
def test_a_damaged_cache_entry_is_compiled_again(damage):
    pattern_cache.compile_cached(PATTERN)
    [kept] = cached_files()
    whole = kept.read_bytes()
    kept.write_bytes(damage(whole))
    again = pattern_cache.compile_cached(PATTERN)
    assert again.fullmatch("BEG*00*SA~") and not again.fullmatch("BEG*123456~")
    assert kept.read_bytes() == whole  # written anew


def test_a_home_that_cannot_be_written_still_validates(monkeypatch, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(definitions, "cache_folder", lambda: blocked / "edi")
    assert pattern_cache.compile_cached(PATTERN).fullmatch("BEG*00*SA~")


def test_message_patterns_come_from_the_cache_in_a_new_definition():
    seps = ("*", ">", "", "~")
    # definitions compiled afresh, as in two processes (find_definition keeps one per process)
    made = validator.compile_message(definitions.x12("004010"), "850").message_pattern(seps)
    count = len(cached_files())
    assert made is not None and count == 1
    read = validator.compile_message(definitions.x12("004010"), "850").message_pattern(seps)
    assert read is not None and read is not made and read.pattern == made.pattern
    assert len(cached_files()) == count  # read back, nothing compiled anew
