"""``waybill edi`` commands: validate, show, ack.

The hub's CLI calls :func:`register` with its sub-parsers; :func:`main` runs the same commands
stand-alone (``python -m edi``). Exit codes: 0 all accepted, 1 something rejected (including a
file that is not EDI), 2 usage errors (argparse, or an invalid partner profile).

``validate`` reads each file as a stream (memory bounded by one message) and prints a summary;
``--json`` prints a list with one entry per file::

    {"file", "accepted", "error" (only when the file could not be read as EDI),
     "interchanges": N, "messages": N,
     "counts": [{"standard", "type", "version", "validated", "accepted", "rejected"}],
     "errors": [{"code", "message", "segment_position", "segment_id", "element_position",
                 "component_position", "standard", "type", "control_number"}],  # the first 20
     "detail": [{"standard", "sender", "receiver", "control_number", "accepted",   # --detail
                 "errors": [...], "messages": [{"type", "control_number", "version",
                                                "accepted", "validated", "errors": [...]}]}]}

A count with standard "envelope" counts interchanges whose envelope was rejected.
``validated`` is false for a message whose set has no definition (envelope checks only). Codes are
qualified by their code list: TA105/AK905/AK502/AK304/AK403 for X12, UCI/UCF/UCM/UCS/UCD for
EDIFACT (e.g. "AK403:7", "UCM:29").
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import sys
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NotRequired, TypedDict

from waybill.edi import definitions
from waybill.edi.acks import acknowledge
from waybill.edi.envelope import read_interchanges
from waybill.edi.errors import EdiError, Issue
from waybill.edi.hooks import ControlNumbers, InterchangeRegistry, MemoryControlNumbers, MemoryRegistry
from waybill.edi.model import Element, Interchange, Message, segment_id
from waybill.edi.profiles import ProfileError, load_profile
from waybill.edi.serializer import write_interchange
from waybill.edi.validator import DEFAULT_OPTIONS, Hook, Options, validate

Command = Callable[[argparse.Namespace], int]
#: Where ``ack`` draws its control numbers: the hub passes its store's counters (see
#: :func:`register`); stand-alone, numbers start at 1 in memory.
NumbersFactory = Callable[[], ControlNumbers]


class MessageReport(TypedDict):
    type: str
    control_number: str
    version: str
    accepted: bool
    validated: bool
    errors: list[dict[str, object]]


class InterchangeReport(TypedDict):
    standard: str
    sender: str
    receiver: str
    control_number: str
    accepted: bool
    errors: list[dict[str, object]]
    messages: list[MessageReport]


class Count(TypedDict):
    standard: str
    type: str
    version: str
    validated: bool
    accepted: int
    rejected: int


class FileReport(TypedDict):
    """One file's entry of ``validate --json``."""

    file: str
    accepted: bool
    error: NotRequired[str]  # only when the file could not be read as EDI
    interchanges: int
    messages: int
    counts: list[Count]
    errors: list[dict[str, object]]  # the first FIRST_ERRORS, with their message's type and number
    detail: NotRequired[list[InterchangeReport]]  # with --detail


#: Errors listed in a summary; the counts cover all of them.
FIRST_ERRORS = 20
#: Files bigger than this show their progress on stderr.
PROGRESS_BYTES = 4 << 20


def _interchanges(path: str, encoding: str | None,
                  registry: InterchangeRegistry) -> Iterator[Interchange]:
    yield from read_interchanges(path, encoding=encoding, registry=registry, on_message=validate)


def _issues(issues: list[Issue], standard: str) -> list[dict[str, object]]:
    return [i.to_dict(standard) for i in issues]


