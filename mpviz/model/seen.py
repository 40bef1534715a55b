"""The handler of what a process is seen doing from outside: an attached program's ``proc.seen``.

A program mpviz attaches to reports nothing; the attachment reads each
process's Python stacks (``proc.stack``) and says, when it changes, what the
main thread is doing (``proc.seen``, see :mod:`mpviz.runtime.attach`):

    data = {"kind": "queue" | "lock" | "cond" | "event" | "pipe" | "join" | "sleep" | "running" | …
            (the kinds of ``model.stacks.infer``, "running" for a thread on a CPU, "foreign"
            for a process that is not Python),
            "what": "multiprocessing Queue.get", "site": "consumer.py:9 in consume",
            "on": what its system call waits on ("pipe:[1234]", "sem:[99]"; "" if unknown),
            "name": the variable its line waits on ("q"), "child": the pid a join waits for,
            "feeders": the live processes that hold a queue's write end (queue waits),
            "threads": its other threads, each {"name", "kind", "what", "site", …} as above,
            "label": its name, once known, when its proc.start could not say it yet (a spawned
                     child read while still importing the main module)}

A wait on a lock, condition, event, queue or pipe puts the process among the
waiters of a primitive *seen from outside* (``Prim.outside``), one per thing
its system call waits on: who waits is known, who holds it is not.  A join
waits for a process, as a watched join does; a sleep or a socket call waits
for nothing of the program's (``Proc.elsewhere``, as a watched process's
stack says), so it never counts towards a hang.  Such a process's own
stacks (``proc.stacks``) are kept for the stack view, never read for its
state a second time: this record has read them, with its system calls.
"""

from __future__ import annotations

from mpviz.model.actors import Proc
from mpviz.model.prims import Prim
from mpviz.model.reducer import proc_of, settle, start_waiting, stop_waiting
from mpviz.model.state import Model, handles
from mpviz.model.words import FAMILY_WORDS, seen
from mpviz.telemetry import Event

# The kinds of wait that are a primitive of the program, and its family.
FAMILIES = {"lock": "lock", "cond": "cond", "event": "event", "queue": "queue", "pipe": "pipe"}


@handles("proc.seen")
def proc_seen(model: Model, event: Event) -> None:
    proc = proc_of(model, event)
    if not proc.alive:
        return
    proc.outside = True
    d = event.data
    label = d.get("label")
    if isinstance(label, str) and label:
        proc.label = label
    kind = str(d.get("kind", ""))
    child = d.get("child") if type(d.get("child")) is int else None
    # The same join seen again (its child named at last): it has waited since it began.
    same_join = kind == "join" and child is not None and proc.waiting_on == f"pid {child}"
    since = proc.since_ns
    words = seen(d, model.name_of(child) if child is not None and child in model.procs else "")
    prim = _prim(model, kind, d) if kind in FAMILIES else None
    if prim is None or proc.waiting_on != prim.id:
        _let_go(model, proc, event.t_ns)  # seen again in the same wait, it goes on waiting since it began
    # Running, or not Python (whatever it does, its stack cannot say: not a wait, never part of a hang).
    proc.seen = words if kind in ("running", "foreign") else ""
    proc.blocked, proc.waiting_on = "", None
    proc.elsewhere, proc.elsewhere_sleeps, proc.elsewhere_outside = "", False, False
    if kind == "join" and child is not None:
        proc.blocked, proc.waiting_on = words, f"pid {child}"  # a process, as a watched join: see Proc.waiting_on
    elif prim is not None:
        proc.blocked, proc.waiting_on = words, prim.id
        start_waiting(prim, _table(prim, d), event)
        feeders = d.get("feeders")
        if prim.family == "queue" and isinstance(feeders, list):
            prim.putters.update(pid for pid in feeders if type(pid) is int and pid != proc.pid)
            prim.feeders_known = True  # none at all: nobody but its getters can ever put
    elif kind not in ("running", "foreign"):
        # A sleep, or a wait on nothing of the program's (a socket, a C call): as a watched process's
        # stack says it waits "elsewhere", never counted towards a hang.
        proc.elsewhere, proc.elsewhere_sleeps = words, kind == "sleep"
    threads = d.get("threads")
    proc.seen_threads = tuple(_thread(t) for t in threads if isinstance(t, dict)) if isinstance(threads, list) else ()
    settle(model, proc, event.t_ns)
    if same_join:
        proc.since_ns = since


def _thread(data: dict) -> str:
    """Another thread of the process, in words: ``QueueFeederThread: waiting in threading wait``."""
    return f"{data.get('name') or '?'}: {seen(data)}"


def _prim(model: Model, kind: str, d: dict) -> Prim:
    """The primitive the wait is on: one per thing the system call waits on (a pipe, a semaphore),
    else one per line of the program that waits."""
    on = str(d.get("on") or "")
    prim_id = "seen " + (on or f"{kind} at {d.get('site', '')}")
    prim = model.prims.get(prim_id)
    if prim is None:
        family = FAMILIES[kind]
        prim = model.add_prim(prim_id, str(d.get("name") or FAMILY_WORDS[family].en), family, on)
        prim.outside = True
    model.dirty_prims.add(prim.id)
    return prim


def _table(prim: Prim, d: dict) -> dict[int, int]:
    """Where a waiter of this primitive goes: a queue's getters or putters, a pipe's receivers, or its waiters."""
    if prim.family == "queue":
        return prim.blocked_put if str(d.get("what", "")).endswith("put") else prim.blocked_get
    if prim.family == "pipe":
        return prim.blocked_get
    return prim.waiters


def _let_go(model: Model, proc: Proc, t_ns: int) -> None:
    """The process no longer waits where it was last seen waiting."""
    prim = model.prims.get(proc.waiting_on or "")
    if prim is None or not prim.outside:
        return
    timing = prim.timing
    for waiting, durations in (
        (prim.waiters, timing.waited),
        (prim.blocked_get, timing.get_blocked),
        (prim.blocked_put, timing.put_blocked),
    ):
        stop_waiting(waiting, proc.pid, t_ns, durations)
    model.dirty_prims.add(prim.id)
