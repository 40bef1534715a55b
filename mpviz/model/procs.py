"""The handlers of a process's own records: started, what it says, its signals and samples,
what it prints, its joins and sleeps, the records it lost, its end."""

from __future__ import annotations

import math
import os
from collections import deque

from mpviz.lang import T, word
from mpviz.model.actors import Phase, Proc, Said, Stats, Thread
from mpviz.model.pitfalls import ended_by_a_signal
from mpviz.model.reducer import activity, actor_of, block, proc_of, set_state, settle, stop_waiting, unblock
from mpviz.model.stacks import PROGRAM_WAITS, QUIET_NS, from_record, infer
from mpviz.model.state import REPEATS, Model, Repeats, handles
from mpviz.model.words import idle
from mpviz.telemetry import Event

JOINING = T("waiting for {name} to end (join)", "等待 {name} 结束(join)")
ZOMBIE = {
    "plain": T("{ended}, not joined yet: a zombie", "{ended},还没被 join:僵尸进程"),
    "at": T("{ended}, not joined yet: a zombie (started at {where})", "{ended},还没被 join:僵尸进程({where} 启动)"),
}


@handles("proc.reaped")
def proc_reaped(model: Model, event: Event) -> None:
    """Its parent waited for it at last (a join): no longer a zombie."""
    proc = model.procs.get(event.pid)
    if proc is not None and proc.zombie:
        proc.zombie = False
        proc.state = proc.exit_words()
        model.dirty_procs.add(proc.pid)


def _identify(proc: Proc, event: Event) -> None:
    data = event.data
    proc.role = str(data.get("role", proc.role))
    proc.label = str(data.get("label", proc.label))
    target = data.get("target")
    if isinstance(target, str):
        proc.target = target
    argv = data.get("argv")
    if isinstance(argv, str) and not proc.script:
        proc.script = _script(argv)
    ppid = data.get("ppid")
    # Who started it (its proc.spawn) is its parent, even when the kernel's
    # parent is another (a forkserver's child says the forkserver).
    if isinstance(ppid, int) and (proc.ppid is None or event.kind == "proc.spawn"):
        proc.ppid = ppid


def _script(argv: str) -> str:
    """What a Python process runs, from its arguments: ``child.py``, ``python -m tool``,
    ``python -c``; "" for a child multiprocessing starts (spawn, forkserver: its own records name it)."""
    words = argv.split()
    if not words or "multiprocessing" in argv:
        return ""
    if words[0] == "-m" and len(words) > 1:
        return f"python -m {words[1]}"[:40]
    if words[0].startswith("-"):
        return f"python {words[0][:2]}"
    return os.path.basename(words[0])[:40]


@handles("proc.spawn")
def proc_spawn(model: Model, event: Event) -> None:
    proc = proc_of(model, event)
    _identify(proc, event)
    at = event.data.get("at")
    if isinstance(at, str):
        proc.started_at = at
    model.dirty_procs.add(event.pid)


@handles("proc.start")
def proc_start(model: Model, event: Event) -> None:
    proc = proc_of(model, event)
    _identify(proc, event)
    pool = model.prims.get(str(event.data.get("pool", "")))
    if pool is not None and pool.family == "pool":
        pool.starting.add(proc.pid)  # (until it asks for a task)
    if proc.phase is Phase.STARTING:
        settle(model, proc, event.t_ns)


@handles("proc.state")
def proc_state(model: Model, event: Event) -> None:
    t_ns, _, _, obj, _ = event  # (once: every report of a lesson passes here)
    proc = proc_of(model, event)
    proc.said = obj
    fact = proc.facts.get(obj)
    if fact is None:
        fact = proc.facts[obj] = Said()
    fact.add((event,))
    model.counts[obj] += 1
    settle(model, proc, t_ns)


def _said_again(model: Model, event: Event) -> Proc | None:
    """After a report applied: its process, if the same state said again at once changes its facts,
    counts and when it acted alone — nothing ``settle`` reads changes (its words name no data: the
    data is not in them), nor its stack's word (none left to clear)."""
    proc = model.procs.get(event.pid)
    if proc is None or proc.said != event.obj or proc.elsewhere or "{" in word(event.obj):
        return None
    return proc


