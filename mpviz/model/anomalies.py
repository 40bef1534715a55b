"""What is wrong right now, named with its processes and primitives.

* a deadlock: a cycle of processes each holding what the next one waits for;
* a dead holder (a multiprocessing lock has no owner: nobody else can ever
  release it) or a paused one;
* a hang: consumers blocked on an empty queue that no live process feeds;
  a process waiting on an event, a queue or a pipe while every live process
  is blocked (a pool's worker waiting for a task included, when its pool has
  none out), so nobody is left to set, put or send; a wait for a pool's
  results when its tasks out are worked on by no worker (lost);
* an event passed before any ``set()`` (a lesson's order broke).

A wait with a timeout is part of none of them: it ends by itself, and the run
goes on (``waits.ends_by_itself``).

Each is judged from the model alone, at a time ``now_ns`` on the records'
clock; a hang only after it has lasted ``HANG_GRACE_NS`` (between a
producer's exit and the main process's end signal there is a short moment
that is not one).
"""

from __future__ import annotations

from collections.abc import Iterable

from mpviz.lang import T
from mpviz.model import order
from mpviz.model.actors import Actor
from mpviz.model.pitfall_words import where_of
from mpviz.model.pitfalls_found import dead_parties, find_pitfalls
from mpviz.model.prims import Prim
from mpviz.model.stacks import PROGRAM_WAITS, infer, inside_a_wait, machinery_wait, waiting
from mpviz.model.state import Anomaly, Model
from mpviz.model.waits import HELD, deadlocked, ends_by_itself, forever

HANG_GRACE_NS = 1_500_000_000

