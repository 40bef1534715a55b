"""Attaching to a Python program that is already running: its process tree, its stacks, what each process does.

Nothing is started in the program and nothing of it is changed: once a
second the attachment walks the tree (the PID and its descendants, new ones
as they appear, psutil's ``children(recursive=True)``), hands each process
to the psutil sampler, and reads the stacks of every process that ran since
its stacks were last read (py-spy, :mod:`mpviz.runtime.pyspy`; a process
that has not run cannot have moved).  From the main thread's stack and the
system call it waits in (:mod:`mpviz.runtime.procfs`) it says, when it
changes, what the process does (``proc.seen``, read by
:mod:`mpviz.model.seen`).  Its records go to the supervisor's channels like
every process's: recorded, replayed, and drawn the same way.

Detaching stops reading; no signal is ever sent to an attached process.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from mpviz.model.stacks import Frame, infer, user_frame
from mpviz.runtime import procfs, pyspy
from mpviz.telemetry import Event, now_ns

ROUND_S = 1.0
OWN_REQUESTS = 1 << 40
READS_PER_ROUND = 10
# A process back in the very system calls its last read found it in is taken to wait where it
# waited (a worker that did a job and took the next get): read again only this often.
SAME_WAIT_NS = 30 * 1_000_000_000
YOUNG_S = 2.0
# The waits whose system call says what they wait on (a pipe, a semaphore).
WAITS_ON_SOMETHING = ("lock", "cond", "event", "queue", "pipe")
LOCK_ACQUIRE = "multiprocessing lock acquire"  # as model.stacks names a `with lock:`
FOREIGN = "foreign"  # a proc.seen's kind: not Python, its stacks cannot be read


def target(pid: int) -> tuple[str, list[str]]:
    """The program's name (its script, its module, else the executable's) and its command line."""
    try:
        proc = psutil.Process(pid)
        argv = proc.cmdline()
        name = proc.name()
    except psutil.Error:
        return f"pid {pid}", []
    return _script(argv) or name, argv


def _script(argv: list[str]) -> str:
    """``prog.py`` of ``python prog.py``, ``pkg.mod`` of ``python -m pkg.mod``; "" if neither."""
    for i, arg in enumerate(argv[1:], 1):
        if arg == "-m" and i + 1 < len(argv):
            return argv[i + 1]
        if arg == "-c":
            found = re.search(r"from\s+([\w.]+)\s+import", argv[i + 1] if i + 1 < len(argv) else "")
            return found.group(1).rpartition(".")[2] if found else ""
        if arg.endswith(".py"):
            return os.path.basename(arg)
    return ""


def problem(pid: int) -> str:
    """Why ``pid`` cannot be attached to ("" if it can): checked before anything starts."""
    if pid == os.getpid():
        return f"pid {pid} is mpviz itself"
    try:
        proc = psutil.Process(pid)
        name, status, uid = proc.name(), proc.status(), proc.uids().real
    except psutil.NoSuchProcess:
        return f"no process with pid {pid}"
    except psutil.AccessDenied:
        return f"cannot attach to pid {pid}: its details cannot be read here"
    if status == psutil.STATUS_ZOMBIE:
        return f"pid {pid} ({name}) has ended"
    exe = pyspy.executable()
    if exe is None:
        return pyspy.INSTALL
    if not procfs.readable(pid):
        return procfs.rights_problem(pid, name, uid, os.geteuid(), procfs.ptrace_scope(), procfs.can_ptrace_anyone())
    try:
        pyspy.dump(pid, exe)
    except pyspy.Unreadable as exc:
        if str(exc) == "not a Python process":
            return f"pid {pid} ({name}) is not a Python process"
        if str(exc) == "it has ended":
            return f"pid {pid} ({name}) has ended"
        return f"cannot attach to pid {pid} ({name}): {exc}"
    return ""


@dataclass
class Known:
    """A process of the attached program, as the attachment knows it."""

    proc: psutil.Process
    started: bool = False  # its proc.start sent
    python: bool = True  # stacks can be read (not: a shell, a C program it started)
    ran: tuple[int, int] | None = None  # procfs.ran when its stacks were last read
    read_ns: int = 0  # when they were
    calls: tuple[tuple[str, str, str], ...] | None = None  # procfs.calls then
    seen: dict[str, Any] = field(default_factory=dict)  # its last proc.seen's data
    # Named after its target: a multiprocessing child read before it called its target (a spawned
    # one still importing the main module) is named by its command line until a read finds it.
    named: bool = True
    feeders: dict[str, list[int]] = field(default_factory=dict)  # by pipe, the last found


class Attachment:
    """Watches the program rooted at ``root`` from outside, once a second, in a thread of its own.

    ``post`` takes a round's records (the channels'), ``track`` hands a
    process to the psutil sampler."""

    def __init__(
        self, root: int, post: Callable[[list[Event]], None], track: Callable[[int], None], every: float = ROUND_S
    ) -> None:
        self.root = root
        self._post = post
        self._track = track
        self._every = every
        self._exe = pyspy.executable() or "py-spy"
        self._known: dict[int, Known] = {}
        self._helpers: dict[int, int | None] = {}  # multiprocessing's helper processes → their parents
        self._req = OWN_REQUESTS  # its own reads' numbers: above any a run asks with
        self._stop = threading.Event()
        self._wake = threading.Event()  # a round's wait cut short: stacks were asked for, or it stops
        self._asking = threading.Lock()
        self._asked: list[tuple[int, int]] = []
        self._thread = threading.Thread(target=self._run, name="mpviz-attach", daemon=True)
        self._tree_changed = True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop reading (a dump under way ends by itself, in milliseconds); the program is left as it is."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(pyspy.DUMP_TIMEOUT_S + 1)

    def ask(self, pid: int, req: int) -> None:
        """Read ``pid``'s stacks now, as the answer to request ``req`` (the stack view asks each second)."""
        with self._asking:
            self._asked.append((pid, req))
        self._wake.set()

    def _run(self) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            if time.monotonic() >= due:
                self._post(self.round())
                due = time.monotonic() + self._every
            self._post(self._answer())
            self._wake.wait(max(0.0, due - time.monotonic()))
            self._wake.clear()

    def _answer(self) -> list[Event]:
        """The stacks asked for, read now."""
        with self._asking:
            asked, self._asked = self._asked, []
        events: list[Event] = []
        for pid, req in asked:
            known = self._known.get(pid)
            if known is None or not known.started or not known.python:
                why = "not read yet" if known is not None and known.python else "not a Python process of the program"
                events.append(pyspy.missing(pid, req, why, now_ns()))
            else:
                self._look(pid, known, events, [], now_ns(), procfs.ran(pid), req)
        return events

    # --- one round ---------------------------------------------------------------------------

    def round(self) -> list[Event]:
        """The tree walked, the exits found, the stacks of whoever ran read: the records of one round.

        A new process is read at once; one that ran since it was last read waits its turn, the
        longest unread first, at most ``READS_PER_ROUND`` of them (a read costs py-spy ~10 ms of
        CPU: a hundred busy processes would cost a core); one that has not run is not read at all."""
        began = now_ns()
        starts: list[Event] = []  # first, and stamped with the round's start: a join's line names its child
        events: list[Event] = []
        self._walk()
        moved: list[tuple[int, Known, tuple[int, int] | None]] = []
        for pid, known in list(self._known.items()):
            if self._stop.is_set():
                break
            if not _alive(known.proc):
                del self._known[pid]
                self._tree_changed = True
                events.append(Event(now_ns(), pid, "proc.exit", "", {"code": None}))
            elif not known.started:
                self._look(pid, known, events, starts, began, procfs.ran(pid))
            elif known.python:
                ran = procfs.ran(pid)
                if ran is not None and ran == known.ran:
                    self._refeed(pid, known, events)  # it has not run: its stacks are as they were
                elif self._same_wait(pid, known, began):
                    known.ran = ran
                else:
                    moved.append((pid, known, ran))
        moved.sort(key=lambda m: m[1].read_ns)
        for pid, known, ran in moved[:READS_PER_ROUND]:
            if not self._stop.is_set():
                self._look(pid, known, events, starts, began, ran)
        self._tree_changed = False
        return starts + events

    @staticmethod
    def _same_wait(pid: int, known: Known, now: int) -> bool:
        """It ran, but every thread is back in the system call it was read waiting in."""
        if known.calls is None or now - known.read_ns > SAME_WAIT_NS:
            return False
        return procfs.calls(pid) == known.calls

    def _walk(self) -> None:
        """New processes of the tree: known, sampled, and soon read."""
        try:
            root = self._known[self.root].proc if self.root in self._known else psutil.Process(self.root)
            found = [root, *root.children(recursive=True)]
        except psutil.Error:
            return  # the root is gone: its exit is found below
        for proc in found:
            if proc.pid in self._known or proc.pid in self._helpers:
                continue
            if _helper(proc):
                # multiprocessing's own resource tracker and forkserver: not the program's processes
                # (a watched run never shows them either); the forkserver's children hang from its parent.
                self._helpers[proc.pid] = _ppid(proc)
                continue
            self._known[proc.pid] = Known(proc)
            self._track(proc.pid)
            self._tree_changed = True

    def _look(
        self,
        pid: int,
        known: Known,
        events: list[Event],
        starts: list[Event],
        began: int,
        ran: tuple[int, int] | None,
        req: int | None = None,
    ) -> None:
        """Read the process's stacks (``ran``: how long it had run, just before; ``req``: the request
        they answer, else one of the attachment's own); say what it does if that changed."""
        threads: list[pyspy.Thread] = []
        t = now_ns()
        if known.python:
            if req is None:
                self._req += 1
                req = self._req
            known.read_ns = t
            known.calls = procfs.calls(pid)
            try:
                threads = pyspy.dump(pid, self._exe, _cwd(known.proc))
            except pyspy.Unreadable as exc:
                if not _alive(known.proc):
                    return  # gone in between: its exit comes next round
                # An interpreter a moment old may not be readable yet: only an older one is not Python.
                known.python = str(exc) != "not a Python process" or _age(known.proc) < YOUNG_S
                known.calls = None  # not read: read again next round, wherever it waits
                events.append(pyspy.missing(pid, req, str(exc), t))
            else:
                known.ran = ran
                if known.calls is None and threads and not any(th.active for th in threads):
                    known.calls = procfs.calls(pid)  # it was waking as we looked; the stack says it waits again
        label = ""
        if not known.started:
            known.started = True
            event = _start(pid, known.proc, threads, pid == self.root, began)
            ppid = event.data.get("ppid")
            if ppid in self._helpers:  # started by the forkserver for its parent: the parent's child
                event.data["ppid"] = self._helpers[ppid]
            starts.append(event)
            known.named = pid == self.root or not known.python or bool(_target(threads))
        elif not known.named:
            label = _target(threads)
            known.named = bool(label)
        if not known.python and known.seen.get("kind") != FOREIGN:
            known.seen = {"kind": FOREIGN, "what": "", "site": ""}  # a shell, a C program it started
            events.append(Event(t, pid, "proc.seen", "", known.seen))
        if not threads:
            return
        waits = {th.stack.tid: procfs.waiting_on(pid, th.stack.tid) for th in threads if not th.active}
        events.extend(pyspy.records(pid, req or 0, threads, t, {tid: w.on for tid, w in waits.items()}))
        seen = self._seen(pid, known, threads, waits)
        if seen != known.seen or label:
            known.seen = seen
            events.append(Event(t, pid, "proc.seen", "", {**seen, "label": label} if label else seen))
        if label:
            # Its name at last: said again, the joins on it name it.
            for other, theirs in self._known.items():
                if theirs.seen.get("kind") == "join" and theirs.seen.get("child") == pid:
                    events.append(Event(t, other, "proc.seen", "", theirs.seen))

    def _seen(
        self, pid: int, known: Known, threads: list[pyspy.Thread], waits: dict[int, procfs.Waiting]
    ) -> dict[str, Any]:
        """What the main thread does, as a ``proc.seen`` record's data; the other threads in a list."""
        main, *others = threads
        data = _doing(main, waits.get(main.stack.tid, procfs.Waiting()))
        if data["kind"] == "join" and "child" not in data:
            children = [c.pid for c in _children(known.proc)]
            if len(children) == 1:  # a join with a timeout polls: its only child is the one
                data["child"] = children[0]
        if data["kind"] == "queue" and str(data.get("on", "")).startswith("pipe:"):
            data["feeders"] = self._feeders(pid, known, str(data["on"]))
        data["threads"] = [
            {"name": th.stack.name, **_doing(th, waits.get(th.stack.tid, procfs.Waiting()))} for th in others
        ]
        return data

    def _refeed(self, pid: int, known: Known, events: list[Event]) -> None:
        """A process still waiting on a queue, when the tree changed: its feeders found again."""
        on = str(known.seen.get("on", ""))
        if not self._tree_changed or known.seen.get("kind") != "queue" or not on.startswith("pipe:"):
            return
        feeders = self._feeders(pid, known, on)
        if feeders != known.seen.get("feeders"):
            known.seen = {**known.seen, "feeders": feeders}
            events.append(Event(now_ns(), pid, "proc.seen", "", known.seen))

    def _feeders(self, pid: int, known: Known, pipe: str) -> list[int]:
        """The live processes that could put into the queue read through ``pipe``: those holding its
        write end, other than the processes seen blocked getting from a queue themselves.  Found again
        only when the tree changed (a descriptor is held from birth; an exit the model sees itself)."""
        if self._tree_changed or pipe not in known.feeders:
            getting = {p for p, k in self._known.items() if k.seen.get("kind") == "queue" and p != pid}
            holders = procfs.writers(list(self._known), pipe)
            known.feeders[pipe] = sorted(p for p in holders if p not in getting and p != pid)
        return known.feeders[pipe]


