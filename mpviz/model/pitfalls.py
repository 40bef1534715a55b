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

Judged from the model alone, at a time ``now_ns``, like the anomalies.
"""

from __future__ import annotations

from mpviz.lang import T
from mpviz.model.actors import Proc
from mpviz.model.state import Anomaly, Model, handles
from mpviz.model.waits import forever
from mpviz.telemetry import Event

# How long a situation lasts before it is named (a join a moment before the last get is not one).
SETTLED_NS = 1_000_000_000
# A zombie is named once it has been one this long.
ZOMBIE_NS = 5_000_000_000
# A pool's tasks are stuck when no result came for this long while others had.
POOL_QUIET_NS = 5_000_000_000

# The docs' section of each pitfall, and the words of each.
SECTIONS = {
    "feeder": "Joining processes that use queues",
    "main_guard": "Safe importing of main module",
    "pickle": "Picklability",
    "terminated": "Avoid terminating processes",
    "zombie": "Joining zombie processes",
    "shm": "multiprocessing.shared_memory",
    "pool_results": "Process Pools",
    "pool_stuck": "Process Pools",
    "callback": "Process Pools",
    "pool_init": "Process Pools",
    "barrier": "multiprocessing.Barrier",
    "proxy_copy": "Proxy Objects",
    "daemon": "Process.daemon",
    "unguarded": "multiprocessing.Value",
    "fork_held": "Contexts and start methods",
}
# What each pitfall is, in a line (the help screen lists them with their docs' sections).
WHAT = {
    "feeder": T("joining a process whose queue still holds items it put", "join 一个队列里还有它放进去的元素的进程"),
    "main_guard": T("starting processes without the main module's guard", "没有主模块保护就启动进程"),
    "pickle": T("a target or an argument that cannot be pickled", "不能 pickle 的目标函数或参数"),
    "terminated": T(
        "terminate() or kill() of a lock holder, or mid put or get", "terminate()/kill() 了持锁或正在放取的进程"
    ),
    "zombie": T("a child that ended and is never joined", "结束了却一直没被 join 的子进程"),
    "shm": T("shared memory never unlinked", "从没 unlink 的共享内存"),
    "pool_results": T("a pool ended with results never fetched", "进程池结束时还有结果没取"),
    "pool_stuck": T("a pool's task that never returns", "一直不返回的进程池任务"),
    "callback": T("a pool's callback that raises", "抛出异常的进程池回调"),
    "pool_init": T("a pool's initializer that raises", "抛出异常的进程池 initializer"),
    "barrier": T("a barrier's party that ends before reaching it", "屏障的一方没到屏障就结束了"),
    "proxy_copy": T("a value of a Manager's dict or list changed in place", "原地修改 Manager 字典或列表里的值"),
    "daemon": T("a daemonic process starting children", "守护进程启动子进程"),
    "unguarded": T("a shared Value changed outside its get_lock()", "在 get_lock() 之外修改共享 Value"),
    "fork_held": T("a fork while another thread holds a lock", "别的线程持锁时 fork"),
}
SAY = {
    "feeder": T(
        "pitfall: {who} joins {child} ({where}), but {child} put {n} item(s) into '{queue}' that nobody took: "
        "its queue's feeder thread cannot end until they are taken, so {child} cannot exit and the join never "
        "returns. Fix: get the items before the join",
        "陷阱:{who} 在 join {child}({where}),但 {child} 放进 '{queue}' 的 {n} 个元素没人取:它队列的 feeder "
        "线程要等元素被取走才能结束,所以 {child} 退不出,join 永远不返回。解决:先 get 完再 join",
    ),
    "main_guard": T(
        "pitfall: {child} was started ({where}) while the main module was being imported by a spawned process: under "
        "spawn and forkserver every child imports the main module again. Fix: start processes only under "
        '`if __name__ == "__main__":`',
        "陷阱:{child}({where})是在子进程导入主模块时启动的:spawn 和 forkserver 下每个子进程都会重新导入主模块。"
        '解决:只在 `if __name__ == "__main__":` 下面启动进程',
    ),
    "pickle": T(
        "pitfall: {child} could not start ({where}): {error}. Under spawn and forkserver the target and its arguments "
        "are pickled to reach the child, and a lambda or a local function cannot be. Fix: a function defined at the "
        "top of a module, and arguments that pickle",
        "陷阱:{child} 启动不了({where}):{error}。spawn 和 forkserver 下目标函数和参数要 pickle 才能传给子进程,"
        "lambda 和局部函数不行。解决:用模块顶层定义的函数和能 pickle 的参数",
    ),
    "daemon": T(
        "pitfall: {who}, a daemonic process, tried to start {child} ({where}): a daemonic process may not have "
        "children. Fix: make it not daemonic, or start the children from its parent",
        "陷阱:守护进程 {who} 想启动 {child}({where}):守护进程不能有子进程。解决:不要设为守护进程,或由它的父进程来启动",
    ),
    "terminated": T(
        "pitfall: {who} ended {child} with {signal} ({where}) while it {what}: {then}. Fix: ask it to stop (an "
        "event, a None in its queue) and join it",
        "陷阱:{who} 用 {signal} 结束了 {child}({where}),而它当时{what}:{then}。解决:通知它停下(事件、队列里放 None)再 join",
    ),
    "held": T("held {what}", "持有 {what}"),
    "putting": T("was putting into '{name}'", "正在往 '{name}' 放东西"),
    "getting": T("was getting from '{name}'", "正在从 '{name}' 取东西"),
    "held_then": T("it stays held for ever", "它永远被持有"),
    # (A Lock has no owner: another process may still release it.)
    "held_lock_then": T(
        "nobody can take it again unless another process releases it", "除非别的进程 release() 它,谁也拿不到它了"
    ),
    "queue_then": T("the queue may be left broken", "这个队列可能坏掉了"),
    "zombie": T(
        "pitfall: {child} ended and {parent} has not joined it: it stays a zombie until then{started}. "
        "Fix: join() every process you start",
        "陷阱:{child} 已结束,{parent} 还没 join 它:在那之前它一直是僵尸进程{started}。解决:启动的每个进程都要 join()",
    ),
    "started": T(" (started {where})", "({where} 启动)"),
    "shm": T(
        "pitfall: shared memory '{name}' ({block}, made {where}) was never unlinked: it outlives the program. "
        "Fix: unlink() it once, when every process is done with it",
        "陷阱:共享内存 '{name}'({block},{where} 创建)从没 unlink:程序结束后它还在。解决:所有进程用完后 unlink() 一次",
    ),
    "pool_results": T(
        "pitfall: pool '{name}' was terminated ({where}) with {n} task(s) whose results nobody fetched: they are lost. "
        "Fix: get() every result, or close() and join() before the pool ends",
        "陷阱:进程池 '{name}' 被 terminate 了({where}),还有 {n} 个任务的结果没人取:它们丢了。解决:先 get() 每个结果,或先 close() 再 join()",
    ),
    "pool_stuck": T(
        "pitfall: pool '{name}': {n} task(s) never returned while the others did: {workers}. Fix: a task that can "
        "wait needs a timeout, and get(timeout=…) keeps its caller from waiting for ever",
        "陷阱:进程池 '{name}':{n} 个任务一直没返回,别的都返回了:{workers}。解决:会等待的任务要有超时,"
        "get(timeout=…) 让调用者不会永远等下去",
    ),
    "callback": T(
        "pitfall: {func} ({where}), a callback of pool '{name}', raised {error}: callbacks run in the pool's "
        "result-handler thread, and the exception ended it, so no result of the pool comes back any more (a get() "
        "with no timeout waits for ever). Fix: catch every exception inside the callback",
        "陷阱:进程池 '{name}' 的回调 {func}({where})抛出了 {error}:回调在进程池的结果处理线程里运行,异常让这个线程结束了,"
        "进程池再也拿不回任何结果(没有超时的 get() 会永远等下去)。解决:在回调里捕获所有异常",
    ),
    "pool_init": T(
        "pitfall: pool '{name}''s workers die in their initializer {func} ({where}): {error}; the pool starts new "
        "ones for ever, and no task is ever done (a map() or a get() with no timeout waits for ever). Fix: let the "
        "initializer catch what it can recover from, and check what it needs before making the pool",
        "陷阱:进程池 '{name}' 的工作进程都死在 initializer {func}({where})里:{error};进程池不停地启动新的工作进程,"
        "却一个任务也做不完(没有超时的 map() 或 get() 会永远等下去)。解决:在 initializer 里捕获能处理的异常,"
        "并在创建进程池之前先检查它需要的东西",
    ),
    "barrier": T(
        "pitfall: barrier '{name}' needs {parties} parties; {dead} before reaching it: the {n} at the barrier wait "
        "for ever. Fix: wait(timeout=…) ends every party's wait with BrokenBarrierError, or abort() the barrier when "
        "a party fails (a try/except around its work before wait())",
        "陷阱:屏障 '{name}' 需要 {parties} 方;{dead},没到屏障:在屏障等的 {n} 个会永远等下去。解决:wait(timeout=…) "
        "让每一方的等待以 BrokenBarrierError 结束,或者在某一方出错时 abort() 这个屏障(在 wait() 之前的工作外面 try/except)",
    ),
    "proxy_copy": T(
        "pitfall: `{expr}` ({where}) changes a copy: `{get}` gives the process a copy of the {type} that the "
        "Manager's {typeid} '{proxy}' holds, and the change is lost with it (the proxy cannot know of it). "
        "Fix: `{fix}` — write the copy back (under a lock if other processes change it too)",
        "陷阱:`{expr}`({where})改的是副本:`{get}` 给进程的是 Manager 的 {typeid} '{proxy}' 里那个 {type} 的副本,"
        "改动随副本丢失(代理无从知道它被改了)。解决:`{fix}` —— 把副本写回去(如果别的进程也会改它,要在锁里做)",
    ),
    "party": T("{who} (pid {pid}) ended ({how})", "{who}(pid {pid})结束了({how})"),
    "unguarded": T(
        "pitfall: '{name}' was read and then written outside {name}.get_lock() by {who}: each read and each "
        "write takes the lock alone, so a write another process makes between them is lost "
        "(`{example}` is a read and a write). Fix: `with {name}.get_lock(): {example}`",
        "陷阱:{who} 在 {name}.get_lock() 之外先读后写 '{name}':读和写各自单独加锁,别的进程在两者之间写的值会丢失"
        "(`{example}` 是一读一写)。解决:`with {name}.get_lock(): {example}`",
    ),
    "fork_held": T(
        "pitfall: {who} was forked while another thread of {parent} held threading lock '{name}': {who}'s copy "
        "of it is held, by a thread {who} does not have, and nobody can release it ({where}: it waits for ever). "
        "Fix: start processes with spawn or forkserver when threads hold locks, or fork only where no other "
        "thread holds one",
        "陷阱:{parent} 的另一个线程持有 threading 锁 '{name}' 时 fork 出了 {who}:{who} 里的这把锁的副本是被持有的,"
        "持有它的线程在 {who} 里不存在,谁也释放不了它({where}:会永远等下去)。解决:有线程持锁时用 spawn 或 "
        "forkserver 启动进程,或只在没有别的线程持锁时 fork",
    ),
    "docs": T(" (docs: {section})", "(文档:{section})"),
}


def _text(kind: str, **values: object) -> str:
    return SAY[kind](**values) + SAY["docs"](section=SECTIONS[kind])


def _where(model: Model, at: object) -> str:
    where = model.where(at) if isinstance(at, str) else ""
    return f"at {where}" if where else "where, unknown"


# --- what the processes say themselves -----------------------------------------------------------


@handles("pitfall.main_guard", "pitfall.pickle", "pitfall.daemon")
def pitfall_at_start(model: Model, event: Event) -> None:
    kind = event.kind.partition(".")[2]
    text = _text(
        kind,
        who=model.name_of(event.pid),
        child=event.obj,
        where=_where(model, event.data.get("at")),
        error=str(event.data.get("error", "")),
    )
    model.pitfalls.setdefault((kind, event.pid, event.obj), Anomaly("pitfall", text, (event.pid,)))


@handles("pitfall.unguarded")
def pitfall_unguarded(model: Model, event: Event) -> None:
    """A process read and then wrote a Value (or an Array's item) outside its lock (``obj``: the
    lock's id; once per process).  Named once a second process did: a lost update needs two."""
    shared = next((p for p in model.prims.values() if p.guard == event.obj), None)
    if shared is None:
        return
    shared.unguarded.setdefault(event.pid, str(event.data.get("at", "")))
    if len(shared.unguarded) == 2:  # (named once, by the first two: its line is printed once)
        who = " and ".join(f"{model.name_of(pid)} ({_where(model, at)})" for pid, at in shared.unguarded.items())
        example = f"{shared.name}.value += 1" if shared.family == "value" else f"{shared.name}[i] += 1"
        text = _text("unguarded", name=shared.name, who=who, example=example)
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
    where = _where(model, event.data.get("at"))
    text = _text("fork_held", who=model.name_of(event.pid), parent=parent, name=name, where=where)
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
        where = _where(model, event.data.get("at"))
        text = _text("pool_results", name=prim.name, where=where, n=n)
        model.pitfalls.setdefault(("pool_results", prim.id), Anomaly("pitfall", text, (event.pid,)))


@handles("pitfall.callback")
def pitfall_callback(model: Model, event: Event) -> None:
    prim = model.prims.get(event.obj)
    name = prim.name if prim is not None else event.obj
    where = _where(model, event.data.get("at"))
    text = _text(
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
    where = _where(model, d.get("at"))
    text = _text(
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
        text = _text(
            "terminated",
            who=model.name_of(killer),
            child=proc.name,
            signal=signal,
            where=_where(model, at),
            what=what,
            then=then,
        )
        model.pitfalls.setdefault(("terminated", proc.pid, what), Anomaly("pitfall", text, (proc.pid, killer)))


# --- what the model sees ----------------------------------------------------------------------------------


def find_pitfalls(model: Model, now_ns: int) -> list[Anomaly]:
    """Every pitfall said so far, and those the model sees now."""
    found = list(model.pitfalls.values())
    found.extend(_feeders(model, now_ns))
    found.extend(_zombies(model, now_ns))
    found.extend(_leaked_memory(model))
    found.extend(_stuck_pools(model, now_ns))
    found.extend(_dying_pools(model))
    return found


def _feeders(model: Model, now_ns: int) -> list[Anomaly]:
    """A join that waits for a child whose target returned a while ago (its exit, a moment after,
    is no pitfall) while items it put are still in a queue."""
    found = []
    for aid, actor in model.live_actors():
        target = actor.waiting_on or ""
        if not target.startswith("pid ") or actor.gives_up_ns is not None or now_ns - actor.since_ns < SETTLED_NS:
            continue  # (a join with a timeout returns by itself: no pitfall)
        child = model.procs.get(int(target[4:]))
        if child is None or not child.alive or not child.ran or now_ns - child.ran_ns < SETTLED_NS:
            continue
        for prim in model.prims.values():
            n = prim.outstanding.get(child.pid, 0) if prim.family == "queue" else 0
            if n > 0:
                text = _text(
                    "feeder",
                    who=model.name_of(aid),
                    child=child.name,
                    where=_where(model, actor.at),
                    n=n,
                    queue=prim.name,
                )
                found.append(Anomaly("feeder", text, (aid, child.pid)))
    return found


def _zombies(model: Model, now_ns: int) -> list[Anomaly]:
    """A child a zombie for a while, its parent alive and joining nobody.  (multiprocessing joins the ended
    children whenever a process starts, so a zombie that stays is one its parent has forgotten.)"""
    found = []
    for proc in model.procs.values():
        parent = model.procs.get(proc.ppid) if proc.ppid is not None else None
        if not proc.zombie or parent is None or not parent.alive or now_ns - (proc.exited_ns or now_ns) < ZOMBIE_NS:
            continue
        if (parent.waiting_on or "").startswith("pid "):
            continue  # it is joining its children, one after the other
        where = model.where(proc.started_at)
        started = SAY["started"](where=f"at {where}") if where else ""
        text = _text("zombie", child=proc.name, parent=parent.name, started=started)
        found.append(Anomaly("pitfall", text, (proc.pid,)))
    return found


def _leaked_memory(model: Model) -> list[Anomaly]:
    """Shared memory made and never unlinked, once the process that made it has ended."""
    found = []
    for prim in model.prims.values():
        maker = model.procs.get(prim.maker)
        if prim.family != "shm" or prim.unlinked or maker is None or maker.alive:
            continue
        text = _text(
            "shm", name=prim.name, block=prim.block, where=f"at {prim.site}" if prim.site else "where, unknown"
        )
        found.append(Anomaly("pitfall", text, (maker.pid,)))
    return found


def _stuck_pools(model: Model, now_ns: int) -> list[Anomaly]:
    """A pool whose tasks stopped coming back while some had: the workers still inside a task."""
    found = []
    for prim in model.prims.values():
        if prim.family != "pool" or not prim.results or prim.tasks <= prim.results:
            continue
        if now_ns - max(prim.last_result_ns, prim.last_task_ns) < POOL_QUIET_NS:
            continue
        # A worker waiting for its next task says so (``pool.wait_task``), or waits in the pool's
        # queue (its stack says so); the others are inside one.  (None inside: the task is lost,
        # an anomaly of its own, ``lost``.)
        inside = [
            f"{proc.name} {proc.state}"
            for proc in model.procs.values()
            if proc.role == "pool" and proc.alive and "Queue.get" not in proc.state and proc.waiting_on != prim.id
        ]
        if inside:
            text = _text("pool_stuck", name=prim.name, n=prim.tasks - prim.results, workers="; ".join(inside))
            found.append(Anomaly("pitfall", text, (), passing=True))
    return found


def _dying_pools(model: Model) -> list[Anomaly]:
    """A pool whose workers die in their initializer (``Prim.dying``)."""
    found = []
    for prim in model.prims.values():
        if prim.family != "pool" or not prim.dying:
            continue
        func, at, error = prim.init_failure
        text = _text("pool_init", name=prim.name, func=func, where=_where(model, at), error=error)
        found.append(Anomaly("pitfall", text, ()))
    return found


def dead_parties(model: Model) -> list[Anomaly]:
    """A barrier whose parties wait for ever, fewer than it needs, and the processes that would
    have been the others: each ended by a failure before reaching it, running the same function as
    one that waits there.  Asked only once every live process is blocked (a hang): nobody can come."""
    found = []
    for prim in model.prims.values():
        waiting = forever(model, prim.waiters) if prim.family == "barrier" and not prim.broken else []
        parties = prim.capacity
        if not waiting or parties is None or len(waiting) >= parties:
            continue
        targets = {model.procs[model.pid_of(a)].target for a in waiting if model.pid_of(a) in model.procs} - {""}
        dead = [
            proc
            for proc in model.procs.values()
            if not proc.alive
            and proc.target in targets
            and proc.pid not in prim.reached
            and (proc.error or proc.exit_signal or (proc.exit_code or 0) > 0)
        ]
        if not dead or len(waiting) + len(dead) > parties:
            continue  # (more such processes than parties missing: which of them were parties, nobody can tell)
        ends = [SAY["party"](who=p.name, pid=p.pid, how=p.error or p.exit_words()) for p in dead]
        text = _text("barrier", name=prim.name, parties=parties, dead="; ".join(ends), n=len(waiting))
        found.append(Anomaly("pitfall", text, (*waiting, *(p.pid for p in dead))))
    return found
