"""The reducer's shared steps: what the handlers of every kind of record do to the model.

The handlers are grouped by what they handle, each module filling the model's
table of record kinds (``state.HANDLERS``) as ``mpviz.model`` imports it:

* ``procs.py`` — processes: started, what they say, signals, samples, what
  they print, joins, sleeps, their end;
* ``locks.py`` — locks, rlocks, semaphores and conditions;
* ``queues.py`` — queues and pipes;
* ``events.py`` — events and barriers;
* ``pools.py`` — pools, and what a lesson's main part reports (``data.value``).

Here: a record's process and primitive found (or made), a process starting
and ending a wait, its state in words and its phase worked out again from
what is known; and the two handlers that are not a family's own: a
primitive's ``prim.new``, and the end of a wait that every waiting family
ends the same way.
"""

from __future__ import annotations

from mpviz.lang import T
from mpviz.model.state import STARTING_WORDS, Model, Phase, Prim, Proc, handles
from mpviz.model.timing import Activity, Durations
from mpviz.model.words import said
from mpviz.telemetry import Event

# A process's state in words, in the current language (the records stay English).
STATES = {
    "running": T("running", "运行中"),
    "holding": T("holding {names}", "持有 {names}"),
    "paused": T("paused ({words})", "已暂停({words})"),
}


def proc_of(model: Model, event: Event) -> Proc:
    """The record's process, made when it is the first record of it."""
    proc = model.procs.get(event.pid)
    if proc is None:
        t = event.t_ns
        proc = model.procs[event.pid] = Proc(event.pid, started_ns=t, since_ns=t, phase_since_ns=t)
        proc.history.append((event.t_ns, Phase.STARTING, str(STARTING_WORDS)))
        model.history_changes += 1
    return proc


def prim_of(model: Model, event: Event) -> Prim:
    """The record's primitive (marked changed), made when no ``prim.new`` came before it."""
    prim = model.prims.get(event.obj)
    if prim is None:
        # No prim.new seen (a recording from before ids, or a lost record):
        # the id is all the name there is.
        prim = model.add_prim(event.obj, event.obj, event.kind.partition(".")[0])
    model.dirty_prims.add(prim.id)
    return prim


@handles("prim.new")
def prim_new(model: Model, event: Event) -> None:
    if event.obj in model.prims:
        return
    d = event.data
    family = str(d.get("kind", ""))
    prim = model.add_prim(event.obj, str(d.get("name") or family or event.obj), family, str(d.get("site", "")))
    capacity = d.get("value")
    if family == "sem" and type(capacity) is int:
        prim.capacity = prim.value = capacity
    model.dirty_prims.add(prim.id)


# --- a process's state ------------------------------------------------------


def settle(model: Model, proc: Proc, t_ns: int) -> None:
    """Recompute a process's state in words and its phase from what is known."""
    if not proc.alive:
        return
    if proc.blocked:
        phase, words = Phase.BLOCKED, proc.blocked
    elif proc.holds:
        phase = Phase.HOLDING
        words = _said(proc) or STATES["holding"](names=", ".join(f"'{model.prim_name(i)}'" for i in proc.holds))
    else:
        phase, words = Phase.RUNNING, _said(proc) or proc.seen or str(STATES["running"])
    if proc.stopped:
        phase, words = Phase.STOPPED, STATES["paused"](words=words)
    set_state(model, proc, t_ns, phase, words)
    proc.split.move(_activity(model, proc), t_ns)


def _activity(model: Model, proc: Proc) -> Activity:
    """What the process spends this stretch of its time on (see ``TimeSplit``)."""
    if proc.stopped:
        return Activity.OTHER
    if proc.blocked:
        prim = model.prims.get(proc.waiting_on or "")
        family = prim.family if prim is not None else ""
        if family in ("lock", "rlock", "sem", "cond"):
            return Activity.LOCK
        if family in ("queue", "pipe"):
            return Activity.QUEUE
        if family == "event":
            return Activity.EVENT
        return Activity.OTHER  # joining a process, at a barrier
    if proc.holds:
        return Activity.HOLDING
    if proc.sleeping:
        return Activity.SLEEPING
    return Activity.RUNNING


def _said(proc: Proc) -> str:
    """What the process last said, in words of the current language ("" if nothing)."""
    if not proc.said:
        return ""
    fact = proc.facts.get(proc.said)
    return said(proc.said, fact.last if fact else {})


def set_state(model: Model, proc: Proc, t_ns: int, phase: Phase, words: str) -> None:
    model.dirty_procs.add(proc.pid)
    if phase is proc.phase and words == proc.state:
        return
    if phase is not proc.phase:
        proc.totals[proc.phase] = proc.totals.get(proc.phase, 0) + max(0, t_ns - proc.phase_since_ns)
        proc.phase, proc.phase_since_ns = phase, t_ns
    if words != proc.state:
        proc.state, proc.since_ns = words, t_ns
    proc.history.append((t_ns, phase, words))
    model.history_changes += 1


def block(model: Model, event: Event, words: str) -> Proc:
    """The record's process is blocked on the record's primitive, in these words."""
    proc = proc_of(model, event)
    proc.blocked, proc.waiting_on = words, event.obj
    settle(model, proc, event.t_ns)
    return proc


def unblock(model: Model, event: Event) -> Proc:
    proc = proc_of(model, event)
    proc.blocked, proc.waiting_on = "", None
    settle(model, proc, event.t_ns)
    return proc


# --- waits ------------------------------------------------------------------


def start_waiting(prim: Prim, waiting: dict[int, int], event: Event) -> None:
    """A process starts waiting on ``prim`` (in one of its tables: waiters, blocked getters or putters)."""
    waiting.setdefault(event.pid, event.t_ns)
    timing = prim.timing
    timing.most_waiting = max(timing.most_waiting, len(prim.waiters) + len(prim.blocked_get) + len(prim.blocked_put))


def stop_waiting(waiting: dict[int, int], pid: int, t_ns: int, durations: Durations) -> bool:
    """A process stops waiting (or holding): how long it did goes into ``durations``.  False if it was not."""
    since = waiting.pop(pid, None)
    if since is None:
        return False
    durations.add(t_ns - since)
    return True


def done_waiting(model: Model, event: Event) -> None:
    """A process no longer waits on a lock, a semaphore, a condition, an event or a barrier: it
    woke or gave up.  How long it waited goes into the primitive's figures.

    The handler of the waits that end with nothing else to record (a timeout, a
    condition's wake); ``locks.py`` and ``events.py`` register it for those kinds.
    """
    prim = prim_of(model, event)
    stop_waiting(prim.waiters, event.pid, event.t_ns, prim.timing.waited)
    unblock(model, event)