# What is wrong, in English and in the tutorial's Chinese.
SAY = {
    "order": T(
        "a process got through event '{name}' before any set()", "有进程在事件 '{name}' 任何一次 set() 之前就通过了"
    ),
    "who": T("{name} (pid {pid})", "{name}(pid {pid})"),
    "who_thread": T("{name} (pid {pid}, thread '{thread}')", "{name}(pid {pid},线程 '{thread}')"),
    "at": T("{text} at {where}", "{text}({where})"),
    "link": T("{who} holds '{holds}' and waits for '{waits}'", "{who} 持有 '{holds}',在等 '{waits}'"),
    "deadlock": T("deadlock: {parts}", "死锁:{parts}"),
    "dead_waiting": T(
        "deadlock: {what} held by dead pid {pid} ({name}); {n} waiting forever",
        "死锁:{what} 被已死的 pid {pid}({name})持有;{n} 个进程永远等下去",
    ),
    "dead": T(
        "{what} held by dead pid {pid} ({name}): it will never be released",
        "{what} 被已死的 pid {pid}({name})持有:它永远不会被释放",
    ),
    "dead_lock": T(
        "{what} held by dead pid {pid} ({name}): only a release() by another process can free it now",
        "{what} 被已死的 pid {pid}({name})持有:现在只有别的进程调用 release() 才能释放它",
    ),
    "paused": T(
        "{what} held by paused pid {pid} ({name}); {n} waiting until it resumes",
        "{what} 被已暂停的 pid {pid}({name})持有;{n} 个进程等它继续",
    ),
    "starved": T(
        "hang: {n} {consumers} blocked on get from empty queue '{name}' and no producer left",
        "卡死:{n} 个消费者阻塞在空队列 '{name}' 的 get() 上,而生产者已经没有了",
    ),
    "set_it": T("no live process can set it", "没有活着的进程能 set 它"),
    "release_it": T("no live process can release it", "没有活着的进程能释放它"),
    "only_one": T("it is the only process left", "它是唯一剩下的进程"),
    "failed_before": T("{who} failed: {how}", "{who} 出错:{how}"),
    "lost_notify": T(
        "{who} notified condition '{name}' {where} while nobody waited: notify() is not kept for a later "
        "wait() (wait for a predicate: wait_for())",
        "{who} {where}通知了条件变量 '{name}',当时没有人在等:notify() 不会留给之后的 wait()(用 wait_for() 等一个条件)",
    ),
    "undone": T(
        "{n} {items} got and never marked done ({who}): join() waits for a task_done() for each get()",
        "{n} 项被取走却没有标记完成({who}):join() 要等每个 get() 都有一个 task_done()",
    ),
    "got_by": T("{who} got {n}", "{who} 取走 {n} 项"),
    "a_primitive": T("a primitive", "一个同步原语"),
    "forever": T("hang: {who} waits forever on {what}: {reason}", "卡死:{who} 在{what}上永远等下去:{reason}"),
    "on": T("{who} on {what}", "{who} 在{what}上"),
    "joining": T("{who} joining {name}", "{who} 在 join {name}"),
    "stalled": T(
        "no progress for {s} s: {text} — but {why}, so mpviz cannot tell it is a hang",
        "{s} 秒没有进展:{text} —— 但{why},所以 mpviz 不能断定它卡死了",
    ),
    "no_stacks": T("the stacks of {who} cannot be read ({why})", "读不到 {who} 的调用栈({why})"),
    "holding": T("{what}, holding {names}", "{what},持有 {names}"),
    "stopped": T(
        "{who} is stopped (SIGSTOP): only a SIGCONT from outside resumes it",
        "{who} 被停住了(SIGSTOP):只有外面发来的 SIGCONT 能让它继续",
    ),
    "in_threads": T("{n} live processes ({k} threads)", "活着的 {n} 个进程({k} 个线程)"),
    "processes": T("{n} live processes", "活着的 {n} 个进程"),
    "not_read": T("the stacks of {who} are not read yet", "还没读到 {who} 的调用栈"),
    "could_act": T(
        "{who}'s thread '{thread}' is in {what}, which may still end by itself",
        "{who} 的线程 '{thread}' 在 {what} 里,它自己可能还会结束",
    ),
    "all": T(
        "hang: all {n} are blocked, nobody can wake them: {parts}",
        "卡死:{n}全都阻塞了,没有谁能唤醒它们:{parts}",
    ),
    "idle": T("{who} waiting for a task from {what}", "{who} 在等{what}的任务"),
    "lost": T(
        "hang: {who} waits for results from pool '{name}' that will never come: {n} {tasks} out, and nobody works on them: {why}",
        "卡死:{who} 在等进程池 '{name}' 的结果,但它们永远不会来:交出的 {n} 个任务,没有谁在做:{why}",
    ),
    "idle_workers": T("every worker waits for a task", "每个工作进程都在等任务"),
    "died_busy": T(
        "{who} ended ({how}) while working on a task, which is lost with it",
        "{who} 在做任务时结束了({how}),任务随它丢失",
    ),
    "no_workers": T("no worker is left", "已经没有工作进程了"),
    "init_dies": T(
        "every worker dies in its initializer {func} ({where}): {error}, and the pool starts another, which dies alike",
        "每个工作进程都死在 initializer {func}({where})里:{error},进程池再启动的也一样死掉",
    ),
}


def find_anomalies(model: Model, now_ns: int) -> list[Anomaly]:
    """What is wrong at ``now_ns``: deadlocks, dead or paused holders, hangs, an event's order broken."""
    found = deadlocks(model)
    for prim in model.prims.values():
        if prim.first_pass_ns is not None and (prim.first_set_ns is None or prim.first_pass_ns < prim.first_set_ns):
            found.append(Anomaly("order", SAY["order"](name=prim.name)))
        found.extend(held_by_the_gone(model, prim))
        starved = starved_queue(model, prim, now_ns)
        if starved is not None:
            found.append(starved)
        lost = lost_work(model, prim, now_ns)
        if lost is not None:
            found.append(lost)
    if not any(a.kind in ("deadlock", "dead-holder", "starved", "lost") for a in found):
        found.extend(nobody_left(model, now_ns))
        if found and found[-1].kind == "hang":
            found.extend(dead_parties(model))  # (why those at a barrier wait: a party that never came)
    found.extend(potential_deadlocks(model))
    found.extend(find_pitfalls(model, now_ns))
    return [doubted(model, a) for a in found]


# Anomalies that warn of what could go wrong, not of what went wrong: no verdict fails on them.
WARNINGS = ("doubt", "potential", "pitfall", "stalled", "orphan")


