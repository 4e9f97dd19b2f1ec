"""`waybill COMMAND` imports the plugin of that command alone, and nothing of the store unless the
command opens it: `waybill edi validate` does not wait seconds for imports it never uses."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from waybill.ops import cli


def test_each_command_is_mapped_to_the_plugin_that_adds_it():
    added: dict[str, str] = {}
    for name in cli.PLUGINS:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(sub)
        added |= dict.fromkeys(sub.choices, name)
    assert added == cli.COMMANDS


def test_a_command_line_imports_its_plugin_alone_and_not_the_store():
    probe = ("import sys; from waybill.ops import cli; cli.build_parser(sys.argv[1]); "
             "print(*sorted(m for m in sys.modules if m.startswith(('waybill.ops.', 'waybill.store', 'sqlalchemy'))))")
    done = subprocess.run([sys.executable, "-c", probe, "edi"], capture_output=True, text=True, check=True)
    loaded = done.stdout.split()
    assert "waybill.ops.edi_commands" in loaded
    assert not [m for m in loaded if m.startswith(("waybill.store", "sqlalchemy", "waybill.ops.messages",
                                                   "waybill.ops.demo"))], loaded


def test_without_a_known_command_every_plugin_is_there():
    parser = cli.build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(cli.COMMANDS) | {"db", "status"} == set(sub.choices)


def test_an_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["no-such-command"])
    assert exit_.value.code == 2
    assert "invalid choice: 'no-such-command'" in capsys.readouterr().err
