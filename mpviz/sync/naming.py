"""Ids and names of primitives: who made them, and where.

A primitive's name is the ``name=`` keyword when given; else the variable the
creating line assigns to (``lock = Lock()`` -> "lock", ``self.q = Queue()`` ->
"q", ``a, b = Pipe()`` -> "a/b", ``with Manager() as manager:`` -> "manager");
else its kind.  Its site is "file.py:LINE"
of the first frame outside mpviz.sync, multiprocessing and
concurrent.futures: the user's line, not ours or the library's.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import os
import sys
from types import FrameType

from mpviz.telemetry import emit

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

_SYNC = os.path.dirname(__file__) + os.sep
_LIBRARIES = (
    os.path.dirname(multiprocessing.__file__) + os.sep,
    # Its folder only, beside multiprocessing's: importing concurrent.futures would cost every child.
    os.path.join(os.path.dirname(os.path.dirname(multiprocessing.__file__)), "concurrent", "futures") + os.sep,
)

# (Patterns compiled when first used, by re's own cache: a process that makes no primitive never
# pays for them, ~1 ms.)
# The assignment targets at the start of a line: "lock", "self.q", "a, b", "(a, b)", "x: T".
_TARGETS = r"\s*\(?\s*([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*,?\s*\)?\s*(?::[^=]+)?=(?!=)"

# A with statement's one item: "with Manager() as manager:".
_WITH_AS = r"\s*(?:async\s+)?with\s+.*?\bas\s+([A-Za-z_]\w*)\s*:"

# After a fork the pid changes, so ids stay unique without resetting the count.
_serial = itertools.count(1)


def _caller() -> FrameType | None:
    """The first frame outside mpviz.sync: whoever asked us for a primitive or a process."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_SYNC):
        frame = frame.f_back
    return frame


def library_caller() -> str:
    """The module of multiprocessing or concurrent.futures that asks us ("multiprocessing/pool.py"), or ""."""
    frame = _caller()
    if frame is None or not frame.f_code.co_filename.startswith(_LIBRARIES):
        return ""
    folder, file = os.path.split(frame.f_code.co_filename)
    return f"{os.path.basename(folder)}/{file}"


def _user_frame() -> FrameType | None:
    frame = _caller()
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARIES):
        frame = frame.f_back
    return frame


@functools.lru_cache(maxsize=1024)
def _assigned(filename: str, lineno: int, column: int) -> str:
    """The variable(s) the line assigns to, "a/b" for several, "" for none.

    ``lock, q = Lock(), Queue()``: the call at ``column`` (the one being made)
    gets its own variable."""
    # Here: a process that makes no primitive never needs them (tokenize, ~1 ms).
    import linecache
    import re

    line = linecache.getline(filename, lineno)
    match = re.match(_TARGETS, line)
    if match is None:
        held = re.match(_WITH_AS, line)  # with Pool(4) as pool:
        return held.group(1) if held else ""
    targets = [target.strip().rpartition(".")[2] for target in match.group(1).split(",")]
    if len(targets) > 1 and column >= 0:
        import ast  # here: only a line that assigns several names needs it

        indent = len(line) - len(line.lstrip())
        try:
            statement = ast.parse(line.strip()).body[0]
        except (SyntaxError, IndexError):  # a statement over several lines
            statement = None
        values = statement.value if isinstance(statement, ast.Assign) else None
        if isinstance(values, ast.Tuple) and len(values.elts) == len(targets):
            for target, value in zip(targets, values.elts, strict=True):
                if value.col_offset + indent <= column < (value.end_col_offset or 0) + indent:
                    return target
    return "/".join(targets)


def _column(frame: FrameType) -> int:
    """The column where the call being made in ``frame`` starts (-1 if unknown)."""
    positions = list(frame.f_code.co_positions())
    index = frame.f_lasti // 2
    column = positions[index][2] if index < len(positions) else None
    return -1 if column is None else column


def name_and_site(kind: str, name: str | None) -> tuple[str, str]:
    """A new primitive's name (see the module's doc) and "file.py:LINE" of the line that makes it."""
    frame = _user_frame()
    if frame is None:
        return name or kind, ""
    if name is None:
        name = _assigned(frame.f_code.co_filename, frame.f_lineno, _column(frame))
    return name or kind, f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def new_id() -> str:
    """An id for a primitive, unique in the run (for one that must be known before it is said to exist)."""
    return f"{os.getpid()}.{next(_serial)}"


def announce(kind: str, name: str, site: str, prim_id: str | None = None, **facts: Any) -> str:
    """Say that a primitive exists (``prim.new``); returns its id (``prim_id``, or a new one)."""
    prim_id = prim_id or new_id()
    emit("prim.new", prim_id, {"kind": kind, "name": name, "site": site, **facts})
    return prim_id


def new_prim(kind: str, name: str | None, **facts: Any) -> tuple[str, str]:
    """Name a new primitive and say that it exists; its id and its name."""
    name, site = name_and_site(kind, name)
    return announce(kind, name, site, **facts), name