def potential_deadlocks(model: Model) -> list[Anomaly]:
    """Cycles in the lock order (``order.py``) that did not deadlock, or not yet."""
    real = {frozenset(link.waits for link in cycle) for cycle in deadlocked(model)}
    return [
        Anomaly("potential", order.words(model, potential), tuple(t.actor for t in potential.takings))
        for key, potential in model.potentials.items()
        if key not in real
    ]


def doubted(model: Model, anomaly: Anomaly) -> Anomaly:
    """An anomaly about a process that dropped records (``proc.lost``) may be a ghost of the
    missing ones (a release never seen): said, but as a doubt, which no verdict counts."""
    lossy = sorted({model.pid_of(actor) for actor in anomaly.pids if model.lost_by.get(model.pid_of(actor))})
    if not lossy:
        return anomaly
    n = sum(model.lost_by[pid] for pid in lossy)
    who = ", ".join(model.name_of(pid) for pid in lossy)
    return Anomaly("doubt", f"{anomaly.text} — unsure: {n} records of {who} were lost", anomaly.pids)


def _who(model: Model, actor: int, at: bool = False) -> str:
    """A process, or a thread of it, as a person reads it: name, pid (and thread); ``at``: and where it waits."""
    pid = model.pid_of(actor)
    proc = model.procs.get(pid)
    if proc is None:
        return SAY["who"](name=f"pid {pid}", pid=pid)
    thread = proc.threads.get(actor)
    text = (
        SAY["who"](name=proc.name, pid=pid)
        if thread is None
        else SAY["who_thread"](name=proc.name, pid=pid, thread=thread.label)
    )
    where = model.where((thread or proc).at) if at else ""
    return SAY["at"](text=text, where=where) if where else text


def deadlocks(model: Model) -> list[Anomaly]:
    found = []
    for cycle in deadlocked(model):
        parts = [
            SAY["link"](
                who=_who(model, link.actor, at=True),
                holds=model.prim_name(link.holds),
                waits=model.prim_name(link.waits),
            )
            for link in cycle
        ]
        found.append(Anomaly("deadlock", SAY["deadlock"](parts="; ".join(parts)), tuple(link.actor for link in cycle)))
    return found


def held_by_the_gone(model: Model, prim: Prim) -> list[Anomaly]:
    """A lock or semaphore held by a dead or paused process (or a thread of one)."""
    found = []
    for holder in prim.holders:
        pid = model.pid_of(holder)
        proc = model.procs.get(pid)
        thread = proc.threads.get(holder) if proc is not None else None
        dead = proc is not None and (not proc.alive or (thread is not None and thread.ended))
        if proc is None or not (proc.stopped or dead):
            continue
        stuck = forever(model, prim.waiters)  # (those with a timeout give up by themselves)
        if prim.family == "sem" and not stuck:
            # A semaphore's unit is not owed back the way a lock is: taking the
            # signal another process gave is how a semaphore signals.  Only
            # someone stuck waiting makes a dead or paused taker matter.
            continue
        what = f"{prim.word} '{prim.name}'"
        if dead and not stuck and prim.family == "lock":
            # A Lock has no owner: another process may release it (a gate closed by one process and
            # opened by another).  Nobody is stuck on it yet: a warning, not a failure.
            text = SAY["dead_lock"](what=what, pid=pid, name=model.name_of(holder))
            found.append(Anomaly("orphan", text, (holder,)))
        elif dead:
            said = SAY["dead_waiting"] if stuck else SAY["dead"]
            text = said(what=what, pid=pid, name=model.name_of(holder), n=len(stuck))
            if stuck:  # who: one with where it waits, several by name
                who = [_who(model, a, at=True) for a in stuck] if len(stuck) == 1 else [_who(model, a) for a in stuck]
                text = f"{text}: {', '.join(who)}"
            found.append(Anomaly("dead-holder", text, (holder, *stuck)))
        else:
            # (Those with a timeout give up by themselves: not counted as waiting until it resumes.)
            text = SAY["paused"](what=what, pid=pid, name=proc.name, n=len(stuck))
            found.append(Anomaly("paused-holder", text, (holder, *prim.waiters)))
    return found


