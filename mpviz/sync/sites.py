"""Where in the user's code each operation is made, and by which thread.

Every record of an operation (acquire, release, wait, put, get, send, recv,
join, start, sleep …) carries:

* ``at`` — the id of its *site*: the first frame outside mpviz's machinery
  (sync, telemetry, the injection, the runtime) and the standard library —
  the user's line, or a lesson's worker code.  A site is said once per
  process (``site.new``: file, line, function, that line's source), then
  named by its id; the lookup is cached per code object and line, so an
  operation pays for a dictionary lookup and a short walk up the stack;
* ``th`` — the native id of the thread that made it, unless it is the main
  thread (whose id is the pid).  A thread's first record is preceded by
  ``proc.thread`` with its name, and its end is said (``proc.thread_end``)
  by an object only that thread holds, dropped when the thread ends.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from multiprocessing import process
from types import CodeType, FrameType

from mpviz.telemetry import Event, emit, record, short
from mpviz.telemetry.record import in_machinery as in_machinery  # (the record's: see there)
from mpviz.telemetry.record import skipped as _skipped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_sites: dict[tuple[CodeType, int], str] = {}  # (code, line) → site id
# (id of the code, instruction offset) → (the code, kept alive so that its id is not reused, site id).
# By id, not by the code: a code object's hash is computed anew at each lookup, over its constants
# (nested functions and comprehensions included): 0.1 µs for a small function, 0.6 µs for a module.
_by_instruction: dict[tuple[int, int], tuple[CodeType, str]] = {}
_serial = itertools.count(1)
_getframe = sys._getframe
_now_ns = time.monotonic_ns  # (record.now_ns's clock, without its Python call)
_get_ident = threading.get_ident
# This process's pid, and its main thread's id (a forked child's: the thread that forked), kept.
_pid = os.getpid()
_main = threading.main_thread().ident or _get_ident()
_named: set[int] = set()  # threads of this process that said their name
_ours: set[int] = set()  # mpviz's own threads of this process
# The names of mpviz's own threads ("mpviz-main" runs a lesson's main part): never shown as threads.
MPVIZ_THREADS = "mpviz-"
_mine = threading.local()  # what each thread that said its name holds until it ends


class _Ending:
    """Held by one thread alone (``_mine``): the thread's end drops it, and it says so."""

    def __init__(self, tid: int) -> None:
        self.tid = tid
        self.pid = _pid
        self.ident = _get_ident()

    def __del__(self) -> None:
        # A forked child drops the other threads' holdings inside os.fork(), before any
        # at-fork hook has given it a reporter of its own: the parent's, whose lock another
        # thread may have held at the fork, would hang it. Those threads were never its own.
        if self.tid and self.pid == os.getpid():  # (tid 0: a forked child's main thread now)
            _named.discard(self.tid)
            ring = record.ring
            if ring is not None:  # (before its ident can be another thread's)
                ring.threads.pop(self.ident, None)
            emit("proc.thread_end", "", {"th": self.tid})


def user_frame(depth: int = 1) -> FrameType | None:
    """The first frame, from ``depth`` up, outside mpviz's machinery and the standard library (and
    above a child process's bootstrap: what a forked child has below it are its parent's frames)."""
    try:
        frame: FrameType | None = sys._getframe(depth)
    except ValueError:
        return None
    while frame is not None and in_machinery(frame.f_code.co_filename):
        if frame.f_code is _root:
            return None
        frame = frame.f_back
    return frame


# Where a child process's own frames begin (multiprocessing's ``BaseProcess._bootstrap``): a forked
# child's stack goes on below it into its parent's, from before the fork, whose lines are not the
# child's (its exit's join of a feeder thread, at main's p.start()).
_root: CodeType = process.BaseProcess._bootstrap.__code__  # type: ignore[attr-defined]  # (not in typeshed)


def site(depth: int = 1) -> str:
    """The id of the site of the operation being made ("" if it has none), said once per process."""
    frame = user_frame(depth + 1)
    return "" if frame is None else _site_of(frame)


def site_above(frame: FrameType | None) -> str:
    """The site of an operation called from ``frame`` (or further up, outside the machinery): a
    site given by its caller's frame (a proxy's method made by exec has none of its own)."""
    while frame is not None and in_machinery(frame.f_code.co_filename):
        if frame.f_code is _root:
            return ""
        frame = frame.f_back
    return "" if frame is None else _site_of(frame)


def _site_of(frame: FrameType) -> str:
    # By instruction first (its offset is at hand; its line must be looked up), then by line.
    code = frame.f_code
    hit = _by_instruction.get((id(code), frame.f_lasti))
    if hit is not None:
        return hit[1]
    line = frame.f_lineno
    known = _sites.get((code, line))
    if known is None:
        known = _new_site(code, line)
    _by_instruction[(id(code), frame.f_lasti)] = (code, known)
    return known


