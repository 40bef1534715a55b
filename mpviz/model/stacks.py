"""Python stacks, and what a stack says a thread is waiting in.

A stack comes from the process itself (a watched process answers a request
with ``sys._current_frames()``) or from outside (``py-spy dump``, when the
process cannot answer or is only attached to).  Either way it arrives as
``proc.stack`` records, one per thread:

    data = {"req": n, "tid": native thread id, "name": thread name,
            "frames": [[file, line, function, source line], …]  (outermost first),
            "call": the call being made in the innermost frame, if known,
            "running": the innermost frame is running its own code, in no call (self only),
            "by": "self" or "py-spy"}

and a ``proc.stacks`` record that ends a request: ``{"req": n, "threads": k}``
(``"missing"``: why no stack could be read).

:func:`infer` reads a thread's stack the way a person would: the innermost
frame of a library call known to block (``multiprocessing``'s locks, queues,
pipes and joins, ``threading``, ``queue``, ``subprocess``, ``select``) names
what it waits for, and the first frame outside the libraries names the
user's line.  A stack whose innermost frame is the user's own code waits in
whatever that line calls (a socket's ``recv``, ``time.sleep``, a C call);
the call's words then come from the line itself.
"""

from __future__ import annotations

import os
import re
from typing import Any, NamedTuple


class Frame(NamedTuple):
    file: str
    line: int
    function: str
    text: str  # the line's source, stripped ("" if unknown)

    @property
    def site(self) -> str:
        """``consumer.py:9 in consume``."""
        return f"{os.path.basename(self.file)}:{self.line} in {self.function}"


class ThreadStack(NamedTuple):
    tid: int
    name: str
    frames: tuple[Frame, ...]  # outermost first
    call: str = ""  # what the innermost frame is calling, when the process said
    running: bool = False  # the innermost frame runs the program's own code, in no call (the process said)


class Inferred(NamedTuple):
    """What a stack says a thread waits in (``kind``), in words (``what``), and the user's frame."""

    kind: str  # lock, queue, pipe, event, cond, join, manager, sleep, socket, subprocess, select, thread, call, running
    what: str  # "multiprocessing Lock.acquire", "socket recv", "q.get()"
    frame: Frame | None  # the first frame outside the libraries (None: the stack is all library)


# Library files by the tail of their path, for another interpreter's standard library.
_LIBRARIES = (
    "multiprocessing/",
    "concurrent/futures/",
    "threading.py",
    "queue.py",
    "subprocess.py",
    "selectors.py",
    "socket.py",
    "socketserver.py",
    "asyncio/",
)
_MPVIZ = os.sep + "mpviz" + os.sep

# (file tail, function) → (kind, words): library calls known to block, innermost first wins.
_KNOWN: dict[tuple[str, str], tuple[str, str]] = {
    ("multiprocessing/synchronize.py", "__enter__"): ("lock", "multiprocessing lock acquire"),
    ("multiprocessing/synchronize.py", "acquire"): ("lock", "multiprocessing lock acquire"),
    ("multiprocessing/synchronize.py", "wait"): ("event", "multiprocessing wait"),
    # A reader from outside (py-spy) names a method with its class: a condition's wait is not an event's.
    ("multiprocessing/synchronize.py", "Condition.wait"): ("cond", "multiprocessing Condition.wait"),
    ("multiprocessing/synchronize.py", "Event.wait"): ("event", "multiprocessing Event.wait"),
    ("multiprocessing/synchronize.py", "wait_for"): ("cond", "multiprocessing Condition.wait_for"),
    ("multiprocessing/queues.py", "get"): ("queue", "multiprocessing Queue.get"),
    ("multiprocessing/queues.py", "put"): ("queue", "multiprocessing Queue.put"),
    ("multiprocessing/queues.py", "join"): ("queue", "multiprocessing JoinableQueue.join"),
    ("multiprocessing/connection.py", "recv"): ("pipe", "multiprocessing Connection.recv"),
    ("multiprocessing/connection.py", "recv_bytes"): ("pipe", "multiprocessing Connection.recv_bytes"),
    ("multiprocessing/connection.py", "poll"): ("pipe", "multiprocessing Connection.poll"),
    ("multiprocessing/connection.py", "wait"): ("pipe", "multiprocessing.connection.wait"),
    ("multiprocessing/process.py", "join"): ("join", "Process.join"),
    ("multiprocessing/popen_fork.py", "wait"): ("join", "Process.join"),
    ("multiprocessing/managers.py", "_callmethod"): ("manager", "a Manager call"),
    ("multiprocessing/pool.py", "wait"): ("join", "a Pool result"),
    ("multiprocessing/pool.py", "get"): ("join", "a Pool result"),
    ("multiprocessing/pool.py", "join"): ("join", "Pool.join"),
    # A pool's task handler thread, waiting for the tasks the program gives it (or handing them out).
    ("multiprocessing/pool.py", "_handle_tasks"): ("queue", "a Pool's task queue"),
    ("concurrent/futures/_base.py", "result"): ("join", "a future's result"),
    ("concurrent/futures/_base.py", "as_completed"): ("join", "as_completed"),
    ("concurrent/futures/_base.py", "wait"): ("join", "futures.wait"),
    ("threading.py", "wait"): ("event", "threading wait"),
    ("threading.py", "wait_for"): ("cond", "threading Condition.wait_for"),
    ("threading.py", "acquire"): ("lock", "threading Semaphore.acquire"),
    ("threading.py", "join"): ("thread", "Thread.join"),
    ("threading.py", "_wait_for_tstate_lock"): ("thread", "Thread.join"),
    ("queue.py", "get"): ("queue", "queue.Queue.get"),
    ("queue.py", "put"): ("queue", "queue.Queue.put"),
    ("queue.py", "join"): ("queue", "queue.Queue.join"),
    ("subprocess.py", "wait"): ("subprocess", "subprocess wait"),
    ("subprocess.py", "communicate"): ("subprocess", "subprocess communicate"),
    ("subprocess.py", "run"): ("subprocess", "subprocess.run"),
    ("selectors.py", "select"): ("select", "select"),
    ("socket.py", "accept"): ("socket", "socket accept"),
    ("socket.py", "readinto"): ("socket", "socket read"),
}

