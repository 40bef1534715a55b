"""This process's own Python stacks, every thread's, as records (``proc.stack``, ended by ``proc.stacks``).

Asked for by the dashboard over the process's connection, and read in the
thread that answers (``SocketReporter.serve``): ``sys._current_frames()``
gives every other thread's frame even while that thread waits in a lock, a
queue, a socket, ``time.sleep`` or any C call that let go of the GIL.  A
process that cannot answer — paused, or busy in C holding the GIL — simply
does not, and the dashboard says so (``mpviz.runtime``).

mpviz's own threads (``mpviz-*``) are left out: they are not the program's.
Each thread's record stays under the wire's bound: the innermost frames are
kept, the outermost dropped first, and the call the innermost frame is making
is read off the line (``co_positions``); a thread whose innermost frame is in
none (a loop of the program's own) is said to be running.
"""

from __future__ import annotations

import sys
import threading
from types import FrameType

from mpviz.telemetry.record import MACHINERY, emit

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

# The most frames kept of one thread (the innermost), and the longest source line.
MOST_FRAMES = 40
LINE_CHARS = 120
# A thread's frames, as marshal writes them, stay under this (the wire's bound is 4 KiB a record).
MOST_BYTES = 3200
OURS = "mpviz-"


def _frames(frame: FrameType | None) -> list[list[Any]]:
    """Outermost first: [file, line, function, source line]."""
    import linecache  # here: a process that is never asked for its stacks never needs it (tokenize, ~1 ms)

    out: list[list[Any]] = []
    size = 0
    while frame is not None and len(out) < MOST_FRAMES:
        code = frame.f_code
        if code.co_filename.startswith(MACHINERY):
            frame = frame.f_back
            continue
        text = linecache.getline(code.co_filename, frame.f_lineno).strip()[:LINE_CHARS]
        out.append([code.co_filename, frame.f_lineno, code.co_name, text])
        size += len(code.co_filename) + len(code.co_name) + len(text) + 24
        if size > MOST_BYTES:
            break
        frame = frame.f_back
    out.reverse()
    return out


def _call(frame: FrameType) -> str:
    """The call the frame is making now (``conn.recv(1024)``), from its source position; "" if unknown."""
    code = frame.f_code
    try:
        positions = list(code.co_positions())[frame.f_lasti // 2]
    except (IndexError, ValueError):
        return ""
    line, end_line, column, end_column = positions
    if line is None or line != end_line or column is None or end_column is None:
        return ""
    import linecache

    text = linecache.getline(code.co_filename, line)
    return text[column:end_column][:LINE_CHARS]


# The instructions a thread can be inside of while it waits in C code (a blocking call, a with's
# ``__enter__``, a for's ``__next__``, an import): elsewhere, its innermost frame is the program's own
# Python code, running (a thread interrupted for the GIL stops at a jump back or a RESUME).  A call
# not started yet (3.11's PRECALL) is one too: its specialised forms make the call themselves.
_CALLING = ("CALL", "PRECALL", "BEFORE_WITH", "BEFORE_ASYNC_WITH", "FOR_ITER", "IMPORT_NAME", "SEND")


def _in_a_call(frame: FrameType) -> bool:
    """Whether the frame's current instruction is one that calls out (see _CALLING)."""
    from dis import opname

    try:
        name = opname[frame.f_code.co_code[frame.f_lasti]]
    except IndexError:
        return True  # unknown: as before, the line says what it waits in
    return name.startswith(_CALLING)


def _innermost(frame: FrameType | None) -> FrameType | None:
    """The innermost frame that is not mpviz's machinery (whose call the thread is making)."""
    while frame is not None and frame.f_code.co_filename.startswith(MACHINERY):
        frame = frame.f_back
    return frame


def _mpvizs(frame: FrameType) -> bool:
    """Is this a thread mpviz started without ``threading`` (its outermost frame is mpviz's)?"""
    while frame.f_back is not None:
        frame = frame.f_back
    return frame.f_code.co_filename.startswith(MACHINERY)


def report_stacks(req: int) -> None:
    """Say every thread's stack but the caller's (the one answering) and mpviz's own."""
    names = {t.ident: t for t in threading.enumerate()}
    me = threading.get_ident()
    said = 0
    for ident, frame in sys._current_frames().items():
        thread = names.get(ident)
        if ident == me or (thread.name.startswith(OURS) if thread is not None else _mpvizs(frame)):
            continue
        emit(
            "proc.stack",
            "",
            {
                "req": req,
                "tid": (thread.native_id if thread is not None else None) or 0,
                "name": thread.name if thread is not None else f"thread {ident}",
                "frames": _frames(frame),
                "call": _call(inner) if (inner := _innermost(frame)) is not None else "",
                "running": inner is not None and not _in_a_call(inner),
                "by": "self",
            },
        )
        said += 1
    emit("proc.stacks", "", {"req": req, "threads": said})