def _states_again(model: Model, proc: Proc, run: list[Event]) -> None:
    """``proc_state`` of each of ``run`` (reports of ``proc`` of the state it said last), ``settle``
    left out: it would find the state as it is (see ``_said_again``)."""
    state = run[0].obj
    proc.facts[state].add(run)
    model.counts[state] += len(run)
    proc.acted_ns = run[-1].t_ns


REPEATS["proc.state"] = Repeats(_said_again, _states_again)


@handles("proc.error")
def proc_error(model: Model, event: Event) -> None:
    proc = proc_of(model, event)
    proc.error = str(event.data.get("error", ""))
    model.dirty_procs.add(proc.pid)


@handles("proc.exit")
def proc_exit(model: Model, event: Event) -> None:
    proc = proc_of(model, event)
    code = event.data.get("code")
    if not proc.alive:
        # Known gone, but not how: a later word (its parent's, its stat's) may say.  Said again
        # (its own word, its parent's and the dashboard's can each come first), it is not news.
        if proc.exit_code is None and proc.exit_signal is None and isinstance(code, int):
            proc.exit_code = code
            proc.exit_signal = str(event.data["signal"]) if event.data.get("signal") else None
            proc.state = proc.exit_words()
            model.dirty_procs.add(proc.pid)
        else:
            model.said_again = True
        return
    proc.exit_code = code if isinstance(code, int) else None
    signal = event.data.get("signal")
    proc.exit_signal = str(signal) if signal else None
    proc.exited_ns = event.t_ns
    proc.stopped = False
    proc.blocked, proc.waiting_on, proc.at, proc.gives_up_ns = "", None, "", None
    for thread in proc.threads.values():
        thread.blocked, thread.waiting_on, thread.at, thread.gives_up_ns = "", None, "", None
    # A dead process waits for nothing, in none of its threads; but what it holds stays
    # held: a multiprocessing lock is not released when its holder dies.
    actors = [proc.pid, *proc.threads]
    for prim in model.prims.values():
        timing = prim.timing
        for waiting, durations in (
            (prim.waiters, timing.waited),
            (prim.blocked_get, timing.get_blocked),
            (prim.blocked_put, timing.put_blocked),
        ):
            for actor in actors:
                if stop_waiting(waiting, actor, event.t_ns, durations):
                    model.dirty_prims.add(prim.id)
    proc.sleeping = False
    proc.split.end(event.t_ns)
    set_state(model, proc, event.t_ns, Phase.EXITED, proc.exit_words())
    ended_by_a_signal(model, proc)


@handles("proc.signal")
def proc_signal(model: Model, event: Event) -> None:
    proc = proc_of(model, event)
    if not proc.alive:
        return
    if event.obj not in ("SIGSTOP", "SIGCONT"):
        return
    _stop(model, proc, event.obj == "SIGSTOP", event.t_ns, outside=False)


def _stop(model: Model, proc: Proc, stopped: bool, t_ns: int, outside: bool) -> None:
    proc.stopped, proc.stopped_ns, proc.stopped_outside = stopped, t_ns, stopped and outside
    settle(model, proc, t_ns)
    model.dirty_prims.update(proc.holds)