class _Counting:
    """A binary file that counts what was read of it, for the progress line."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.read_bytes = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self.file.read(size)
        self.read_bytes += len(data)
        return data

    def close(self) -> None:
        self.file.close()


class _Collector:
    """Validates each message as the reader hands it over (raw, then dropped) and keeps only
    counts, the first errors and, with ``detail``, one line per message."""

    reads_raw = True

    def __init__(self, detail: bool, progress: Callable[[], None], options: Options) -> None:
        self.validate = Hook(options)
        self.detail = detail
        self.progress = progress
        self.counts: dict[tuple[str, str, str, bool], list[int]] = {}
        self.errors: list[dict[str, object]] = []
        self.messages: list[MessageReport] = []
        self.total = 0

    def __call__(self, message: Message, interchange: Interchange) -> None:
        self.validate(message, interchange)
        standard = interchange.standard
        key = (standard, message.type, message.version, message.validated)
        self.counts.setdefault(key, [0, 0])[0 if message.accepted else 1] += 1
        self.total += 1
        for issue in message.issues[:FIRST_ERRORS - len(self.errors)]:
            self.errors.append({**issue.to_dict(standard), "standard": standard,
                                "type": message.type, "control_number": message.control_number})
        if self.detail:
            self.messages.append({"type": message.type, "control_number": message.control_number,
                                  "version": message.version, "accepted": message.accepted,
                                  "validated": message.validated,
                                  "errors": _issues(message.issues, standard)})
        if self.total % 256 == 0:
            self.progress()


def file_report(path: str, encoding: str | None = None, registry: InterchangeRegistry | None = None,
                *, detail: bool = False, progress: bool = False,
                options: Options = DEFAULT_OPTIONS) -> FileReport:
    """The JSON entry for one file (shape in the module docstring), read as a stream: memory
    stays bounded by one message (and by the per-message lines with ``detail``)."""
    registry = registry or MemoryRegistry()
    size = os.path.getsize(path) if os.path.isfile(path) else 0
    show = progress and size > PROGRESS_BYTES
    counting: _Counting | None = None
    last = [0.0]

    def tick(final: bool = False) -> None:
        now = time.monotonic()
        if show and counting is not None and (final or now - last[0] > 0.5):
            last[0] = now
            print(f"\r{path}: {100 * counting.read_bytes // max(size, 1):3d}%", end="\n" if final else "",
                  file=sys.stderr, flush=True)

    collector = _Collector(detail, tick, options)
    report: FileReport = {"file": path, "accepted": False, "interchanges": 0, "messages": 0,
                          "counts": [], "errors": []}
    details: list[InterchangeReport] = []
    try:
        with open(path, "rb") as raw:
            counting = _Counting(raw)
            for ic in read_interchanges(counting, encoding=encoding, registry=registry,
                                        on_message=collector, keep_messages=False):
                report["interchanges"] += 1
                envelope = ic.issues + [i for g in ic.groups for i in g.issues]
                envelope_ok = not envelope
                for issue in envelope[:FIRST_ERRORS - len(collector.errors)]:
                    collector.errors.append({**issue.to_dict(ic.standard), "standard": ic.standard,
                                             "type": "", "control_number": ic.control_number})
                messages, collector.messages = collector.messages, []
                details.append({"standard": ic.standard, "sender": ic.sender, "receiver": ic.receiver,
                                "control_number": ic.control_number,
                                "accepted": envelope_ok and all(m["accepted"] for m in messages),
                                "errors": _issues(envelope, ic.standard), "messages": messages})
                if not envelope_ok:
                    collector.counts.setdefault(("envelope", ic.standard, "", True), [0, 0])[1] += 1
        tick(final=True)
    except (EdiError, OSError) as exc:
        report["error"] = str(exc)
    report["messages"] = collector.total
    report["counts"] = [{"standard": std, "type": kind, "version": version, "validated": validated,
                         "accepted": ok, "rejected": bad}
                        for (std, kind, version, validated), (ok, bad) in sorted(collector.counts.items())]
    report["errors"] = collector.errors
    report["accepted"] = "error" not in report and report["interchanges"] > 0 and \
        not any(c["rejected"] for c in report["counts"])
    if detail:
        report["detail"] = details
    return report


def _options(args: argparse.Namespace) -> Options:
    """The partner profile's validation options (code lists, guides), or the defaults."""
    return load_profile(args.profile).validation if args.profile else DEFAULT_OPTIONS


