"""Regular expressions compiled once per installation rather than once per process.

The one-step validation patterns are large (the 004010 850's is some 200 KB of text), and Python
compiles a pattern with a parser and code generator written in Python: about a second for the 850,
paid again by every process that validates one (each task run of a flow, each ``waybill edi
validate``). The engine's compiled code is a list of integers that ``_sre.compile`` accepts
directly, so it is kept under ``WAYBILL_HOME/edi/patterns``, keyed by a digest of the pattern, its
flags, the interpreter's version and the engine's (``_sre.MAGIC``), and handed back to the engine
without parsing. The engine checks the code it is given; a cache entry it refuses, or that cannot
be read, is compiled again.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]  # the regular expression engine
import array
import hashlib
import json
import re
import sys
from re import _compiler, _parser  # type: ignore[attr-defined]  # the steps of re.compile

from waybill.edi import definitions

_CODE = "I" if array.array("I").itemsize == _sre.CODESIZE else "L"


def compile_cached(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, its compiled code read from and kept in the cache."""
    key = hashlib.sha256(f"{sys.version}\0{_sre.MAGIC}\0{flags}\0{pattern}".encode()).hexdigest()[:32]
    path = definitions.cache_folder() / "patterns" / f"{key}.bin"
    try:
        head, _, body = path.read_bytes().partition(b"\n")
        state = json.loads(head)
        if state["sha256"] == hashlib.sha256(body).hexdigest():  # written whole, not altered
            code = array.array(_CODE)
            code.frombytes(body)
            return _engine(pattern, code.tolist(), flags=int(state["flags"]), groups=int(state["groups"]),
                           groupindex=dict(state["groupindex"]))
    except (OSError, ValueError, TypeError, RuntimeError, KeyError):
        pass  # not cached yet, or not usable: compiled below
    parsed = _parser.parse(pattern, flags)
    code_list: list[int] = _compiler._code(parsed, flags)
    compiled = _engine(pattern, code_list, flags=flags | parsed.state.flags, groups=parsed.state.groups - 1,
                       groupindex=dict(parsed.state.groupdict))
    body = array.array(_CODE, code_list).tobytes()
    state = {"flags": compiled.flags, "groups": compiled.groups, "groupindex": dict(compiled.groupindex),
             "sha256": hashlib.sha256(body).hexdigest()}
    definitions.write_atomically(path, json.dumps(state).encode() + b"\n" + body)
    return compiled


def _engine(pattern: str, code: list[int], *, flags: int, groups: int, groupindex: dict[str, int]) -> re.Pattern[str]:
    """The engine's pattern object for ``code`` with ``groups`` capturing groups (numbered 1..,
    the named ones in ``groupindex``), as ``re.compile`` makes it."""
    indexgroup: list[str | None] = [None] * (groups + 1)
    for name, index in groupindex.items():
        indexgroup[index] = name
    compiled: re.Pattern[str] = _sre.compile(pattern, flags, code, groups, groupindex, tuple(indexgroup))
    return compiled
