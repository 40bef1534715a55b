"""What /proc says about a process seen from outside: what a waiting thread's system call waits on,
which processes hold a pipe's write end, whether a process ran at all, how one ended, and the
rights to read it.

A stack says *that* a thread waits in ``Queue.get``; the system call it is
in says *on what*: ``read`` on a pipe (the queue's), ``wait4`` for a pid
(the child a join waits for), ``futex`` on a word of a ``/dev/shm/sem.*``
mapping (a multiprocessing semaphore, the same file in every process that
shares it).  ``/proc/PID/task/TID/syscall`` needs the same rights as
reading the process's memory, which attaching needs anyway.
"""

from __future__ import annotations

import contextlib
import os
import platform
import pwd
import signal
from typing import NamedTuple

from mpviz.runtime.guardian import stat_fields

# System call numbers, by machine: only those a thread waiting in multiprocessing sits in.
SYSCALLS = {
    "x86_64": {0: "read", 61: "wait4", 202: "futex"},
    "aarch64": {63: "read", 260: "wait4", 98: "futex"},
}
_CALLS = SYSCALLS.get(platform.machine(), {})
CAP_SYS_PTRACE = 19
O_ACCMODE, O_WRONLY = 0o3, 0o1


class Waiting(NamedTuple):
    """What a thread's system call waits on: ``on`` ("pipe:[123]", "sem:[45]"), or the ``child`` a wait4 waits for."""

    on: str = ""
    child: int | None = None


def waiting_on(pid: int, tid: int) -> Waiting:
    """What thread ``tid`` of ``pid`` waits on in its system call (nothing known: empty)."""
    try:
        with open(f"/proc/{pid}/task/{tid}/syscall") as f:
            fields = f.read().split()
    except OSError:
        return Waiting()
    if not fields or not fields[0].isdigit() or len(fields) < 3:
        return Waiting()  # "running", or blocked outside a system call
    call, first = _CALLS.get(int(fields[0])), int(fields[1], 16)
    if call == "wait4" and 0 < first < 2**31:
        return Waiting(child=first)
    if call == "read":
        return Waiting(on=_fd(pid, first))
    if call == "futex":
        return Waiting(on=_semaphore(pid, first))
    return Waiting()


def _fd(pid: int, fd: int) -> str:
    """What a descriptor is: ``pipe:[123]``, ``socket:[45]`` (a file's path is not a wait of the program's)."""
    try:
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return ""
    return target if target.startswith(("pipe:", "socket:")) else ""


def _semaphore(pid: int, address: int) -> str:
    """The multiprocessing semaphore a futex word belongs to, as ``sem:[inode]`` of its ``/dev/shm`` file."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                fields = line.split(maxsplit=5)
                start, _, end = fields[0].partition("-")
                if int(start, 16) <= address < int(end, 16):
                    path = fields[5].strip() if len(fields) > 5 else ""
                    return f"sem:[{fields[4]}]" if path.startswith("/dev/shm/sem.") else ""
    except (OSError, ValueError, IndexError):
        pass
    return ""


def writers(pids: list[int], pipe: str) -> list[int]:
    """The processes among ``pids`` that hold the write end of ``pipe`` ("pipe:[123]")."""
    found = []
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == pipe and _writes(pid, fd):
                        found.append(pid)
                        break
    return found


def _writes(pid: int, fd: str) -> bool:
    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
        for line in f:
            if line.startswith("flags:"):
                return int(line.split()[1], 8) & O_ACCMODE == O_WRONLY
    return False


def ran(pid: int) -> tuple[int, int] | None:
    """How long every thread of ``pid`` has run (ns) and how many there are: equal twice, the
    process has not run in between, so its stacks are as they were.  None: unknown."""
    total = count = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
                count += 1
    except (OSError, ValueError, IndexError):
        return None
    return (total, count) if count else None


def calls(pid: int) -> tuple[tuple[str, str, str], ...] | None:
    """Where each thread of ``pid`` waits: its id, its system call and that call's first argument
    (a descriptor, a futex word, a child).  None if a thread is not waiting in a system call."""
    found = []
    try:
        for tid in sorted(os.listdir(f"/proc/{pid}/task")):
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                fields = f.read().split()
            if len(fields) < 2 or not fields[0].isdigit():
                return None  # running, or stopped outside a system call
            found.append((tid, fields[0], fields[1]))
    except OSError:
        return None
    return tuple(found)


# --- the rights to attach -------------------------------------------------------------------


def readable(pid: int) -> bool:
    """Whether this process may read ``pid``'s memory (what py-spy does): ptrace's own check."""
    try:
        with open(f"/proc/{pid}/mem", "rb"):
            return True
    except PermissionError:
        return False
    except OSError:
        return True  # gone, or no /proc: not a question of rights


def ptrace_scope() -> int | None:
    """Yama's ``kernel.yama.ptrace_scope`` (None: no Yama)."""
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def can_ptrace_anyone() -> bool:
    """Whether this process has CAP_SYS_PTRACE (root in a container may not)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_PTRACE & 1)
    except (OSError, ValueError):
        pass
    return False


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def rights_problem(pid: int, name: str, their_uid: int, our_uid: int, scope: int | None, cap: bool) -> str:
    """Why this process may not read ``pid`` (called once reading it failed), and how to get the rights."""
    who = f"pid {pid} ({name})"
    if scope == 3:
        return f"cannot attach to {who}: ptrace is switched off on this machine (kernel.yama.ptrace_scope = 3) until it restarts"
    if our_uid == 0 and not cap:
        return (
            f"cannot attach to {who}: mpviz runs as root without CAP_SYS_PTRACE "
            "(in a container: start it with --cap-add SYS_PTRACE)"
        )
    if their_uid != our_uid and not cap:
        owner = user_name(their_uid)
        return f"cannot attach to {who}: it belongs to {owner}; attach as {owner} (sudo -u {owner} mpviz attach {pid}) or with sudo"
    if scope == 2 and not cap:
        return f"cannot attach to {who}: only root may (kernel.yama.ptrace_scope = 2); attach with sudo"
    if scope == 1 and not cap:
        return (
            f"cannot attach to {who}: only its parent may (kernel.yama.ptrace_scope = 1); attach with sudo, "
            "or allow it with: sudo sysctl kernel.yama.ptrace_scope=0"
        )
    how = "" if our_uid == 0 else "; attach with sudo"  # root already: sudo would change nothing
    return f"cannot attach to {who}: it cannot be read (it changed its user, or is not dumpable){how}"


def running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has)."""
    fields = stat_fields(pid)
    return bool(fields) and fields[0] not in (b"Z", b"X")


def exit_of(fields: list[bytes]) -> dict[str, object]:
    """A ``proc.exit`` record's data for a process that ended without saying so (``os._exit``, a
    signal), from its stat's ``fields``: its code, while it is a zombie (field 52, as ``waitpid``
    gives it, which its parent has not yet taken); None once its parent has reaped it."""
    if len(fields) < 50 or fields[0] != b"Z" or not fields[49].isdigit():
        return {"code": None}
    code = os.waitstatus_to_exitcode(int(fields[49]))
    if code >= 0:
        return {"code": code}
    try:
        return {"code": code, "signal": signal.Signals(-code).name}
    except ValueError:
        return {"code": code, "signal": f"signal {-code}"}