class UsageError(Exception):
    """The command was given something it cannot use: an unknown encoding, a file that is not there."""


def _encoding(args: argparse.Namespace) -> str | None:
    """The input encoding (from --encoding or the profile), checked; also checks the files exist."""
    files = getattr(args, "files", None) or [args.file]
    folders = [f for f in files if Path(f).is_dir()]
    if folders:
        raise UsageError(f"a folder, not a file: {', '.join(folders)}")
    absent = [f for f in files if not Path(f).is_file()]
    if absent:
        raise UsageError(f"no such file: {', '.join(absent)}")
    encoding: str | None = load_profile(args.profile).encoding if args.profile else args.encoding
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"unknown encoding {encoding!r} (e.g. utf-8, latin-1, cp037 for EBCDIC)") from None
    return encoding


def cmd_validate(args: argparse.Namespace) -> int:
    shared = MemoryRegistry()  # by default the files are one stream: a repeated interchange is a duplicate
    encoding = _encoding(args)
    reports = []
    for path in args.files:
        report = file_report(path, encoding, MemoryRegistry() if args.each else shared,
                             detail=args.detail, progress=not args.json, options=_options(args))
        if not args.json:
            _print_report(report)
        reports.append(report)
    if args.json:
        json.dump(reports, sys.stdout, indent=2)
        print()
    return 0 if all(r["accepted"] for r in reports) else 1


def _print_report(report: FileReport) -> None:
    print(f"{report['file']}: {'accepted' if report['accepted'] else 'REJECTED'} "
          f"({report['interchanges']} interchanges, {report['messages']} messages)")
    if "error" in report:
        print(f"  error: {report['error']}")
    for c in report["counts"]:
        if c["standard"] == "envelope":
            print(f"  {c['type']} interchanges with envelope errors: {c['rejected']}")
            continue
        note = "" if c["validated"] else " (envelope only: no definition)"
        print(f"  {c['standard']} {c['type']} {c['version']}: {c['accepted']} accepted, "
              f"{c['rejected']} rejected{note}")
    if report["errors"]:
        print(f"  first errors (up to {FIRST_ERRORS}):")
    for err in report["errors"]:
        where = f"segment {err['segment_position']} {err['segment_id']}"
        if err["element_position"]:
            where += f" element {err['element_position']}"
        print(f"    {err['code']} {err['type']} #{err['control_number']} at {where}: {err['message']}")
    for ic in report.get("detail", []):
        print(f"  {ic['standard']} {ic['sender']} -> {ic['receiver']} #{ic['control_number']}: "
              f"{'accepted' if ic['accepted'] else 'rejected'}")
        for m in ic["messages"]:
            state = "accepted" if m["accepted"] else "rejected"
            if not m["validated"]:
                state += " (envelope only: no definition)"
            print(f"    {m['type']} #{m['control_number']}: {state}")
            for err in m["errors"]:
                print(f"      {err['code']} at segment {err['segment_position']} {err['segment_id']}: "
                      f"{err['message']}")


def cmd_show(args: argparse.Namespace) -> int:
    ok = True
    shown: list[dict[str, object]] = []
    for ic in _interchanges(args.file, _encoding(args), MemoryRegistry()):
        ok &= ic.accepted
        if args.json:
            shown.append(_interchange_json(ic))
        else:
            _print_tree(ic)
    if args.json:
        _dump(shown)
    return 0 if ok else 1


def _print_tree(ic: Interchange) -> None:
    print(f"{ic.standard} interchange {ic.control_number} {ic.sender_qualifier}:{ic.sender} -> "
          f"{ic.receiver_qualifier}:{ic.receiver} version {ic.version}")
    for issue in ic.issues:
        print(f"  ! {issue.qualified_code(ic.standard)} {issue.message}")
    for index, group in [(None, None), *enumerate(ic.groups)]:
        indent = "  "
        if group is not None:
            print(f"  group {group.functional_id} #{group.control_number} version {group.version}")
            indent = "    "
        for m in (m for m in ic.messages if m.group_index == index):
            print(f"{indent}{m.type} #{m.control_number} ({len(m.segments)} segments)")
            for seg in m.segments:
                print(f"{indent}  {segment_id(seg):<4} " + " | ".join(_values(seg)))


