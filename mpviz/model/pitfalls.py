"""The traps of the multiprocessing docs' "Programming guidelines", named when a run falls into one.

Each is named with the line (the site) that made it, who, one sentence of
why, the fix, and the name of the docs' section, so that a user who has never
read the guidelines finds the right one:

* ``feeder`` — joining a process whose queue still holds items it put: its
  feeder thread cannot end, so neither can it (*Joining processes that use
  queues*); the only pitfall that is an error: the join never returns;
* ``main_guard`` — starting processes from a main module without
  ``if __name__ == "__main__":`` under spawn or forkserver (*Safe importing of
  main module*);
* ``pickle`` — a target or an argument that cannot be pickled under spawn
  or forkserver (*Picklability*);
* ``terminated`` — ``terminate()`` or ``kill()`` of a process that holds a
  lock or is putting into or getting from a queue (*Avoid terminating
  processes*);
* ``zombie`` — a child that ended and was not joined while its parent runs
  on (*Joining zombie processes*);
* ``shm`` — shared memory made and never unlinked (*shared_memory*);
* ``pool_results`` — a pool terminated with results nobody fetched, and
  ``pool_stuck`` — a pool's task that never returns while the others did
  (*Process Pools*);
* ``pool_init`` — a pool whose workers die in their initializer: the pool
  starts new ones for ever, and no task is ever done (*Process Pools*);
* ``callback`` — a pool's callback that raised: it ended the pool's
  result-handler thread, and no result of the pool comes back after it
  (*Process Pools*);
* ``barrier`` — a barrier's party that ended (an error, a signal) before
  reaching it, while the others wait there with no timeout, for ever
  (*multiprocessing.Barrier*): named with a hang, when nobody else can come;
* ``proxy_copy`` — a list or a dict got from a manager's dict or list
  (``d[k]``) and changed at once (``d[k].append(x)``): the change is made to
  a copy, and lost (*Proxy Objects*);
* ``daemon`` — a daemonic process that tries to start children
  (*Process.daemon*);
* ``fork_held`` — a process forked while another of its parent's threads held a
  ``threading`` lock: the child's copy stays held, and no thread of the child
  can release it (*Contexts and start methods*);
* ``unguarded`` — a Value (or an Array's item) read and then written outside
  its ``get_lock()`` by two processes or more: ``v.value += 1`` loses updates
  (*multiprocessing.Value*).

Some a process says itself, when it falls into one (this module's handlers); the others are judged
from the model alone, at a time ``now_ns``, like the anomalies (:mod:`.pitfalls_found`).  Their
words are in :mod:`.pitfall_words`.
"""

from __future__ import annotations

from mpviz.model.actors import Proc
from mpviz.model.pitfall_words import SAY, pitfall_text, where_of
from mpviz.model.state import Anomaly, Model, handles
from mpviz.telemetry import Event

# --- what the processes say themselves -----------------------------------------------------------


@handles("pitfall.main_guard", "pitfall.pickle", "pitfall.daemon")
def pitfall_at_start(model: Model, event: Event) -> None:
    kind = event.kind.partition(".")[2]
    where = where_of(model, event.data.get("at"))
    pool = model.prims.get(str(event.data.get("pool", "")))
    if kind == "pickle" and pool is not None:
        # A pool's task (said by its task handler thread): where the program waits for its results, if
        # it does yet, else where it made the pool.
        waiting = [model.actor(aid) for aid in pool.waiters]
        at = next((actor.at for actor in waiting if actor is not None and actor.at), "")
        where = where_of(model, at) if at else SAY["pool_made"](where=pool.site or "?")
    text = pitfall_text(
        kind,
        "pickle_task" if pool is not None else "",
        who=model.name_of(event.pid),
        child=event.obj,
        pool=pool.name if pool is not None else "",
        where=where,
        error=str(event.data.get("error", "")),
    )
    # Said once for the same words: every spawned worker of a pool made without the main guard falls
    # into it the same way (the same name, the same line), and says so.
    key = (kind, text)
    said = model.pitfalls.get(key)
    if said is None:
        model.pitfalls[key] = Anomaly("pitfall", text, (event.pid,))
    elif event.pid not in said.pids:
        model.pitfalls[key] = said._replace(pids=(*said.pids, event.pid))


@handles("pitfall.unguarded")
def pitfall_unguarded(model: Model, event: Event) -> None:
    """A process read and then wrote a Value (or an Array's item) outside its lock (``obj``: the
    lock's id; once per process).  Named once a second process did: a lost update needs two."""
    shared = next((p for p in model.prims.values() if p.guard == event.obj), None)
    if shared is None:
        return
    shared.unguarded.setdefault(event.pid, str(event.data.get("at", "")))
    if len(shared.unguarded) == 2:  # (named once, by the first two: its line is printed once)
        who = " and ".join(f"{model.name_of(pid)} ({where_of(model, at)})" for pid, at in shared.unguarded.items())
        example = f"{shared.name}.value += 1" if shared.family == "value" else f"{shared.name}[i] += 1"
        text = pitfall_text("unguarded", name=shared.name, who=who, example=example)
        model.pitfalls[("unguarded", shared.id)] = Anomaly("pitfall", text, tuple(shared.unguarded))