def starved_queue(model: Model, prim: Prim, now_ns: int) -> Anomaly | None:
    """Consumers blocked on an empty queue that every process that ever fed it has left (seen from
    outside: that every process holding its write end, but its getters, has left, if any held it).
    A get with a timeout is none of them: it gives up by itself."""
    if prim.family != "queue" or not prim.blocked_get or prim.depth > 0 or not (prim.putters or prim.feeders_known):
        return None
    if any(model.procs[pid].alive for pid in prim.putters if pid in model.procs):
        return None
    getters = forever(model, prim.blocked_get)
    if not getters:
        return None
    # Starved since the later of the last producer's exit and the last consumer's block.
    exits = [model.procs[pid].exited_ns or 0 for pid in prim.putters if pid in model.procs]
    since = max([*(prim.blocked_get[a] for a in getters), *exits])
    if now_ns - since < HANG_GRACE_NS:
        return None
    n = len(getters)
    consumers = "consumer" if n == 1 else "consumers"
    who = "; ".join(_who(model, actor, at=True) for actor in getters)
    # Why no producer is left, when one of them died of a failure (its last error is why).
    why = "".join(f"; {failed}" for failed in _failures(model, prim.putters))
    text = f"{SAY['starved'](n=n, consumers=consumers, name=prim.name)}: {who}{why}"
    return Anomaly("starved", text, tuple(getters))


def pending(prim: Prim) -> int:
    """A pool's tasks handed out and not back."""
    return max(prim.tasks - prim.results, 0)


def lost_work(model: Model, prim: Prim, now_ns: int) -> Anomaly | None:
    """Someone waits for a pool's results, tasks are out, and no worker works on them: they are lost
    (a worker killed with its task, a pool terminated), and the wait never ends (but one with a
    timeout: it gives up by itself)."""
    waiters = forever(model, prim.waiters) if prim.family == "pool" else []
    if not waiters or not pending(prim):
        return None
    workers = [model.procs[pid] for pid in prim.workers if pid in model.procs and model.procs[pid].alive]
    if any(w.waiting_on != prim.id for w in workers):
        return None  # one is working on a task
    if not prim.dying and any(pid in model.procs and model.procs[pid].alive for pid in prim.starting):
        return None  # one is still starting (a slow initializer): it will ask for a task
    exits = [model.procs[pid].exited_ns or 0 for pid in prim.workers if pid in model.procs]
    since = max([*(prim.waiters[a] for a in waiters), *(w.since_ns for w in workers), *exits])
    if now_ns - since < HANG_GRACE_NS:
        return None
    n = pending(prim)
    who = "; ".join(_who(model, actor, at=True) for actor in waiters)
    why = str(SAY["idle_workers"] if workers else SAY["no_workers"])
    if prim.dying:  # (workers come and go: none ever got through its initializer)
        func, at, error = prim.init_failure
        where = model.where(at)
        why = SAY["init_dies"](func=func, where=f"at {where}" if where else "where, unknown", error=error)
    # (One whose target returned finished its task: an executor's worker leaves after its
    # max_tasks_per_child-th, its result sent, and asks for no next one.)
    died = [
        model.procs[pid]
        for pid in sorted(prim.busy)
        if pid in model.procs and not model.procs[pid].alive and not model.procs[pid].ran
    ]
    if died:
        ends = [SAY["died_busy"](who=f"{p.name} (pid {p.pid})", how=p.exit_words()) for p in died]
        why = f"{'; '.join(ends)}; {why}"
    text = SAY["lost"](who=who, name=prim.name, n=n, tasks="task" if n == 1 else "tasks", why=why)
    return Anomaly("lost", text, tuple(waiters))


def _given_work(model: Model, actor: object) -> bool:
    """A pool worker waiting for a task from a pool that has tasks out: one may come to it."""
    prim = model.prims.get(getattr(actor, "waiting_on", None) or "")
    return (
        prim is not None and prim.family == "pool" and getattr(actor, "pid", None) in prim.workers and pending(prim) > 0
    )