def _values(seg: Sequence[Element]) -> list[str]:
    """A segment's elements as text, components joined by '/'."""
    return [("/".join(v) if isinstance(v, tuple) else v) for v in seg[1:]]


def _interchange_json(ic: Interchange) -> dict[str, object]:
    """One interchange of ``show --json``: envelope, groups, and each message with its segments as
    [id, element, ...] (components as lists) and its errors."""
    return {"standard": ic.standard, "control_number": ic.control_number, "version": ic.version,
            "sender": {"qualifier": ic.sender_qualifier, "id": ic.sender},
            "receiver": {"qualifier": ic.receiver_qualifier, "id": ic.receiver},
            "test": ic.test, "accepted": ic.accepted, "errors": _issues(ic.issues, ic.standard),
            "groups": [{"functional_id": g.functional_id, "control_number": g.control_number, "version": g.version,
                        "accepted": g.accepted, "errors": _issues(g.issues, ic.standard)} for g in ic.groups],
            "messages": [{"type": m.type, "control_number": m.control_number, "version": m.version,
                          "group": m.group_control_number, "accepted": m.accepted, "validated": m.validated,
                          "errors": _issues(m.issues, ic.standard),
                          "segments": [[segment_id(seg), *(list(v) if isinstance(v, tuple) else v for v in seg[1:])]
                                       for seg in m.segments]}
                         for m in ic.messages]}


def _dump(value: object) -> None:
    json.dump(value, sys.stdout, indent=2)
    print()


def cmd_ack(args: argparse.Namespace) -> int:
    numbers: ControlNumbers = args.control_numbers()
    partner = load_profile(args.profile).id if args.profile else None
    ok = True
    acks: list[dict[str, object]] = []
    for ic in _interchanges(args.file, _encoding(args), MemoryRegistry()):
        ok &= ic.accepted
        ack = acknowledge(ic, control_numbers=numbers, partner_id=partner or ic.sender,
                          kind=args.kind)
        text = write_interchange(ack, line_end="\n") if ack is not None else None
        if args.json:
            acks.append({"interchange": ic.control_number, "standard": ic.standard, "accepted": ic.accepted,
                         "acknowledgment": None if ack is None else {
                             "control_number": ack.control_number,
                             "types": sorted({m.type for m in ack.messages}), "text": text},
                         "note": NOT_ACKNOWLEDGED if ack is None else None})
        elif text is None:
            print(f"interchange {ic.control_number}: no acknowledgment ({NOT_ACKNOWLEDGED})", file=sys.stderr)
        else:
            sys.stdout.write(text)
    if args.json:
        _dump(acks)
    return 0 if ok else 1


#: why an interchange gets no acknowledgment
NOT_ACKNOWLEDGED = "it carries only acknowledgments, which are not acknowledged"


def cmd_directory(args: argparse.Namespace) -> int:
    """``directory add ZIP`` installs an official UN/EDIFACT directory; ``directory list``."""
    if args.action == "add":
        if not args.zip:
            print("waybill edi directory add: which zip? e.g. d01c.zip", file=sys.stderr)
            return 2
        if not Path(args.zip).is_file():
            raise UsageError(f"no such file: {args.zip}")
        try:
            name = definitions.add_directory(args.zip)
        except (ValueError, zipfile.BadZipFile) as exc:
            print(f"waybill edi: {args.zip}: not a UN/EDIFACT directory zip ({exc})", file=sys.stderr)
            return 1
        document = definitions.edifact(name)
        count = len(document["messages"]) if document else 0
        if args.json:
            print(json.dumps({"directory": name, "messages": count, "folder": str(definitions.added_folder())}))
        else:
            print(f"{name}: {count} messages, kept as published in {definitions.added_folder()}")
        return 0
    names = definitions.directories()
    print(json.dumps(names) if args.json else "\n".join(names))
    return 0


