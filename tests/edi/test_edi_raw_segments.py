"""Raw segments: the envelope layer finishes message content only for messages someone sees, and
what they see is exactly what the readers deliver."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

from waybill.edi.edifact_reader import EdifactReader
from waybill.edi.envelope import read_interchanges
from waybill.edi.errors import EdiError
from waybill.edi.tokenizer import BATCH_SEGMENTS, ChunkedReader, sniff
from waybill.edi.validator import Hook
from waybill.edi.x12_reader import X12Reader

from .test_edi_fuzz import mutated
from .util import edifact, x12

ESCAPED = ["FTX+AAI+++Price?: 5?+3 ?'each?'??", "NAD+BY+5412345000013::9", "QTY+21:10"]


def reader_segments(data: bytes) -> list:
    standard, encoding = sniff(data[:64], None)
    reader = X12Reader if standard == "X12" else EdifactReader
    return list(reader(data, encoding=encoding))


def seen_messages(data: bytes) -> tuple[list, list]:
    """(messages kept in the interchanges, messages given to on_message), as segment lists."""
    hooked: list = []
    kept = [m.segments for ic in read_interchanges(
        data, on_message=lambda m, ic: hooked.append(m.segments)) for m in ic.messages]
    return kept, hooked


def is_run_of(part: list, whole: list) -> bool:
    return any(whole[i:i + len(part)] == part for i in range(len(whole) - len(part) + 1))


def test_edifact_messages_hold_components_and_unescaped_values_as_the_reader_does():
    # the second interchange has other separators, the first message has no trailer
    first = edifact(ESCAPED).replace(f"UNT+{len(ESCAPED) + 2}+1'", "")
    second = edifact(ESCAPED, una="UNA|*.# !").replace("+", "*").replace(":", "|") \
        .replace("'", "!").replace("?", "#")
    data = (first + second).encode("latin-1")
    kept, hooked = seen_messages(data)
    segments = reader_segments(data)
    assert kept == hooked and len(kept) == 2
    assert kept[0][1] == ["FTX", "AAI", "", "", "Price: 5+3 'each'?"]
    assert kept[0][2] == ["NAD", "BY", ("5412345000013", "", "9")]
    assert kept[1][1][-1] == "Price| 5*3 !each!#"  # the same text written with its separators
    assert kept[1][2:-1] == kept[0][2:]
    assert all(is_run_of(m, segments) for m in kept)


def test_x12_messages_are_the_reader_segments():
    data = x12(["BEG*00*SA*PO-1**20260101", "MEA*PD*G*12.5*LB>2"]).encode()
    [message] = seen_messages(data)[0]
    assert message[2] == ["MEA", "PD", "G", "12.5", ("LB", "2")]
    assert is_run_of(message, reader_segments(data))


def test_utf8_values_are_decoded_after_their_components_are_split():
    data = edifact(["BGM+220+Müller:x+9"], syntax="UNOY:4").encode("utf-8")
    [message] = seen_messages(data)[0]
    assert message[1] == ["BGM", "220", ("Müller", "x"), "9"]


def test_streaming_without_a_hook_still_checks_counts_and_references():
    data = edifact(unt_count=7).encode() + edifact(unz="UNZ+1+OTHER").encode()
    first, second = read_interchanges(data, keep_messages=False)
    assert first.accepted and not second.accepted  # the first is wrong only in a message
    assert [i.code for i in second.issues] == ["28"]
    [seen] = list(read_interchanges(edifact(unt_count=7).encode()))
    assert [i.code for m in seen.messages for i in m.issues] == ["29"]


@pytest.mark.parametrize("data", [
    edifact(ESCAPED * 400).encode("latin-1"),
    # spaces after terminators and doubled terminators are layout, ISA16 is no component
    x12(["MEA*PD*G*12.5*LB>2~ ~~\t", "N1*ST*Warehouse 1*92*W1"] * 300).encode(),
], ids=["edifact", "x12"])
def test_raw_batches_are_bounded_and_finish_to_the_reader_segments(data):
    standard, _ = sniff(data[:64], None)
    reader = X12Reader(data) if standard == "X12" else EdifactReader(data)
    finished = []
    for batch in reader.raw_batches():
        assert 0 < len(batch) <= BATCH_SEGMENTS
        finished += reader.finish(batch, reader.separators)
    assert finished == reader_segments(data)
    if standard == "X12":
        assert finished[0][16] == ">"  # the component separator itself, not a composite
        assert finished.count(["N1", "ST", "Warehouse 1", "92", "W1"]) == 300
        assert finished.count(["MEA", "PD", "G", "12.5", ("LB", "2")]) == 300


PLAIN = ["BGM+220+PO-1+9", "NAD+BY+5412345000013::9", "QTY+21:10"]


@pytest.mark.parametrize("data, runs", [
    ((x12() * 3).encode(), True),
    (edifact(PLAIN * 5).encode(), True),
    # layout after terminators, an escaped terminator: segment by segment, as without runs
    (x12(["MEA*PD*G*12.5*LB>2~ ~~\t", "N1*ST*Warehouse 1*92*W1"] * 3).encode(), False),
    (edifact(ESCAPED * 5).encode("latin-1"), False),
], ids=["x12", "edifact", "x12-layout", "edifact-released"])
def test_content_runs_split_and_count_as_the_reader_segments(data, runs):
    """Read for streaming validation, content between envelope segments comes whole: one text
    per run of segments, split and counted as the segments it holds."""
    standard, _ = sniff(data[:64], None)
    reader = X12Reader(data) if standard == "X12" else EdifactReader(data)
    reader.whole_content = True
    finished: list = []
    counted = 0
    held: list[int] = []  # segments per whole text
    for batch in reader.raw_batches():
        seps = reader.separators
        counted += reader.count(batch, seps)
        held += [s.count(seps.segment) + 1 for s in batch if isinstance(s, str)]
        finished += reader.finish(reader.split_whole(batch, seps), seps)
    assert finished == reader_segments(data)
    assert counted == len(finished)
    assert (max(held) > 1) == runs


@settings(max_examples=60, deadline=4000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_every_seen_message_is_a_run_of_the_reader_segments(data):
    try:
        segments = reader_segments(data)
        kept, hooked = seen_messages(data)
    except EdiError:
        return
    assert kept == hooked
    recoded = any(not m.isascii() for s in segments for v in s for m in
                  (v if isinstance(v, tuple) else (v,)))  # UNOD..UNOY re-decode non-ASCII text
    assert recoded or all(is_run_of(m, segments) for m in kept)


class _Recording(Hook):
    """Validates each message and records what validation said about it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, bool, list[dict[str, object]]]] = []

    def __call__(self, message, interchange) -> None:
        super().__call__(message, interchange)
        self.seen.append((message.type, message.control_number, message.validated,
                          [i.to_dict(interchange.standard) for i in message.issues]))