def nobody_left(model: Model, now_ns: int) -> list[Anomaly]:
    """Every live process is blocked on a primitive: none of them can set, put, send or release.

    A process asleep or computing counts as able to move.  One that waits in a
    call no record tells of (a socket, a subprocess, by its stack), or a paused
    one (it may be resumed), leaves it unsure: no progress, not a hang.
    A thread multiprocessing started for itself (a pool's handlers) counts as
    blocked when its stack, read after the process's last record, shows it
    waiting for the program; the hang's words leave it out (see ``stacks.waiting``).
    A wait with a timeout ends by itself: while one of them waits so, the run goes on.
    """
    live = waiting(model)
    if not live or any(_given_work(model, a) for _, a in live):
        return []
    paused = sorted({pid for i, _ in live if model.procs[pid := model.pid_of(i)].stopped})
    if any(not model.procs[pid].stopped_outside for pid in paused):
        return []  # paused by the user (the dashboard's pause): it resumes when they say
    if any(ends_by_itself(a) for _, a in live):
        return []
    # Since the situation arose: the last one blocked, the last one left, or the last change of what
    # one waits on (an event set by a thread that then ended, a Timer's: the waiter's wake-up, from
    # another process's ring, may still be on its way).
    exits = [p.exited_ns for p in model.procs.values() if p.exited_ns is not None]
    changes = [prim.changed_ns or 0 for _, a in live if (prim := model.prims.get(a.waiting_on or "")) is not None]
    arose = max([a.since_ns for _, a in live] + exits + changes)
    if now_ns - arose < HANG_GRACE_NS:
        return []
    # (multiprocessing's own threads, waiting for the program, are left out of the words)
    blocked = [(i, a) for i, a in live if a.waiting_on is not None or (a.elsewhere and not _machinery(model, i))]
    unsure = SAY["stopped"](who=_who(model, paused[0])) if paused else _unsure(model)
    if unsure:
        # What each one waits on, and no more: neither "hang" nor "forever" (a thread may still act).
        seconds = (now_ns - arose) // 1_000_000_000
        text = "; ".join(_waits(model, blocked))
        return [Anomaly("stalled", SAY["stalled"](s=seconds, text=text, why=unsure), tuple(i for i, _ in blocked))]
    return [_hang(model, blocked)]


def _machinery(model: Model, aid: int) -> bool:
    return machinery_wait(model.procs[model.pid_of(aid)], aid) is not None


def _unsure(model: Model) -> str:
    """Why mpviz cannot be sure that no thread of the run could still move ("" when it can).

    Sure only when every live process's stacks were read after its last record,
    and each of its threads waits in something only the program can end: a
    thread asleep, in a socket or in a C call could still act."""
    for proc in model.procs.values():
        if not proc.alive or proc.role == "manager":  # (a manager's server only answers its callers)
            continue
        if proc.stacks_missing:
            return SAY["no_stacks"](who=_who(model, proc.pid), why=proc.stacks_missing)
        if proc.stacks_ns <= proc.acted_ns:
            return SAY["not_read"](who=_who(model, proc.pid))
        # (Threads its records say wait; one that only holds may be anywhere: its stack says.)
        known = {proc.pid} if proc.blocked else set()
        known.update(tid for tid, thread in proc.threads.items() if thread.blocked)
        for stack in proc.stacks:
            if stack.tid in known:
                # Its records say it waits; its stack, read since, may have it in the program's
                # own code inside that wait (a get unpickling its item): then it could act.
                if inside_a_wait(stack):
                    return SAY["could_act"](
                        who=_who(model, proc.pid), thread=stack.name, what=stack.frames[-1].function
                    )
                continue
            inferred = infer(stack)
            if inferred is not None and inferred.kind not in PROGRAM_WAITS:
                return SAY["could_act"](who=_who(model, proc.pid), thread=stack.name, what=inferred.what)
    return ""