@handles("proc.stats")
def proc_stats(model: Model, event: Event) -> None:
    proc = model.procs.get(event.pid)
    if proc is None:
        return
    if not proc.alive:
        if event.data.get("status") == "zombie" and not proc.zombie:
            proc.zombie = True
            started = model.where(proc.started_at)
            proc.state = ZOMBIE["at" if started else "plain"](ended=proc.exit_words(), where=started)
            model.dirty_procs.add(proc.pid)
        return
    d = event.data
    old = proc.stats
    # Memory and threads come only when they may have changed; keep the last ones seen.
    # A value of the wrong kind (a crafted record) counts as not given.
    rss = _amount(d.get("rss"), old.rss if old else 0)
    threads = _amount(d.get("threads"), old.threads if old else 0)
    cpu = d.get("cpu")
    percent = float(cpu) if isinstance(cpu, (int, float)) and math.isfinite(cpu) and cpu >= 0 else 0.0
    stats = Stats(percent, rss, threads, str(d.get("status", "")))
    proc.samples.add(event.t_ns, stats.cpu, stats.rss)
    if stats != old:
        proc.stats = stats
        model.dirty_procs.add(proc.pid)
    # Stopped by anyone (a SIGSTOP of its own, kill -STOP, Ctrl+Z), not only by mpviz's pause: psutil
    # says so.  (A sample read before a SIGSTOP that came after it says nothing of it.)
    stopped = stats.status == "stopped"
    if stopped != proc.stopped and event.t_ns > proc.stopped_ns:
        _stop(model, proc, stopped, event.t_ns, outside=True)


def _amount(value: object, default: int) -> int:
    """A count or a size from a record: a whole number, not negative; ``default`` otherwise."""
    return value if type(value) is int and value >= 0 else default


@handles("proc.sleep", "proc.slept")
def proc_sleep(model: Model, event: Event) -> None:
    actor = actor_of(model, event)
    actor.sleeping = event.kind == "proc.sleep"
    at = event.data.get("at")
    actor.at = at if actor.sleeping and isinstance(at, str) else ""
    settle(model, actor, event.t_ns)


@handles("proc.idle")
def proc_idle(model: Model, event: Event) -> None:
    """The lesson's main part started everyone and has nothing to do until a key asks (it is the
    dashboard's own process: neither running nor part of a hang).  Its next record ends it."""
    proc = proc_of(model, event)
    proc.elsewhere, proc.elsewhere_sleeps, proc.elsewhere_outside = idle(event.data), True, False
    settle(model, proc, event.t_ns)


@handles("proc.output")
def proc_output(model: Model, event: Event) -> None:
    """A line printed, or one still being written (``partial``): it takes the place of what was
    shown of it so far, so that a line written in pieces is one line that grows."""
    proc = proc_of(model, event)
    key = (proc.pid, str(event.data.get("stream", "")))
    shown = model.unended.pop(key, None)
    if event.data.get("partial"):
        model.unended[key] = event
    else:
        proc.lines += 1
        if event.data.get("stream") == "err" and str(event.data.get("text", "")).strip():
            proc.last_err = str(event.data.get("text", "")).strip()
    _replace(model.output, shown, event)
    model.output_changes += 1
    model.dirty_procs.add(proc.pid)


def _replace(lines: deque[Event], old: Event | None, new: Event) -> None:
    """``new`` where ``old`` stands (looked for from the newest: it is rarely far), else newest."""
    if old is not None:
        for i in range(len(lines) - 1, -1, -1):
            if lines[i] is old:
                lines[i] = new
                return
    lines.append(new)


@handles("proc.join")
def proc_join(model: Model, event: Event) -> None:
    child = event.data.get("child")
    name = model.name_of(child) if isinstance(child, int) else event.obj
    actor = block(model, event, JOINING(name=name))
    actor.waiting_on = f"pid {child}"  # a process, not a primitive: see Proc.waiting_on


@handles("proc.joined")
def proc_joined(model: Model, event: Event) -> None:
    actor = actor_of(model, event)
    if actor.waiting_on is not None and actor.waiting_on.startswith("pid "):
        unblock(model, event)


@handles("run.refused")
def run_refused(model: Model, event: Event) -> None:
    """What the run refused so far (connections, forged records …): a count over the run."""
    n = event.data.get("n")
    if type(n) is int and n > model.refused[event.obj]:
        model.refused[event.obj] = n


@handles("proc.lost")
def proc_lost(model: Model, event: Event) -> None:
    n = event.data.get("n")
    if type(n) is int and n > 0:
        model.lost += n
        model.lost_by[event.pid] = model.lost_by.get(event.pid, 0) + n


# --- stacks ---------------------------------------------------------------------------------------