def _guarded(func: Command) -> Command:
    """Errors become exit codes, also when the hub's CLI dispatches: a bad partner profile is a
    usage error (2), a file that cannot be read as EDI is rejected (1)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (ProfileError, UsageError) as exc:
            print(f"waybill edi: {exc}", file=sys.stderr)
            return 2
        except (EdiError, OSError) as exc:
            print(f"waybill edi: {exc}", file=sys.stderr)
            return 1

    return run


def _add_commands(parser: argparse.ArgumentParser, control_numbers: NumbersFactory) -> None:
    commands = parser.add_subparsers(dest="edi_command", required=True)
    directory = commands.add_parser(
        "directory", help="UN/EDIFACT directories: list them, or add an official UNECE zip",
        description="UN/EDIFACT directories D.93A to D.21B are shipped; 'add dNNx.zip' installs "
                    "another official UNECE directory zip (kept unmodified under WAYBILL_HOME)")
    directory.add_argument("action", choices=("add", "list"), help="add a directory zip, or list the directories")
    directory.add_argument("zip", nargs="?", metavar="ZIP", help="the directory zip, e.g. d01c.zip")
    directory.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    directory.set_defaults(func=_guarded(cmd_directory))
    for name, func, text in (
            ("validate", cmd_validate, "check envelopes and messages; exit 1 if anything is rejected"),
            ("show", cmd_show, "print a readable tree of a file"),
            ("ack", cmd_ack, "print the acknowledgment that would be sent")):
        sub = commands.add_parser(name, help=text, description=text)
        if name == "validate":
            sub.description = (
                "Check X12/EDIFACT files: envelopes, and every message's content against its "
                "standard's definition. By default the files are read as ONE stream (an interchange "
                "repeated in a later file is a duplicate) and each file gets a summary: counts per "
                "standard, message type, version and state, and the first errors. Files over "
                f"{PROGRESS_BYTES >> 20} MB show their progress on stderr. Exit 0 when everything "
                "is accepted, 1 when anything is rejected, 2 on usage errors.")
            sub.add_argument("files", nargs="+", metavar="FILE", help="X12 or EDIFACT files to check")
            sub.add_argument("--json", action="store_true", help="one JSON entry per file")
            sub.add_argument("--detail", action="store_true",
                             help="also one line (JSON: one entry) per interchange and message")
            sub.add_argument("--each", action="store_true",
                             help="validate each file on its own (no duplicates across files)")
        else:
            sub.add_argument("file", metavar="FILE", help="an X12 or EDIFACT file")
            sub.add_argument("--json", action="store_true", help=(
                "machine-readable output (JSON): a list with one entry per interchange" if name == "show" else
                "machine-readable output (JSON): per interchange, its acknowledgment's number, types and text"))
        if name == "ack":
            sub.add_argument("--kind", choices=("997", "999"), help="X12 acknowledgment type")
            sub.set_defaults(control_numbers=control_numbers)
        source = sub.add_mutually_exclusive_group()
        source.add_argument("--encoding", help="input encoding, e.g. cp037 for EBCDIC")
        source.add_argument("--profile", help="partner profile (TOML) giving the encoding and, for "
                            "validate, its validation options and implementation guides")
        sub.set_defaults(func=_guarded(func))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
             control_numbers: NumbersFactory = MemoryControlNumbers) -> None:
    """Add the ``edi`` command to the hub's top-level sub-parsers; ``ack`` numbers its
    interchanges from ``control_numbers()`` (the hub passes its store's counters)."""
    parser = subparsers.add_parser("edi", help="read, validate and acknowledge X12/EDIFACT files")
    _add_commands(parser, control_numbers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="waybill edi", description=__doc__.splitlines()[0])
    _add_commands(parser, MemoryControlNumbers)
    args = parser.parse_args(argv)
    command: Command = args.func
    return command(args)
