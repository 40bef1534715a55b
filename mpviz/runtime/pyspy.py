"""A running Python process's stacks, read from outside with py-spy, as ``proc.stack`` records.

``py-spy dump --pid P --json --nonblocking`` reads every thread's stack out
of the process's memory without stopping it (``--nonblocking``: no ptrace
stop, so the program never pauses; a stack read while its thread runs may be
a moment old, which a thread that waits never is).  py-spy is chosen over
pystack (which stops the process to read it) and austin (a sampler, with no
one-shot dump): it is maintained, on PyPI as a static binary, reads every
CPython from 2.7 to 3.13, and says for each thread whether it is on a CPU.

Its JSON, one object per thread, innermost frame first::

    [{"pid", "thread_id", "os_thread_id", "thread_name", "active", "owns_gil",
      "frames": [{"name": "Queue.get", "filename", "short_filename", "line", "locals", …}]}]

becomes the records of :mod:`mpviz.model.stacks`, frames outermost first,
each with its source line read here (the files are on this machine).
"""

from __future__ import annotations

import json
import linecache
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

from mpviz.model.stacks import Frame, ThreadStack
from mpviz.telemetry import Event

# A dump takes a few milliseconds; one that hangs is given up on.
DUMP_TIMEOUT_S = 10.0
INSTALL = "py-spy is not installed: pip install 'mpviz[attach]'"


class Unreadable(Exception):
    """The stacks could not be read; the message says why, in a few words."""


class Thread(NamedTuple):
    stack: ThreadStack
    active: bool  # on a CPU (py-spy's "active"), not waiting


def executable() -> str | None:
    """py-spy: the one installed beside this interpreter (mpviz's own environment), else on the PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("py-spy")


def dump(pid: int, exe: str, cwd: str = "") -> list[Thread]:
    """Every thread's stack, the main thread first; Unreadable with the reason otherwise.

    ``cwd`` is the process's directory, for source files named relative to it."""
    try:
        done = subprocess.run(
            [exe, "dump", "--pid", str(pid), "--json", "--nonblocking"],
            capture_output=True,
            text=True,
            timeout=DUMP_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise Unreadable("py-spy took too long") from None
    except OSError as exc:
        raise Unreadable(f"cannot run py-spy: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise Unreadable(why(done.stderr))
    try:
        found = json.loads(done.stdout)
    except ValueError:
        raise Unreadable("py-spy said something that is not JSON") from None
    if not isinstance(found, list):
        raise Unreadable("py-spy said something that is not a list of threads")
    threads = [_thread(t, cwd) for t in found if isinstance(t, dict)]
    threads.sort(key=lambda t: t.stack.tid != pid)  # the main thread's id is the process's
    return threads


def why(stderr: str) -> str:
    """py-spy's error in a few words."""
    text = stderr.lower()
    if "python version" in text or "not a python" in text or "python interpreter" in text:
        return "not a Python process"
    if "permission denied" in text or "operation not permitted" in text:
        return "no permission to read it"
    if "no such file" in text or "no such process" in text or "check that the process is running" in text:
        return "it has ended"
    first = next((line.strip() for line in stderr.splitlines() if line.strip()), "py-spy failed")
    return first.removeprefix("Error: ")[:120]


def _thread(raw: dict[str, Any], cwd: str) -> Thread:
    frames = []
    for f in reversed(raw.get("frames") or []):
        if not isinstance(f, dict):
            continue
        file = str(f.get("filename") or "?")
        line = f["line"] if type(f.get("line")) is int else 0
        frames.append(Frame(file, line, str(f.get("name") or "?"), _source(file, line, cwd)))
    tid = raw.get("os_thread_id") or raw.get("thread_id") or 0
    stack = ThreadStack(int(tid), str(raw.get("thread_name") or ""), tuple(frames))
    return Thread(stack, bool(raw.get("active")))


def _source(file: str, line: int, cwd: str) -> str:
    """The line of source, stripped; "" if the file cannot be read here."""
    if line <= 0 or file.startswith("<"):
        return ""
    path = file if os.path.isabs(file) or not cwd else os.path.join(cwd, file)
    return linecache.getline(path, line).strip()


def records(pid: int, req: int, threads: list[Thread], t_ns: int, on: dict[int, str]) -> list[Event]:
    """The dump as ``proc.stack`` records, one a thread (``on``: what each waiting thread's system
    call waits on), ended by ``proc.stacks``."""
    out = []
    for thread in threads:
        stack = thread.stack
        data: dict[str, Any] = {
            "req": req,
            "tid": stack.tid,
            "name": stack.name,
            "frames": [list(frame) for frame in stack.frames],
            "call": "",
            "by": "py-spy",
            "active": thread.active,
        }
        if on.get(stack.tid):
            data["on"] = on[stack.tid]
        out.append(Event(t_ns, pid, "proc.stack", stack.name, data))
    out.append(Event(t_ns, pid, "proc.stacks", "", {"req": req, "threads": len(threads)}))
    return out


def missing(pid: int, req: int, reason: str, t_ns: int) -> Event:
    """The end of a request that read no stack, and why."""
    return Event(t_ns, pid, "proc.stacks", "", {"req": req, "missing": reason})