def _hang(model: Model, live: list[tuple[int, Actor]]) -> Anomaly:
    """Every live actor waits: the hang in words."""
    if len(live) == 1:
        ((aid, proc),) = live
        prim = model.prims.get(proc.waiting_on or "")
        what = f"{prim.word} '{prim.name}'" if prim else str(SAY["a_primitive"])
        reason: object = SAY["only_one"]
        if prim is not None and prim.family == "event":
            reason = SAY["set_it"]
        elif prim is not None and prim.family in HELD:
            reason = SAY["release_it"]
        elif prim is not None and aid in prim.joiners and prim.undone:
            reason = _undone(model, prim)
        elif prim is not None and prim.lost_notify is not None:
            reason = "; ".join(_lost_notifies(model, live))
        if reason in (SAY["only_one"], SAY["set_it"], SAY["release_it"]):
            reason = "; ".join([str(reason), *_failures(model)])  # (often why: the one that would have)
        text = SAY["forever"](who=_who(model, aid, at=True), what=what, reason=reason)
        return Anomaly("hang", text, (aid,))
    parts = _waits(model, live)
    pids = {model.pid_of(aid) for aid, _ in live}
    n = SAY["processes"](n=len(pids)) if len(pids) == len(live) else SAY["in_threads"](n=len(pids), k=len(live))
    # The processes that failed before: often the one that would have set, released or put.
    parts.extend(_failures(model))
    parts.extend(_lost_notifies(model, live))
    return Anomaly("hang", SAY["all"](n=n, parts="; ".join(parts)), tuple(aid for aid, _ in live))


def _failures(model: Model, among: Iterable[int] | None = None) -> list[str]:
    """The processes of the run (or of ``among``) that ended by an error of their own or a signal
    (most often why the ones left wait: the work they wait for died with them), those that failed
    alike together."""
    by_how: dict[str, list[str]] = {}
    procs = model.procs.values() if among is None else [model.procs[p] for p in among if p in model.procs]
    for proc in procs:
        if not proc.alive and proc.role != "main" and (proc.error or proc.exit_signal or (proc.exit_code or 0) > 0):
            how = proc.error or proc.last_err or proc.exit_words()
            by_how.setdefault(how, []).append(proc.name)
    return [SAY["failed_before"](who=", ".join(names), how=how) for how, names in by_how.items()]


def _lost_notifies(model: Model, live: list[tuple[int, Actor]]) -> list[str]:
    """The conditions waited on for ever that were notified while nobody waited: why they wait."""
    said = []
    for prim_id in dict.fromkeys(actor.waiting_on for _, actor in live if actor.waiting_on):
        prim = model.prims.get(prim_id)
        if prim is not None and prim.lost_notify is not None:
            pid, at = prim.lost_notify
            said.append(SAY["lost_notify"](who=model.name_of(pid), name=prim.name, where=where_of(model, at)))
    return said


def _undone(model: Model, prim: Prim) -> str:
    """A joinable queue's items got and not marked done, and who got them."""
    n = sum(prim.undone.values())
    who = ", ".join(SAY["got_by"](n=k, who=model.name_of(pid)) for pid, k in prim.undone.items())
    return SAY["undone"](n=n, items="item" if n == 1 else "items", who=who)


def _waits(model: Model, live: list[tuple[int, Actor]]) -> list[str]:
    """What each of ``live`` waits on, in words (where it waits, and on what, and what it holds
    meanwhile: often what another of them waits for)."""
    parts = []
    for aid, actor in live:
        part = _wait(model, aid, actor)
        if actor.holds:
            part = SAY["holding"](what=part, names=model.quoted_names(actor.holds))
        parts.append(part)
    return parts


def _wait(model: Model, aid: int, actor: Actor) -> str:
    waits = actor.waiting_on or ""
    prim = model.prims.get(waits)
    if prim is not None and prim.family == "pool" and model.pid_of(aid) in prim.workers:
        return SAY["idle"](who=_who(model, aid), what=f"{prim.word} '{prim.name}'")
    if prim is not None:
        return SAY["on"](who=_who(model, aid, at=True), what=f"{prim.word} '{prim.name}'")
    if waits.startswith("pid "):
        return SAY["joining"](who=_who(model, aid, at=True), name=model.name_of(int(waits[4:])))
    if actor.elsewhere:  # (by its stack: a socket, a subprocess, a C call)
        return f"{_who(model, aid)} {actor.elsewhere}"
    return _who(model, aid, at=True)