def _doing(thread: pyspy.Thread, waiting: procfs.Waiting) -> dict[str, Any]:
    """What a thread does, from its stack and its system call: the fields of a ``proc.seen``."""
    inferred = infer(thread.stack)
    frame = inferred.frame if inferred is not None else user_frame(thread.stack.frames)
    data: dict[str, Any] = {"kind": "running", "what": "", "site": frame.site if frame else ""}
    if inferred is None:
        return data
    data["what"] = inferred.what
    if thread.active:
        # On a CPU: whatever the stack says it is in, it runs; in a function, not at a line
        # (which moves every second, and would say so every second).
        data["site"] = f"{os.path.basename(frame.file)} in {frame.function}" if frame else ""
        return data
    kind = "call" if inferred.kind == "thread" else inferred.kind
    if kind == "call" and waiting.on.startswith("sem:"):
        # lock.acquire() on a multiprocessing lock or semaphore calls C (SemLock.acquire): no frame of
        # multiprocessing.synchronize says it, the futex on the semaphore's /dev/shm file does.
        kind, data["what"] = "lock", LOCK_ACQUIRE
    data["kind"] = kind
    if kind == "join" and waiting.child is not None:
        data["child"] = waiting.child
    if kind in WAITS_ON_SOMETHING:
        data["on"] = waiting.on
        data["name"] = _variable(frame)
    return data


