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

from mpviz.lang import T, current, word
from mpviz.model.actors import STARTING_WORDS, Actor, Phase, Proc, Site, Thread
from mpviz.model.prims import Prim
from mpviz.model.state import Model, handles
from mpviz.model.timing import Activity, Durations
from mpviz.model.words import said, timed, timeout_of
from mpviz.telemetry import Event

# A process's state in words, in the current language (the records stay English).
# Records that say nothing of what the process does now: after them, what its last stack said still holds.
NOT_ACTS = frozenset(
    {
        "proc.stats",
        "proc.stack",
        "proc.stacks",
        "site.new",
        "proc.thread",
        "proc.thread_end",
        "proc.lost",
        "proc.spawn",
        "prim.new",
        "proc.seen",  # an attached process's state read off the stacks that came with it: they still hold
        "data.value",  # what a lesson's main sees of the lesson's data (the ticket file): it does not act on it
    }
)

STATES = {
    "running": T("running", "运行中"),
    "sleeping": T("sleeping", "睡眠中"),
    "holding": T("holding {names}", "持有 {names}"),
    "holding_in": T("holding {names}, {elsewhere}", "持有 {names},{elsewhere}"),
    "paused": T("paused ({words})", "已暂停({words})"),
    "at": T("{words} at {where}", "{words}({where})"),
    "turn": T("waits its turn: {doing}", "等轮到它:{doing}"),
}
# The longest a thread's name is kept.
NAME_CHARS = 60
# The most sets of held primitives whose words are kept (see ``_holding``).
HOLDING_WORDS_KEPT = 1000


def proc_of(model: Model, event: Event) -> Proc:
    """The record's process, made when it is the first record of it.

    A record of what it does makes what its last stack said out of date."""
    proc = model.procs.get(event.pid)
    if proc is None:
        t = event.t_ns
        proc = model.procs[event.pid] = Proc(event.pid, started_ns=t, since_ns=t, phase_since_ns=t)
        proc.history.append((event.t_ns, Phase.STARTING, str(STARTING_WORDS)))
        model.history_changes += 1
    if event.kind not in NOT_ACTS:
        proc.acted_ns = event.t_ns
        if proc.elsewhere and actor_id(event) == event.pid:
            proc.elsewhere, proc.elsewhere_sleeps, proc.elsewhere_outside = "", False, False
    return proc


def actor_id(event: Event) -> int:
    """Who made the record: its thread (``th``, a native thread id), or the process's main thread (its pid)."""
    th = event.data.get("th")
    return th if type(th) is int and th > 0 else event.pid


def actor_of(model: Model, event: Event) -> Actor:
    """The record's actor: its process (its main thread), or another of its threads, made if new."""
    aid = actor_id(event)
    proc = proc_of(model, event)
    if aid == event.pid:
        return proc
    thread = proc.threads.get(aid)
    if thread is None:
        thread = proc.threads[aid] = Thread(aid, proc.pid, since_ns=event.t_ns)
        model.thread_pid[aid] = proc.pid
    if thread.elsewhere and event.kind not in NOT_ACTS:
        thread.elsewhere, thread.elsewhere_sleeps, thread.elsewhere_outside = "", False, False
    return thread


@handles("proc.thread")
def proc_thread(model: Model, event: Event) -> None:
    """A thread's name, said before its first operation."""
    thread = actor_of(model, event)
    if isinstance(thread, Thread):
        thread.name = model.thread_names[thread.tid] = event.obj[:NAME_CHARS]
        model.dirty_procs.add(event.pid)


@handles("proc.thread_end")
def proc_thread_end(model: Model, event: Event) -> None:
    """A thread ended: forgotten, unless it holds something (held for ever, as by a dead process)."""
    proc = model.procs.get(event.pid)
    thread = proc.threads.get(actor_id(event)) if proc is not None else None
    if thread is None or proc is None:
        return
    if thread.holds:
        thread.ended = True
        thread.blocked, thread.waiting_on, thread.at, thread.gives_up_ns = "", None, "", None
        settle(model, thread, event.t_ns)
    else:
        del proc.threads[thread.tid]
    model.dirty_procs.add(proc.pid)


