"""`waybill edi` commands in-process: exit codes, JSON shape, show, ack, hub registration."""

from __future__ import annotations

import argparse
import json

import pytest

from waybill.edi import cli

from .util import CORPUS, ISA, edifact, x12


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "good.x12"
    good.write_text(x12())
    bad = tmp_path / "bad.x12"
    bad.write_text(x12(se_count=3))
    other = tmp_path / "other.x12"
    other.write_text(x12(set_id="820", functional_id="RA", body=["BPR*C*1*C*ACH"], gs_version="003040",
                         isa=ISA.replace("000000001", "000000002"), iea="IEA*1*000000002"))
    text = tmp_path / "note.txt"
    text.write_text("not EDI")
    orders = tmp_path / "orders.edi"
    orders.write_text(edifact())
    return {"good": good, "bad": bad, "other": other, "text": text, "orders": orders}


def test_validate_exit_codes(files, capsys):
    assert cli.main(["validate", str(files["good"]), str(files["orders"])]) == 0
    assert cli.main(["validate", str(files["good"]), str(files["bad"])]) == 1
    assert cli.main(["validate", str(files["text"])]) == 1
    with pytest.raises(SystemExit) as usage:
        cli.main(["validate"])
    assert usage.value.code == 2
    assert "REJECTED" in capsys.readouterr().out


def test_validate_json(files, capsys):
    assert cli.main(["validate", "--json", "--detail", str(files["bad"]), str(files["other"]),
                     str(files["text"])]) == 1
    bad, other, text = json.loads(capsys.readouterr().out)
    assert bad["file"] == str(files["bad"]) and bad["accepted"] is False
    assert (bad["interchanges"], bad["messages"]) == (1, 1)
    assert bad["counts"] == [{"standard": "X12", "type": "850", "version": "004010", "validated": True,
                              "accepted": 0, "rejected": 1}]
    [ic] = bad["detail"]
    assert {k: ic[k] for k in ("standard", "sender", "receiver", "control_number", "accepted")} == {
        "standard": "X12", "sender": "SENDER", "receiver": "RECEIVER",
        "control_number": "000000001", "accepted": False}
    [message] = ic["messages"]
    assert (message["type"], message["control_number"], message["accepted"]) == ("850", "0001", False)
    [error] = message["errors"]
    assert error == {"code": "AK502:4", "message": error["message"], "segment_position": 7,
                     "segment_id": "SE", "element_position": 1, "component_position": None}
    assert bad["errors"] == [{**error, "standard": "X12", "type": "850", "control_number": "0001"}]
    assert other["accepted"] is True
    assert other["counts"][0]["validated"] is False
    assert text["accepted"] is False and "not an EDI file" in text["error"]


def test_validate_prints_a_summary_and_details_on_request(files, capsys):
    assert cli.main(["validate", str(files["bad"])]) == 1
    out = capsys.readouterr().out
    assert "REJECTED (1 interchanges, 1 messages)" in out and "X12 850 004010: 0 accepted, 1 rejected" in out
    assert "AK502:4 850 #0001 at segment 7 SE element 1" in out and "#0001: rejected" not in out
    assert cli.main(["validate", "--detail", str(files["bad"])]) == 1
    assert "850 #0001: rejected" in capsys.readouterr().out


def test_files_are_one_stream_unless_each(files, tmp_path, capsys):
    copy = tmp_path / "again.x12"
    copy.write_text(files["good"].read_text())
    assert cli.main(["validate", str(files["good"]), str(copy)]) == 1  # the same interchange twice
    assert "TA105:025" in capsys.readouterr().out
    assert cli.main(["validate", "--each", str(files["good"]), str(copy)]) == 0
    with pytest.raises(SystemExit):
        cli.main(["validate", "--help"])
    assert "ONE stream" in capsys.readouterr().out


def test_big_files_show_progress_on_stderr(files, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "PROGRESS_BYTES", 10)
    assert cli.main(["validate", str(files["good"])]) == 0
    assert "100%" in capsys.readouterr().err
    assert cli.main(["validate", "--json", str(files["good"])]) == 0
    assert capsys.readouterr().err == ""


def test_show_prints_a_tree(files, capsys):
    assert cli.main(["show", str(files["good"])]) == 0
    out = capsys.readouterr().out
    assert "group PO #1" in out and "850 #0001 (7 segments)" in out and "PO1  1 | 10 | EA" in out