# The call a line makes, when only the line is known: the last ``name(`` on it (``conn.recv(1024)``).
_CALL = re.compile(r"([A-Za-z_][\w.]*)\s*\(")
# Words for calls the user's own line makes, by the called name's last part.
_CALLS = {
    "sleep": "sleep",
    "recv": "socket",
    "recvfrom": "socket",
    "recv_into": "socket",
    "accept": "socket",
    "connect": "socket",
    "sendall": "socket",
    "select": "select",
    "poll": "select",
    "input": "input",
    "read": "read",
    "readline": "read",
    "wait": "call",
    "join": "call",
    "acquire": "call",
}


_STDLIB = os.path.dirname(os.__file__).rstrip("/") + "/"  # (as sysconfig says, without its ~5 ms import)


def _library(file: str) -> str:
    """The standard library's path of a file ("multiprocessing/queues.py"), or "" for the user's own.

    This interpreter's standard library, or (a program attached to may run on
    another Python) a path that looks like one: ``…/python3.X/…``."""
    path = file.replace(os.sep, "/")
    if path.startswith(_STDLIB):
        rest = path[len(_STDLIB) :]
        return "" if rest.startswith(("site-packages/", "dist-packages/")) else rest
    if "/python3" not in path or "-packages/" in path:
        return ""
    for tail in _LIBRARIES:
        at = path.rfind("/" + tail)
        if at >= 0:
            return path[at + 1 :]
    return ""


def _ours(file: str) -> bool:
    return _MPVIZ in file


def _user_index(frames: tuple[Frame, ...] | list[Frame]) -> int:
    """The index of the innermost frame outside the libraries and mpviz (-1: none).  None below a
    child process's bootstrap: a forked child's stack goes on into its parent's frames from before
    the fork (main's ``p.start()``), which are not the child's."""
    for i in range(len(frames) - 1, -1, -1):
        file = frames[i].file
        library = _library(file)
        if not library and not _ours(file) and not file.startswith("<frozen"):
            return i
        if library == "multiprocessing/process.py" and frames[i].function == "_bootstrap":
            return -1
    return -1


def user_frame(frames: tuple[Frame, ...] | list[Frame]) -> Frame | None:
    """The innermost frame outside the libraries and mpviz: the user's line."""
    i = _user_index(frames)
    return frames[i] if i >= 0 else None


