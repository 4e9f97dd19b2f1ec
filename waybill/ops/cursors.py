"""`waybill cursor list` (where each stream's next run starts) and `waybill cursor reset STREAM`
(forget it: the stream's next run reads everything again, a full refresh of that one stream)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from waybill.ops import console
from waybill.store import cursors


def cmd_list(args: argparse.Namespace) -> int:
    with console.open_store().engine.connect() as conn:
        rows = cursors.all_cursors(conn)
    if args.json:
        console.print_json([asdict(c) for c in rows])
        return 0
    out = console.console()
    out.print(console.table("cursors: where each stream's next run starts (times UTC)",
                            ("system", "stream", "cursor", "moved"),
                            [(c.system, c.stream, _short(c.value), c.updated_at) for c in rows]))
    if not rows:
        out.print("no cursors yet: every stream's next run reads from the start", markup=False)
    return 0


#: characters of a cursor a table shows (--json gives it whole)
SHOWN = 60


def _short(value: str) -> str:
    return value if len(value) <= SHOWN else value[:SHOWN - 3] + "..."


def cmd_reset(args: argparse.Namespace) -> int:
    system, stream = _stream(args.stream, args.system)
    with console.open_store().begin() as conn:
        choices = sorted({(c.system, c.stream) for c in cursors.all_cursors(conn) if c.stream == stream})
        if system is None:
            if len(choices) != 1:
                known = ", ".join(f"{s}/{n}" for s, n in choices) or "none"
                raise console.UsageError(f"stream {stream!r} needs its system: give SYSTEM/STREAM (cursors of that "
                                         f"stream: {known})")
            system = choices[0][0]
        before = cursors.reset(conn, system, stream)
    if args.json:
        console.print_json({"system": system, "stream": stream, "was": before.value if before else None})
        return 0
    if before is None:
        print(f"{system}/{stream} had no cursor: its next run reads from the start already")
    else:
        print(f"{system}/{stream}: cursor {before.value} forgotten; the next run reads the whole stream again")
    return 0


def _stream(text: str, system: str | None) -> tuple[str | None, str]:
    """SYSTEM/STREAM or STREAM (with --system)."""
    if "/" in text:
        named, _, stream = text.rpartition("/")
        if system and system != named:
            raise console.UsageError(f"{text!r} names system {named!r}, --system says {system!r}")
        return named, stream
    return system, text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cursor", help="the streams' cursors: list them, reset one (a full refresh)",
                       description=__doc__)
    actions = p.add_subparsers(metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="every stream's cursor and when it last moved")
    console.add_json(ls)
    ls.set_defaults(func=cmd_list)
    rs = actions.add_parser("reset", help="forget a stream's cursor: its next run reads everything again")
    rs.add_argument("stream", metavar="STREAM", help="the stream, as SYSTEM/STREAM (erp/orders) or STREAM")
    rs.add_argument("--system", help="the stream's system when STREAM alone is ambiguous")
    console.add_json(rs)
    rs.set_defaults(func=cmd_reset)