# ``q.get()``, ``self.lock.acquire()``, ``with lock:``: the variable a line waits on.
_RECEIVER = re.compile(r"([A-Za-z_][\w.]*)\.(?:get|put|recv|recv_bytes|send|acquire|wait|wait_for|join|poll)\b")
_WITH = re.compile(r"\bwith\s+([A-Za-z_][\w.]*)")


def _variable(frame: Frame | None) -> str:
    text = frame.text if frame is not None else ""
    found = _RECEIVER.search(text) or _WITH.search(text)
    return found.group(1) if found else ""


def _start(pid: int, proc: psutil.Process, threads: list[pyspy.Thread], root: bool, t: int) -> Event:
    """A process found: its ``proc.start``, named after its target (``consume``), else its command line."""
    try:
        ppid, argv, name = proc.ppid(), proc.cmdline(), proc.name()
    except psutil.Error:
        ppid, argv, name = None, [], f"pid {pid}"
    label = "" if root else _target(threads)
    label = label or _script(argv) or name
    return Event(t, pid, "proc.start", label, {"role": "main" if root else "process", "label": label, "ppid": ppid})


def _target(threads: list[pyspy.Thread]) -> str:
    """The function a multiprocessing child was started to run: the frame ``BaseProcess.run`` calls."""
    if not threads:
        return ""
    frames = threads[0].stack.frames
    found = ""
    # The innermost: a forked child's stack goes on below its parent's, which it was copied from;
    # "" while the innermost process is still starting (in its _bootstrap, not yet in run).
    for i, frame in enumerate(frames):
        if frame.file.endswith("multiprocessing/process.py"):
            method = frame.function.rpartition(".")[2]
            if method == "run" and i + 1 < len(frames):
                found = frames[i + 1].function.rpartition(".")[2]
            elif method == "_bootstrap":
                found = ""
    return found


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _helper(proc: psutil.Process) -> bool:
    """multiprocessing's resource tracker or forkserver (``python -c 'from multiprocessing.X import main…'``)."""
    try:
        argv = proc.cmdline()
    except psutil.Error:
        return False
    code = argv[argv.index("-c") + 1] if "-c" in argv[:-1] else ""
    return any(f"multiprocessing.{helper}" in code for helper in ("resource_tracker", "forkserver"))


def _ppid(proc: psutil.Process) -> int | None:
    try:
        return proc.ppid()
    except psutil.Error:
        return None


def _age(proc: psutil.Process) -> float:
    try:
        return time.time() - proc.create_time()
    except psutil.Error:
        return 0.0


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [c for c in proc.children() if _alive(c)]
    except psutil.Error:
        return []


def _cwd(proc: psutil.Process) -> str:
    try:
        return proc.cwd()
    except psutil.Error:
        return ""