def infer(stack: ThreadStack) -> Inferred | None:
    """What the thread waits in, read off its stack (None: no frames).

    From the user's line inward, the first library call known to block names
    it: ``q.get()`` waits in ``multiprocessing Queue.get``, not in the pipe
    read that the get does inside."""
    frames = stack.frames
    if not frames:
        return None
    u = _user_index(frames)
    user = frames[u] if u >= 0 else None
    for frame in frames[u + 1 :]:
        known = _known(frame)
        if known is not None:
            kind, what = known
            if kind == "manager" and user is not None and (call := _last_call(user.text)):
                what = f"{what}: {call}"  # which proxy, which method: the user's line says
            return Inferred(kind, what, user)
    if stack.running:  # its innermost frame runs Python code, in no call: it waits in nothing
        return Inferred("running", frames[-1].function, user)
    if user is None or u < len(frames) - 1:
        inner = frames[u + 1] if user is not None else frames[-1]
        return Inferred("call", inner.function, user)
    call = stack.call or _last_call(user.text)
    name = call.partition("(")[0].rpartition(".")[2]
    return Inferred(_CALLS.get(name, "call"), call or user.function, user)


def inside_a_wait(stack: ThreadStack) -> bool:
    """Whether the thread runs the program's own code from inside a call known to block: a get
    unpickling its item, which calls the item's ``__setstate__`` (so it is not waiting)."""
    frames = stack.frames
    u = _user_index(frames)
    return u > 0 and any(_known(frame) is not None for frame in frames[:u])


def _known(frame: Frame) -> tuple[str, str] | None:
    """The blocking library call a frame is in, if it is one.

    A stack read from outside (py-spy) names functions by their qualified name
    (``Queue.get``, ``BaseProcess.join``), one from inside by the code's own
    (``get``): the qualified name first, then its last part."""
    library = _library(frame.file)
    if not library:
        return None
    known = _KNOWN.get((library, frame.function))
    if known is None and "." in frame.function:
        known = _KNOWN.get((library, frame.function.rpartition(".")[2]))
    return known


def _last_call(text: str) -> str:
    calls = _CALL.findall(text)
    return f"{calls[-1]}()" if calls else ""


def from_record(data: dict[str, Any]) -> ThreadStack:
    """A ``proc.stack`` record's thread (fields checked by the recording reader or the wire)."""
    listed = data.get("frames")
    frames = tuple(
        Frame(str(f[0]), f[1], str(f[2]), str(f[3]) if len(f) > 3 else "")
        for f in (listed if isinstance(listed, (list, tuple)) else ())
        if isinstance(f, (list, tuple)) and len(f) >= 3 and type(f[1]) is int
    )
    tid = data.get("tid")
    return ThreadStack(
        tid if type(tid) is int else 0,
        str(data.get("name", "")),
        frames,
        str(data.get("call", "")),
        data.get("running") is True,
    )


# Waits that only the program itself can end: a thread in one cannot move by itself.
PROGRAM_WAITS = ("lock", "queue", "pipe", "event", "cond", "join", "thread", "manager")


# The threads multiprocessing and concurrent.futures start for themselves, by a function of theirs on
# the stack: a pool's task, result and worker handlers, an executor's manager thread, a queue's
# feeder.  Each waits, without a timeout, for what only the program gives: more tasks, results, a
# worker's exit, an item to put.  (A get whose item is being unpickled, slowly, in the program's own
# code is not a wait: its stack says so, see ``anomalies._unsure`` and
# tests/programs/correct_slow_unpickle.py.)
_THEIR_THREADS = {
    ("multiprocessing/pool.py", "_handle_tasks"),
    ("multiprocessing/pool.py", "_handle_results"),
    ("multiprocessing/pool.py", "_handle_workers"),
    ("multiprocessing/queues.py", "_feed"),
    ("concurrent/futures/process.py", "wait_result_broken_or_wakeup"),
}


def machinery_wait(proc: Any, aid: int) -> Inferred | None:
    """What the last stack read of ``proc`` says its thread ``aid`` waits in, when that thread is one
    multiprocessing started for itself (a pool's handler) waiting for the program (None: any other
    thread, a user's frame on its stack, or no stack of it: it may move by itself)."""
    stack = next((stack for stack in proc.stacks if stack.tid == aid), None)
    if stack is None or not any((_library(f.file), f.function) in _THEIR_THREADS for f in stack.frames):
        return None
    inferred = infer(stack)
    return inferred if inferred is not None and inferred.frame is None and inferred.kind in PROGRAM_WAITS else None


