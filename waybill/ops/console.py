"""What every operations command shares: opening an existing store, errors as messages and exit
codes, tables with headers, JSON output, paging and times.

Exit codes of every `waybill` command: 0 done, 1 the command ran and found a failure (a replay that
dead-lettered again, drift in a reconciliation, a store that cannot be reached), 2 usage or
configuration error (wrong arguments, no store, a store that needs `waybill db upgrade`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table

from waybill.core.config import settings
from waybill.core.errors import ConfigError

if TYPE_CHECKING:  # the store is imported where it is opened: commands that need none start faster
    from waybill.store.store import Store

Command = Callable[[argparse.Namespace], int]

#: the default number of rows a listing shows (`--limit`)
PAGE = 50


class UsageError(ConfigError):
    """The command was asked for something it cannot do as asked (exit 2)."""


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich exits with 1 when the reader goes away; the command's caller decides (cli.main)."""
        raise BrokenPipeError


def console() -> Console:
    """Standard output; piped output is not cut to 80 columns (rich's default off a terminal)."""
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "200"))
    return _Console(width=width, soft_wrap=False, highlight=False)


def open_store() -> Store:
    """The configured store, which must exist and be migrated: operations commands never create one
    (only `waybill db upgrade` does)."""
    from waybill.store import db
    from waybill.store.store import Store

    cfg = settings()
    path = db.sqlite_path(cfg.db_url)
    if path is not None and not path.is_file():
        raise ConfigError(f"no hub store at {path}: run `waybill db upgrade` to create one, or point "
                          "WAYBILL_HOME (or WAYBILL_DB_URL) at the project's store")
    store = Store.open()
    current, needed = db.revision(store.engine), db.head()
    if current != needed:
        where = "never migrated" if current is None else f"at schema revision {current}"
        raise ConfigError(f"the hub store is {where}; this version needs {needed}: run `waybill db upgrade`")
    return store


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]],
          *, right: Iterable[str] = ()) -> Table:
    """A table with a header row; columns named in `right` are right-aligned (numbers)."""
    aligned = set(right)
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", show_edge=False, pad_edge=False)
    for name in columns:
        t.add_column(name, justify="right" if name in aligned else "left", overflow="fold")
    for row in rows:
        t.add_row(*(cell(v) for v in row))
    return t


def cell(value: object) -> str:
    """A value as a table shows it: times in UTC to the second, nothing as '-'."""
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def paging(shown: int, total: int, offset: int) -> str:
    """The line under a page of rows: "50 of 3,254 (next page: --offset 50)"."""
    if total == 0:
        return "none found"
    first = f"{offset + 1:,}-{offset + shown:,}" if offset else f"{shown:,}"
    more = f" (next page: --offset {offset + shown})" if offset + shown < total else ""
    return f"{first} of {total:,}{more}"


def print_json(value: Any) -> None:
    """`--json` output: indented, times in ISO 8601."""
    print(json.dumps(value, indent=2, default=_jsonable))


def _jsonable(value: object) -> object:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


_RELATIVE = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def when(text: str) -> dt.datetime:
    """A time given on the command line (argparse type): ISO 8601 date or time in UTC, or an age
    such as 30m, 12h, 7d, 2w (that long ago)."""
    from waybill.store.store import utcnow  # the store's clock (naive UTC)

    m = _RELATIVE.fullmatch(text.strip())
    if m:
        return utcnow() - dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: give an ISO date or time (2026-05-04, 2026-05-04T08:00) "
            "or an age such as 30m, 12h, 7d") from None
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def day(text: str) -> dt.date:
    """A day given on the command line (argparse type): YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: give YYYY-MM-DD, e.g. 2026-05-04") from None


def positive(text: str) -> int:
    """A count of rows (argparse type)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{n} is negative")
    return n


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output (JSON) instead of a table")


def add_paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=positive, default=PAGE, help=f"rows per page (default {PAGE})")
    parser.add_argument("--offset", type=positive, default=0, help="rows to skip: the next page starts here")