def test_show_and_ack_reject_a_file_that_is_not_edi(files, capsys):
    assert cli.main(["show", str(files["text"])]) == 1
    assert cli.main(["ack", str(files["text"])]) == 1
    assert "not an EDI file" in capsys.readouterr().err


def test_ack_prints_the_acknowledgment(files, capsys):
    assert cli.main(["ack", str(files["bad"])]) == 1
    out = capsys.readouterr().out
    assert "AK5*R*4~" in out and "AK9*R*1*1*0~" in out
    assert cli.main(["ack", str(files["orders"])]) == 0
    assert "UCI+REF1+SENDER:14+RECEIVER:14+7'" in capsys.readouterr().out


def test_duplicate_interchanges_across_files_are_rejected(files):
    assert cli.main(["validate", str(files["good"]), str(files["good"])]) == 1


def test_ebcdic_needs_the_encoding(capsys):
    path = str(CORPUS / "bots_x12_850_fixed_x12_850tofixed_850ebcdic_ebcdic.x12")
    assert cli.main(["validate", path]) == 1
    assert cli.main(["validate", "--encoding", "cp037", path]) == 0


def test_profile_gives_the_encoding_and_bad_profiles_are_usage_errors(tmp_path, capsys):
    path = str(CORPUS / "bots_x12_850_fixed_x12_850tofixed_850ebcdic_ebcdic.x12")
    profile = tmp_path / "mainframe.toml"
    profile.write_text('id = "mf"\nstandard = "X12"\nencoding = "cp037"\n'
                       '[interchange]\nqualifier = "12"\nid = "1234567890"\n'
                       'our_qualifier = "08"\nour_id = "1234567890"\n')
    assert cli.main(["validate", "--profile", str(profile), path]) == 0
    profile.write_text('id = "mf"\nstandard = "X13"\n')
    assert cli.main(["validate", "--profile", str(profile), path]) == 2
    assert "standard must be X12 or EDIFACT" in capsys.readouterr().err


def test_register_adds_edi_to_the_hub_parser(files):
    parser = argparse.ArgumentParser(prog="waybill")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["edi", "validate", str(files["good"])])
    assert args.func(args) == 0


def test_module_entry_point(files):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "edi", "validate", str(files["bad"])],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "AK502:4" in done.stdout


def test_ack_of_a_newline_terminated_file_has_one_segment_per_line(capsys):
    # bots-plugins 850 with "\n" as its segment terminator (tests/data/edi/corpus/SOURCES.tsv)
    path = str(CORPUS / "bots_x12_850_fixed_x12_850tofixed_850_850-004010-01.x12")
    assert cli.main(["ack", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ISA*") and lines[-1].startswith("IEA*") and "" not in lines


def test_show_json_gives_envelope_groups_messages_segments_and_errors(files, capsys):
    assert cli.main(["show", "--json", str(files["good"])]) == 0
    [ic] = json.loads(capsys.readouterr().out)
    assert (ic["standard"], ic["control_number"], ic["accepted"], ic["errors"]) == ("X12", "000000001", True, [])
    assert [g["functional_id"] for g in ic["groups"]] == ["PO"]
    [message] = ic["messages"]
    assert (message["type"], message["control_number"]) == ("850", "0001")
    assert message["segments"][0][0] == "ST" and message["segments"][-1][0] == "SE"

    assert cli.main(["show", "--json", str(files["bad"])]) == 1
    [ic] = json.loads(capsys.readouterr().out)
    [error] = ic["messages"][0]["errors"]
    assert error["segment_id"] == "SE" and error["code"]

    assert cli.main(["show", "--json", str(files["orders"])]) == 0
    [ic] = json.loads(capsys.readouterr().out)
    assert ic["standard"] == "EDIFACT" and ic["messages"][0]["type"] == "ORDERS"


def test_ack_json_gives_each_acknowledgment_with_its_number_and_text(files, capsys):
    assert cli.main(["ack", "--json", "--kind", "999", str(files["bad"])]) == 1
    [entry] = json.loads(capsys.readouterr().out)
    assert (entry["interchange"], entry["accepted"], entry["note"]) == ("000000001", False, None)
    ack = entry["acknowledgment"]
    assert ack["types"] == ["999"] and ack["text"].startswith("ISA*") and f"*{ack['control_number']}*" in ack["text"]
    assert "IK5*R" in ack["text"]

    assert cli.main(["ack", "--json", str(files["orders"])]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["acknowledgment"]["types"] == ["CONTRL"] and entry["accepted"] is True