def waiting(model: Any) -> list[tuple[int, Any]] | None:
    """The live actors a hang is judged on when every one of them waits (None if one may move): each
    is in a wait a record says, or is a thread of multiprocessing's own that waits for the program
    (by its last stack), or waits, by its last stack, in a call no record tells of (a socket's recv,
    a subprocess): nothing the program does, so no hang for sure, but no progress either (see
    ``anomalies._unsure``).  A manager's server is none of them: it only answers its callers."""
    live = [(i, a) for i, a in model.live_actors() if model.procs[model.pid_of(i)].role != "manager"]
    for aid, actor in live:
        if actor.waiting_on is not None or actor.elsewhere_outside:
            continue
        if model.procs[model.pid_of(aid)].stopped_outside:
            continue  # stopped, not by mpviz: it does nothing until resumed (see ``anomalies.nobody_left``)
        if actor.holds or machinery_wait(model.procs[model.pid_of(aid)], aid) is None:
            return None
    return live


# A process quiet for this long, with no record saying it waits, has its stacks looked at.
QUIET_NS = 1_000_000_000
# What a stack said is looked at again this often while nothing else says what the process does.
AGAIN_NS = 5_000_000_000


def stacks_wanted(model: Any, now_ns: int) -> list[int]:
    """The processes whose stacks would say what no record does: alive, not paused, no record
    of a wait or a sleep, quiet for a second (no record, no CPU in the last sample), and their
    last stacks read before they last did anything (or a while ago).  And when every thread
    seen waits, every live process whose stacks are older than its last record: whether any
    thread could still move decides whether it is a hang."""
    if waiting(model):
        stale = [p.pid for p in model.procs.values() if p.alive and not p.stopped and p.stacks_ns <= p.acted_ns]
        if stale:
            return stale
    wanted = []
    for proc in model.procs.values():
        if not proc.alive or proc.stopped or proc.blocked or proc.sleeping or proc.turn or proc.stats is None:
            continue
        if proc.stats.cpu >= 1.0 or proc.stats.status not in ("sleeping", "disk-sleep"):
            continue
        if now_ns - proc.acted_ns < QUIET_NS:
            continue
        if proc.stacks_ns > proc.acted_ns and now_ns - proc.stacks_ns < AGAIN_NS:
            continue
        wanted.append(proc.pid)
    return wanted


def thread_heading(stack: ThreadStack, known: str = "") -> str:
    """``thread 'MainThread' (4021): in multiprocessing Queue.get at consumer.py:9 in consume``; ``known``:
    what its records say it does, which they know better than its stack."""
    inferred = infer(stack)
    head = f"thread '{stack.name}' ({stack.tid})"
    if known:
        return f"{head}: {known}"
    if inferred is None:
        return head
    where = f" at {inferred.frame.site}" if inferred.frame is not None else ""
    doing = "running" if inferred.kind == "running" else "in"
    return f"{head}: {doing} {inferred.what}{where}"


class Folded(NamedTuple):
    """Library frames between the user's own, shown as one line: how many, in which files."""

    n: int
    files: tuple[str, ...]

    @property
    def words(self) -> str:
        return f"… {self.n} frame{'' if self.n == 1 else 's'} of {', '.join(self.files)}"


def folded(stack: ThreadStack) -> list[Frame | Folded]:
    """A thread's frames, innermost last, with the library's frames above the user's last one
    folded into a line each run (a forked child's start, a thread's bootstrap): the frames from
    the user's line inward, which say what it waits in, are all kept."""
    frames = stack.frames
    last = _user_index(frames)
    out: list[Frame | Folded] = []
    run: list[Frame] = []
    for i, frame in enumerate(frames):
        if i < last and (_library(frame.file) or _ours(frame.file) or frame.file.startswith("<frozen")):
            run.append(frame)
            continue
        if run:
            out.append(_fold(run))
            run = []
        out.append(frame)
    if run:
        out.append(_fold(run))
    return out


def _fold(run: list[Frame]) -> Frame | Folded:
    if len(run) == 1:
        return run[0]
    files = tuple(dict.fromkeys(os.path.basename(frame.file) for frame in run))
    return Folded(len(run), files)


def stack_lines(stacks: tuple[ThreadStack, ...], missing: str = "", known: dict[int, str] | None = None) -> list[str]:
    """Every thread's stack as plain lines (headless; the dashboard draws the same with colours).

    ``known``: what the records say each thread (by native id) waits for or holds."""
    if missing:
        return [f"no stack: {missing}"]
    lines = []
    for stack in stacks:
        lines.append(thread_heading(stack, (known or {}).get(stack.tid, "")))
        for frame in folded(stack):
            if isinstance(frame, Folded):
                lines.append(f"    {frame.words}")
                continue
            lines.append(f'    File "{frame.file}", line {frame.line}, in {frame.function}')
            if frame.text:
                lines.append(f"      {frame.text}")
    return lines