@handles("site.new")
def site_new(model: Model, event: Event) -> None:
    d = event.data
    line = d.get("line")
    model.forget_where(event.obj)
    model.sites[event.obj] = Site(
        str(d.get("file", "")), line if type(line) is int else 0, str(d.get("func", "")), str(d.get("text", ""))
    )


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
    d = event.data
    family = str(d.get("kind", ""))
    name, site = str(d.get("name") or family or event.obj), str(d.get("site", ""))
    prim = model.prims.get(event.obj)
    if prim is not None:
        if prim.name == prim.id:  # made by an earlier record, named by its id until now
            model.name_prim(prim, name, family, site)
            prim.maker = event.pid
            model.dirty_prims.add(prim.id)
        return
    # A forked child's copy of a threading lock (``copy_of``): a lock of its own, called as the
    # program calls it (each process's copy is the one it means by that name).
    prim = model.add_prim(event.obj, name, family, site, copy=bool(d.get("copy_of")))
    prim.maker = event.pid
    prim.block = str(d.get("block", ""))
    if family in ("value", "array"):
        prim.guard = str(d.get("lock", ""))
    capacity = d.get("value")
    if family == "sem" and type(capacity) is int:
        prim.capacity = prim.value = capacity
    model.dirty_prims.add(prim.id)


# --- a process's state ------------------------------------------------------


# The members a state is worked out with, bound once: a member looked up on its Enum costs 70 ns
# in Python 3.11 (a descriptor's call), a name of the module 5, and settle runs for nearly every record.
_STOPPED, _BLOCKED, _HOLDING, _SLEEPING, _RUNNING = (
    Phase.STOPPED,
    Phase.BLOCKED,
    Phase.HOLDING,
    Phase.SLEEPING,
    Phase.RUNNING,
)
_DOING_OTHER, _DOING_LOCK, _DOING_QUEUE, _DOING_EVENT = Activity.OTHER, Activity.LOCK, Activity.QUEUE, Activity.EVENT
_DOING_HOLDING, _DOING_SLEEPING, _DOING_ELSEWHERE, _DOING_RUNNING = (
    Activity.HOLDING,
    Activity.SLEEPING,
    Activity.ELSEWHERE,
    Activity.RUNNING,
)


def settle(model: Model, actor: Actor, t_ns: int) -> None:
    """Recompute a process's (or a thread's) state in words and its phase from what is known."""
    if isinstance(actor, Thread):
        _settle_thread(model, actor, t_ns)
        return
    proc = actor
    if proc.exited_ns is not None:  # not alive
        return
    if proc.turn:  # a scheduled run holds it at a point: as good as paused
        phase, words = _STOPPED, STATES["turn"](doing=proc.turn)
    elif proc.blocked:
        phase, words = _BLOCKED, _waits(model, proc)
    elif proc.holds:
        phase, words = _HOLDING, _holding(model, proc) if proc.elsewhere else _said(proc) or _holding(model, proc)
    elif proc.elsewhere:
        phase, words = (_SLEEPING if proc.elsewhere_sleeps else _BLOCKED), proc.elsewhere
    elif proc.sleeping:
        phase, words = _SLEEPING, _said(proc) or _where(model, proc, str(STATES["sleeping"]))
    else:
        phase, words = _RUNNING, _said(proc) or proc.seen or str(STATES["running"])
    if proc.stopped:
        phase, words = _STOPPED, STATES["paused"](words=words)
    # (Nearly every record of a busy process leaves its state and its activity as they were: then
    # neither set_state nor TimeSplit.move is called, each of their first steps written out here.)
    if phase is proc.phase and words == proc.state:
        model.dirty_procs.add(proc.pid)
    else:
        set_state(model, proc, t_ns, phase, words)
    doing = activity(model, proc)
    split = proc.split
    if doing is not split.activity:
        split.move(doing, t_ns)