def site_at(code: CodeType, line: int) -> str:
    """The id of a site given by its code and line (a function about to run: its ``def``)."""
    known = _sites.get((code, line))
    return known if known is not None else _new_site(code, line)


def _new_site(code: CodeType, line: int) -> str:
    import linecache  # (here: a process that never reads a line need not import it)

    site_id = f"{_pid}@{next(_serial)}"
    text = linecache.getline(code.co_filename, line).strip()
    emit(
        "site.new",
        site_id,
        {"file": short(code.co_filename), "line": line, "func": short(code.co_name), "text": short(text)},
        pid=_pid,
    )
    _sites[(code, line)] = site_id
    return site_id


def say(
    kind: str,
    obj: str = "",
    data: dict[str, Any] | None = None,
    *,
    t_ns: int | None = None,
    above: FrameType | None = None,
    learn: bool = False,
) -> None:
    """Report an operation, with its site and (not the main thread) its thread.

    ``above``: the frame to look for the site from (a caller's, not this one's).
    ``learn``: an operation ``RingWriter.bare`` could not tell (a lock's): its
    ring is told its site, thread and primitive for next time.
    On every operation of every watched process: kept short (the frame walk
    and the lookups inline, the pid and the main thread's id kept, not asked;
    with a ring, no record built: ``record.operation``)."""
    at = ""
    # Whoever called the primitive's method, or further up.
    frame: FrameType | None = _getframe(2) if above is None else above
    caller = frame
    while frame is not None:  # (_stamp's walk, inline: this is the hot path)
        code = frame.f_code
        skip = _skipped.get(code.co_filename)
        if skip is None:
            skip = in_machinery(code.co_filename)
        if not skip:
            known = _by_instruction.get((id(code), frame.f_lasti))  # (_site_of's first step, inline)
            at = _site_of(frame) if known is None else known[1]
            break
        if code is _root:
            break  # (below a child's bootstrap: its parent's frames, copied by the fork)
        frame = frame.f_back
    th = _thread_of() if _get_ident() != _main else 0
    operation = record.operation
    if operation is not None:
        operation(kind, obj, data, at, th, _now_ns() if t_ns is None else t_ns)
        if learn and frame is caller and frame is not None:
            _tell(frame, at, th)
        return
    data = {} if data is None else data
    if at:
        data["at"] = at
    if th:
        data["th"] = th
    emit(kind, obj, data, t_ns=t_ns, pid=_pid)


def _tell(frame: FrameType, at: str, th: int) -> None:
    """Tell this process's ring what ``RingWriter.bare`` needs to write the operation just said
    itself next time: its site (the caller's own frame: ``bare`` looks no further), and its thread if
    its end will be told (the main thread; one that said its name, by ``_Ending``).  (Its primitive's
    name the ring defined as it wrote the record.)"""
    ring = record.ring
    if ring is not None:
        ring.learn(frame.f_code, frame.f_lasti, at)
        tid = _get_ident()
        if th or tid == _main:
            ring.threads[tid] = th


def stamped(kind: str, obj: str, data: dict[str, Any], depth: int = 2) -> Event:
    """The record :func:`say` would send, with its site and thread, not sent (a scheduling point's ask)."""
    _stamp(data, _getframe(depth))
    return Event(_now_ns(), _pid, kind, obj, data)


def _stamp(data: dict[str, Any], frame: FrameType | None) -> None:
    while frame is not None and "at" not in data:
        skip = _skipped.get(frame.f_code.co_filename)
        if skip is None:
            skip = in_machinery(frame.f_code.co_filename)
        if not skip:
            data["at"] = _site_of(frame)
            break
        if frame.f_code is _root:
            break
        frame = frame.f_back
    if _get_ident() != _main:
        th = _thread_of()
        if th:
            data["th"] = th


def _thread_of() -> int:
    """An operation made by another thread than the main one: which (its name said once); 0 if it
    is one of mpviz's own, which act for the process."""
    tid = threading.get_native_id()
    if tid in _ours:
        return 0
    if tid not in _named:
        thread = threading.current_thread()
        if thread.name.startswith(MPVIZ_THREADS):
            # mpviz's own threads act for the process: a lesson's main part, a key's action.
            _ours.add(tid)
            return 0
        _named.add(tid)
        emit("proc.thread", thread.name, {"th": tid}, pid=_pid)
        _mine.ending = _Ending(tid)
    return tid


def forget() -> None:
    """Say every site anew: a new run in this same process (the dashboard's) has a new model."""
    _sites.clear()
    _by_instruction.clear()


def _forked() -> None:
    # A forked child has only the thread that forked, its main thread now: the others' names are not its own.
    global _pid, _main
    _pid = os.getpid()
    _main = _get_ident()
    _named.clear()
    _ours.clear()
    ending = getattr(_mine, "ending", None)
    if ending is not None:
        ending.tid = 0


os.register_at_fork(after_in_child=_forked)