@handles("pitfall.fork_held")
def pitfall_fork_held(model: Model, event: Event) -> None:
    """A child's first use of a threading lock it was forked with, held by another thread of its
    parent (``obj``: the child's copy; ``of``: the parent's lock)."""
    copy = model.prims.get(event.obj)
    parent_lock = model.prims.get(str(event.data.get("of", "")))
    child = model.procs.get(event.pid)
    name = parent_lock.name if parent_lock is not None else copy.name if copy is not None else event.obj
    parent = model.name_of(child.ppid) if child is not None and child.ppid is not None else "its parent"
    where = where_of(model, event.data.get("at"))
    text = pitfall_text("fork_held", who=model.name_of(event.pid), parent=parent, name=name, where=where)
    model.pitfalls.setdefault(("fork_held", event.obj), Anomaly("pitfall", text, (event.pid,)))


@handles("proc.ran")
def proc_ran(model: Model, event: Event) -> None:
    proc = model.procs.get(event.pid)
    if proc is not None:
        proc.ran = True
        proc.ran_ns = event.t_ns


@handles("proc.terminate")
def proc_terminate(model: Model, event: Event) -> None:
    """Who ends which child, with which signal, where: named when its end comes, with what it lost."""
    child = event.data.get("child")
    if type(child) is int:
        model.endings[child] = (event.pid, str(event.data.get("signal", "")), str(event.data.get("at", "")))


@handles("pool.terminate")
def pool_terminate(model: Model, event: Event) -> None:
    prim = model.prims.get(event.obj)
    n = event.data.get("outstanding")
    if prim is not None and type(n) is int and n > 0:
        where = where_of(model, event.data.get("at"))
        text = pitfall_text("pool_results", name=prim.name, where=where, n=n)
        model.pitfalls.setdefault(("pool_results", prim.id), Anomaly("pitfall", text, (event.pid,)))


@handles("pitfall.callback")
def pitfall_callback(model: Model, event: Event) -> None:
    prim = model.prims.get(event.obj)
    name = prim.name if prim is not None else event.obj
    where = where_of(model, event.data.get("at"))
    text = pitfall_text(
        "callback", func=str(event.data.get("func", "")), where=where, name=name, error=event.data.get("error")
    )
    model.pitfalls.setdefault(("callback", event.obj), Anomaly("pitfall", text, (event.pid,)))


@handles("pool.init_failed")
def pool_init_failed(model: Model, event: Event) -> None:
    """A pool's worker died in its initializer; the pool starts another in its place (see ``_dying_pools``)."""
    prim = model.prims.get(event.obj)
    if prim is None or prim.family != "pool":
        return
    prim.init_failures += 1
    if not prim.init_failure[0]:
        d = event.data
        prim.init_failure = (str(d.get("func", "")), str(d.get("at", "")), str(d.get("error", "")))
    model.dirty_prims.add(prim.id)


@handles("pitfall.proxy_copy")
def pitfall_proxy_copy(model: Model, event: Event) -> None:
    """A value got through a manager's proxy and changed at once (see mpviz.sync.copies): once per line."""
    d = event.data
    proxy, key, method = str(d.get("proxy") or "proxy"), str(d.get("key") or "k"), str(d.get("method", ""))
    via = str(d.get("via", ""))
    get = {"get": f"{proxy}.get({key})", "setdefault": f"{proxy}.setdefault({key}, …)"}.get(via, f"{proxy}[{key}]")
    where = where_of(model, d.get("at"))
    text = pitfall_text(
        "proxy_copy",
        expr=_changed(get, method),
        where=where,
        get=get,
        type=str(d.get("type", "")),
        typeid=str(d.get("typeid", "")),
        proxy=proxy,
        fix=f"v = {get}; {_changed('v', method)}; {proxy}[{key}] = v",
    )
    model.pitfalls.setdefault(("proxy_copy", where, _changed(get, method)), Anomaly("pitfall", text, (event.pid,)))


def _changed(value: str, method: str) -> str:
    """A change of ``value`` by ``method``, as code."""
    if method == "__setitem__":
        return f"{value}[…] = …"
    if method == "__delitem__":
        return f"del {value}[…]"
    return f"{value}.{method}(…)"


@handles("shm.unlink")
def shm_unlink(model: Model, event: Event) -> None:
    prim = model.prims.get(event.obj)
    if prim is not None:
        prim.unlinked = True


def _family(model: Model, prim_id: str) -> str:
    prim = model.prims.get(prim_id)
    return prim.family if prim is not None else ""


def ended_by_a_signal(model: Model, proc: Proc) -> None:
    """A process killed (``terminate()``, ``kill()``, a signal): what it held or was moving is lost with it."""
    ending = model.endings.pop(proc.pid, None)
    if proc.exit_signal is None or ending is None:
        return
    killer, signal, at = ending
    lost = [
        (
            SAY["held"](what=f"'{model.prim_name(p)}'"),
            SAY["held_lock_then" if _family(model, p) == "lock" else "held_then"],
        )
        for p in proc.holds
    ]
    for prim in model.prims.values():
        if prim.family == "queue":
            if proc.pid in prim.blocked_put or prim.outstanding.get(proc.pid, 0) > 0:
                lost.append((SAY["putting"](name=prim.name), SAY["queue_then"]))
            elif proc.pid in prim.blocked_get:
                lost.append((SAY["getting"](name=prim.name), SAY["queue_then"]))
    for what, then in lost:
        text = pitfall_text(
            "terminated",
            who=model.name_of(killer),
            child=proc.name,
            signal=signal,
            where=where_of(model, at),
            what=what,
            then=then,
        )
        model.pitfalls.setdefault(("terminated", proc.pid, what), Anomaly("pitfall", text, (proc.pid, killer)))