def validations(data: bytes, *, keep: bool) -> list:
    """What validation says of every message: streamed (content segments kept as their whole
    text) or with the messages kept (every segment split)."""
    hook = _Recording()
    try:
        for _ in read_interchanges(data, on_message=hook, keep_messages=keep):
            pass
    except EdiError as error:
        hook.seen.append(("error", str(error), False, []))
    return hook.seen


CORPUS = sorted(p for p in (Path(__file__).parents[1] / "data" / "edi" / "corpus").iterdir()
                if p.suffix != ".tsv")


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_streamed_validation_of_whole_segment_texts_says_what_the_kept_segments_say(path):
    data = path.read_bytes()
    assert validations(data, keep=False) == validations(data, keep=True)


ASN = ["BSN*00*SH1*20260101*1200", "HL*1**S", "TD1*CTN*1", "HL*2*1*O", "PRF*PO-1", "HL*3*9*I",
       "LIN**VP*SKU-1", "SN1**5*EA", "CTT*3"]


@pytest.mark.parametrize("body, set_id", [
    (["BEG*00*SA*PO-1**20261301", "PO1*1*10*EA*2.5**VP", "CTT*1"], "850"),
    (["BEG*00*SA*PO-1**20260101", "ZZZ*1", "PO1*1*10*EA", "CTT*1"], "850"),
    (["BEG*00*SA*PO-1**20260101", "MEA*PD*G*12.5*LB>2", "PO1*1**EA*2.5**VP*SKU-1", "CTT*1"], "850"),
    (ASN, "856"),  # HL03 names no earlier HL: the message pattern matches, the numbering does not
    ([*ASN[:5], "HL*2*1*I", *ASN[6:]], "856"),
])
def test_streamed_validation_of_an_invalid_message_reports_as_the_kept_one(body, set_id):
    data = x12(body, set_id=set_id).encode()
    streamed = validations(data, keep=False)
    assert streamed == validations(data, keep=True)
    assert streamed[0][3]  # the message is invalid: the streamed check walked it


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # first use parses a directory
@given(mutated())
@example(x12().replace("*>~GS", "*S~GS").encode())  # the component separator is a letter
def test_streamed_validation_of_whole_texts_agrees_with_split_raw_segments_on_mutated_files(data):
    """Against the raw segments split into elements (what streaming read before content was kept
    whole); kept messages may differ on mangled separators (a letter as component separator
    splits the kept header's tag, not the raw one)."""
    streamed = validations(data, keep=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChunkedReader, "whole_content", property(lambda self: False, lambda self, value: None))
        assert validations(data, keep=False) == streamed