ELSEWHERE = {
    "wait": T("waiting in {what} at {where}", "等待 {what}({where})"),
    "sleep": T("sleeping in {what} at {where}", "睡在 {what}({where})"),
    "unknown": T("waiting in {what}", "等待 {what}"),
}


@handles("proc.stack")
def proc_stack(model: Model, event: Event) -> None:
    """One thread's stack of an answer (``proc.stacks`` ends it)."""
    req = event.data.get("req")
    if type(req) is int and event.pid in model.procs:
        model.stacks_coming.setdefault((event.pid, req), []).append(from_record(event.data))


# A process using this much of a core (psutil's last sample) computes: a call its stack is in
# (``math.sqrt``, a C loop) is not one it waits in.
BUSY_CPU = 50.0


def _busy(proc: Proc) -> bool:
    return proc.stats is not None and proc.stats.cpu >= BUSY_CPU


# Waits a stack shows that say nothing is stuck: a sleep, the user's input, a read of stdin.
NOT_STUCK = ("sleep", "input", "read")


def _accepting(what: str) -> bool:
    return what.rstrip("()").endswith("accept")  # ("socket accept", "srv.accept()")


@handles("proc.stacks")
def proc_stacks(model: Model, event: Event) -> None:
    """A process's stacks, every thread's (or why none could be read); what a thread waits in,
    when no record says it waits, is read off its stack (``model.stacks.infer``)."""
    proc = model.procs.get(event.pid)
    req = event.data.get("req")
    if proc is None or type(req) is not int:
        return
    threads = tuple(model.stacks_coming.pop((event.pid, req), ()))
    for key in [k for k in model.stacks_coming if k[0] == event.pid and k[1] < req]:
        del model.stacks_coming[key]  # an answer that never ended
    missing = event.data.get("missing")
    proc.stacks, proc.stacks_ns, proc.stacks_missing = threads, event.t_ns, str(missing) if missing else ""
    model.dirty_procs.add(proc.pid)
    if not proc.alive or proc.outside:
        return  # seen from outside: its proc.seen says what its stacks and system calls do (model/seen.py)
    for stack in threads:
        inferred = infer(stack)
        if inferred is None or (inferred.kind == "call" and inferred.frame is None):
            continue
        actor: Proc | Thread | None = proc if stack.tid == proc.pid else None
        if actor is None:
            actor = proc.threads.get(stack.tid)
            if actor is None:
                if not stack.tid:
                    continue
                actor = proc.threads[stack.tid] = Thread(stack.tid, proc.pid, stack.name, since_ns=event.t_ns)
                model.thread_pid[stack.tid] = proc.pid
                model.thread_names.setdefault(stack.tid, stack.name)
        if actor.blocked:
            continue  # its records say what it waits for: they know better than a stack
        if inferred.kind == "running" or (inferred.kind == "call" and _busy(proc)):
            # Its own code, or a call while the process keeps a core busy: it runs, it waits in nothing.
            if actor.elsewhere:
                actor.elsewhere, actor.elsewhere_sleeps, actor.elsewhere_outside = "", False, False
                settle(model, actor, event.t_ns)
            continue
        where = inferred.frame.site if inferred.frame is not None else ""
        kind = "sleep" if inferred.kind == "sleep" else "wait" if where else "unknown"
        actor.elsewhere = ELSEWHERE[kind](what=inferred.what, where=where)
        actor.elsewhere_sleeps = inferred.kind == "sleep"
        # A socket, a subprocess, a select, a C call: nothing the program's waits are, toward "no
        # progress". Not a wait of threading's or the standard library's own, unrecorded, which may
        # have a timeout (a Timer's); not one for the user (input(), a read of stdin); nor a server's
        # accept(), its idle state.
        actor.elsewhere_outside = inferred.kind not in (*PROGRAM_WAITS, *NOT_STUCK) and not _accepting(inferred.what)
        if actor is proc:
            # Its stacks were asked for once it had been quiet (no record, under 1 % of a core) for
            # QUIET_NS: its time since then was spent where it waits, not running.
            proc.split.move(activity(model, proc), max(proc.acted_ns, event.t_ns - QUIET_NS))
        settle(model, actor, event.t_ns)