def _settle_thread(model: Model, thread: Thread, t_ns: int) -> None:
    """A thread's state: what it waits for, or what it holds (a thread that does neither is not shown)."""
    if thread.turn:
        phase, words = _STOPPED, STATES["turn"](doing=thread.turn)
    elif thread.blocked:
        phase, words = _BLOCKED, _waits(model, thread)
    elif thread.holds:
        phase, words = _HOLDING, _holding(model, thread)
    elif thread.elsewhere:
        phase, words = (_SLEEPING if thread.elsewhere_sleeps else _BLOCKED), thread.elsewhere
    elif thread.sleeping:
        phase, words = _SLEEPING, _where(model, thread, str(STATES["sleeping"]))
    else:
        phase, words = _RUNNING, str(STATES["running"])
    if (phase, words) != (thread.phase, thread.state):
        thread.phase, thread.state, thread.since_ns = phase, words, t_ns
    model.dirty_procs.add(thread.pid)


def _holding(model: Model, actor: Proc | Thread) -> str:
    """What it holds, and (by its last stack) the call it waits in while it holds them.

    (What it holds alone is made once for a set of primitives in a language, kept on the model:
    every acquire and every release says it again.  The model forgets them when a primitive is
    made or named anew.)"""
    if actor.elsewhere:
        return STATES["holding_in"](names=model.quoted_names(actor.holds), elsewhere=actor.elsewhere)
    key = (current(), *actor.holds)
    words = model.holding_words.get(key)
    if words is None:
        if len(model.holding_words) >= HOLDING_WORDS_KEPT:
            model.holding_words.clear()
        words = model.holding_words[key] = STATES["holding"](names=model.quoted_names(actor.holds))
    return words


def activity(model: Model, proc: Proc) -> Activity:
    """What the process spends this stretch of its time on (see ``TimeSplit``)."""
    if proc.stopped or proc.turn:
        return _DOING_OTHER
    if proc.blocked:
        prim = model.prims.get(proc.waiting_on or "")
        family = prim.family if prim is not None else ""
        if family in ("lock", "rlock", "sem", "cond"):
            return _DOING_LOCK
        if family in ("queue", "pipe"):
            return _DOING_QUEUE
        if family == "event":
            return _DOING_EVENT
        return _DOING_OTHER  # joining a process, at a barrier
    if proc.holds:
        return _DOING_HOLDING
    if proc.sleeping or proc.elsewhere_sleeps:
        return _DOING_SLEEPING
    if proc.elsewhere:
        return _DOING_ELSEWHERE
    return _DOING_RUNNING


def _said(proc: Proc) -> str:
    """What the process last said, in words of the current language ("" if nothing)."""
    state = proc.said
    if not state:
        return ""
    text = word(state)
    if "{" not in text:  # (said's answer, without its calls: words that name no data, the usual)
        return text
    fact = proc.facts.get(state)
    return said(state, fact.last if fact else {})


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


def block(model: Model, event: Event, words: str) -> Actor:
    """The record's actor (its process, or a thread of it) is blocked on the record's primitive,
    in these words and where the record says (``at``); until its timeout, if the record says one."""
    actor = actor_of(model, event)
    at = event.data.get("at")
    actor.at = at if isinstance(at, str) else ""
    timeout = timeout_of(event)
    if timeout is None:
        actor.gives_up_ns = None
    else:
        actor.gives_up_ns = event.t_ns + int(timeout * 1e9)
        words = timed(words, timeout)
    actor.blocked, actor.waiting_on = words, event.obj
    settle(model, actor, event.t_ns)
    return actor


def _waits(model: Model, actor: Actor) -> str:
    """What it is blocked on, and where (``blocked on get from 'inbox' at consumer.py:8 in consume``)."""
    return _where(model, actor, actor.blocked)


def _where(model: Model, actor: Actor, words: str) -> str:
    where = model.where(actor.at)
    return STATES["at"](words=words, where=where) if where else words


def unblock(model: Model, event: Event) -> Actor:
    actor = actor_of(model, event)
    actor.blocked, actor.waiting_on, actor.at, actor.gives_up_ns = "", None, "", None
    settle(model, actor, event.t_ns)
    return actor


# --- waits ------------------------------------------------------------------


def start_waiting(prim: Prim, waiting: dict[int, int], event: Event) -> None:
    """An actor starts waiting on ``prim`` (in one of its tables: waiters, blocked getters or putters)."""
    waiting.setdefault(actor_id(event), event.t_ns)
    at = event.data.get("at")
    if isinstance(at, str):
        prim.wait_sites[at] += 1
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
    stop_waiting(prim.waiters, actor_id(event), event.t_ns, prim.timing.waited)
    unblock(model, event)
