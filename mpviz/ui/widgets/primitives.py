"""One view per kind of primitive, drawn from the model alone.

Lesson panels put them where they fit; a watched program shows one for each
of its primitives.  Each view is a function from a primitive to ``Text``, so
that a panel can place it among its own words.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text

from mpviz.lang import T
from mpviz.model import Model, Prim, Proc
from mpviz.model.words import proxy_call
from mpviz.ui.theme import PHASE_STYLE, duration

SAY = {
    "more": T(" … and {n} more", " …… 还有 {n} 个"),
    "nobody": T("nobody", "没有"),
    "free": T("  free", "  空闲"),
    "held_by": T("  held by ", "  持有者 "),
    "for": T(" (pid {pid}) for {held}", "(pid {pid}),已 {held}"),
    "dead": T(" — dead: it will never release", " —— 已死:它永远不会释放"),
    "waiting": T("  {what} ({n}): ", "  {what}({n}):"),
    "waiting_word": T("waiting", "在等"),
    "acquired": T("  {n} acquired\n", "  获得 {n} 次\n"),
    "value": T("\n  value {free} of {capacity}", "\n  值 {free} / {capacity}"),
    "most": T("  most at once {most}\n", "  同时最多 {most} 个\n"),
    "inside": T("  inside ({n}): ", "  在里面({n}):"),
    "dead_inside": T("\n  {names} dead inside: never released", "\n  {names} 死在里面:永远不会释放"),
    "flag": T("  flag ", "  Flag "),
    "sets": T("  {n} set()  {changed}\n", "  set() {n} 次  {changed}\n"),
    "changed": T("changed {ago} ago", "{ago} 前变的"),
    "never": T("never changed", "从没变过"),
    "blocked_wait": T("blocked in wait()", "阻塞在 wait() 里"),
    "depth": T("  depth ", "  里面有 "),
    "put_got": T("  put {puts}, got {gets}\n", "  放入 {puts},取出 {gets}\n"),
    "in_it": T("  in it: ", "  里面是:"),
    "empty": T("empty", "空"),
    "blocked_get": T("blocked on get", "阻塞在 get 上"),
    "blocked_put": T("blocked on put (full)", "阻塞在 put 上(满了)"),
    "to_end": T("\n  to end {end}: {sent} sent, ", "\n  发往端 {end}:发了 {sent} 个,"),
    "in_flight": T("{n} in flight", "{n} 个在路上"),
    "blocked_recv": T("blocked on recv", "阻塞在 recv 上"),
    "unseen": T("  who holds it cannot be seen from outside", "  从外面看不到谁持有它"),
    "tasks": T(
        "\n  {tasks} tasks handed out, {results} results back, {pending} pending",
        "\n  交出 {tasks} 个任务,取回 {results} 个结果,{pending} 个未完成",
    ),
    "failed": T(" ({n} of them failed)", "(其中 {n} 个失败)"),
    "workers": T("\n  workers alive ({n}): ", "\n  活着的工作进程({n}):"),
    "calls": T("  {n} calls", "  调用 {n} 次"),
    "proxy": T("\n  {proxy}: {n} calls", "\n  {proxy}:调用 {n} 次"),
    "last": T("\n  last: ", "\n  最近:"),
    "parties": T("  parties {parties}  passed {passed}", "  需要 {parties} 方  已通过 {passed} 次"),
    "broken": T("  broken: every wait() raises BrokenBarrierError", "  已破坏:每个 wait() 都抛出 BrokenBarrierError"),
    "at_barrier": T("at the barrier", "在屏障前"),
    "notifies": T("  {n} notify()", "  notify() {n} 次"),
    "lost_notify": T("\n  the last notify() found nobody waiting: lost", "\n  最近一次 notify() 时没有人在等:丢了"),
}


def names(procs: list[Proc], now_ns: int, limit: int = 12, since: dict[int, int] | None = None) -> Text:
    """A comma-separated line of process names, with how long each has waited."""
    text = Text()
    for i, proc in enumerate(procs[:limit]):
        if i:
            text.append(", ")
        text.append(proc.name, style=PHASE_STYLE[proc.phase])
        if since is not None and proc.pid in since:
            text.append(f" {duration(now_ns - since[proc.pid])}", style="dim")
    if len(procs) > limit:
        text.append(SAY["more"](n=len(procs) - limit), style="dim")
    if not procs:
        text.append(str(SAY["nobody"]), style="dim")
    return text


def _procs(model: Model, actors: dict[int, int]) -> list[Proc]:
    """The processes of these actors (processes, or threads of them), each once."""
    pids = dict.fromkeys(model.pid_of(actor) for actor in actors)
    return [model.procs[p] for p in pids if p in model.procs]


def actor_names(model: Model, actors: dict[int, int], now_ns: int, limit: int = 12) -> Text:
    """Who (a process, or a thread of one) waits or holds, first first, with how long (``actors``: id → since)."""
    text = Text()
    for i, (actor, since) in enumerate(list(actors.items())[:limit]):
        if i:
            text.append(", ")
        node = model.actor(actor)
        text.append(model.name_of(actor), style=PHASE_STYLE[node.phase] if node is not None else "")
        text.append(f" {duration(now_ns - since)}", style="dim")
    if len(actors) > limit:
        text.append(SAY["more"](n=len(actors) - limit), style="dim")
    if not actors:
        text.append(str(SAY["nobody"]), style="dim")
    return text


def title(prim: Prim) -> Text:
    """``Lock 'ticket'`` and where it was made, if known."""
    word = "RLock" if prim.word == "rlock" else f"{prim.word[:1].upper()}{prim.word[1:]}"
    text = Text.assemble((f"{word} '{prim.name}'", "bold"))
    if prim.site:
        text.append(f"  {prim.site}", style="dim")
    return text


def holders(model: Model, prim: Prim, now_ns: int) -> Text:
    """Who holds it, for how long; a dead holder said to be dead."""
    text = Text()
    if not prim.holders:
        text.append(str(SAY["free"]), style="dim")
        return text
    for i, holder in enumerate(prim.holders):
        pid = model.pid_of(holder)
        proc = model.procs.get(pid)
        node = model.actor(holder)
        text.append(str(SAY["held_by"]) if i == 0 else ", ")
        text.append(model.name_of(holder), style=PHASE_STYLE[node.phase] if node is not None else "")
        text.append(SAY["for"](pid=pid, held=duration(now_ns - prim.held_since.get(holder, now_ns))))
        if proc is not None and not proc.alive:
            text.append(str(SAY["dead"]), style="bold red")
    return text


def waiters(
    model: Model, prim: Prim, now_ns: int, waiting: dict[int, int] | None = None, what: T = SAY["waiting_word"]
) -> Text:
    """Who waits, first in line first, with how long."""
    actors = prim.waiters if waiting is None else waiting
    text = Text(SAY["waiting"](what=what, n=len(actors)))
    text.append_text(actor_names(model, actors, now_ns))
    return text


def lock_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """A lock or an RLock: its holder, its line of waiters, how often it was taken."""
    text = title(prim)
    if prim.outside:  # an attached program's: its waiters are seen, never its holder
        text.append("\n")
        text.append(str(SAY["unseen"]), style="dim")
    else:
        text.append(SAY["acquired"](n=prim.acquisitions), style="dim")
        text.append_text(holders(model, prim, now_ns))
    text.append("\n")
    text.append_text(waiters(model, prim, now_ns))
    return text


def semaphore_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """A semaphore: its value as free and taken slots, who is inside and for how long, who waits."""
    text = title(prim)
    capacity = prim.capacity if prim.capacity is not None else len(prim.holders)
    free = prim.value if prim.value is not None else max(0, capacity - len(prim.holders))
    text.append(SAY["value"](free=free, capacity=capacity))
    text.append("  ")
    text.append("■" * len(prim.holders), style="bold green3")
    text.append("□" * max(0, free), style="dim")
    text.append(SAY["most"](most=prim.max_holders))
    text.append(SAY["inside"](n=len(prim.holders)))
    text.append_text(actor_names(model, {a: prim.held_since.get(a, now_ns) for a in prim.holders}, now_ns))
    dead = [p for p in _procs(model, prim.holders) if not p.alive]
    if dead:
        text.append(SAY["dead_inside"](names=", ".join(p.name for p in dead)), style="bold red")
    text.append("\n")
    text.append_text(waiters(model, prim, now_ns))
    return text


def event_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """An event: its flag, who waits for it, when it last changed."""
    text = title(prim)
    text.append(str(SAY["flag"]))
    text.append(str(prim.is_set), style="bold green3" if prim.is_set else "bold red1")
    ago = duration(now_ns - prim.changed_ns) if prim.changed_ns is not None else ""
    changed = SAY["changed"](ago=ago) if prim.changed_ns is not None else str(SAY["never"])
    text.append(SAY["sets"](n=prim.sets, changed=changed), style="dim")
    text.append_text(waiters(model, prim, now_ns, what=SAY["blocked_wait"]))
    return text


def queue_view(model: Model, prim: Prim, now_ns: int, limit: int = 12) -> Text:
    """A queue: depth, what is in it, who is blocked on get or put."""
    text = title(prim)
    if not prim.outside:  # an attached program's: what it holds is not seen, only who waits
        text.append(str(SAY["depth"]))
        text.append(str(max(prim.depth, 0)), style="bold")
        text.append(SAY["put_got"](puts=prim.puts, gets=prim.gets))
        in_flight = list(prim.contents)
        text.append(str(SAY["in_it"]))
        shown = ", ".join(in_flight[:limit]) + (" …" if len(in_flight) > limit else "")
        text.append(shown or str(SAY["empty"]), style="" if in_flight else "dim")
    if prim.blocked_get:
        text.append("\n")
        text.append_text(waiters(model, prim, now_ns, prim.blocked_get, SAY["blocked_get"]))
    if prim.blocked_put:
        text.append("\n")
        text.append_text(waiters(model, prim, now_ns, prim.blocked_put, SAY["blocked_put"]))
    return text


def pipe_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """A pipe: messages sent each way and not yet received, who is blocked on recv."""
    text = title(prim)
    for end, other in ((0, 1), (1, 0)):
        sent = prim.sent.get(other, 0)
        waiting = sent - prim.received.get(end, 0)
        text.append(SAY["to_end"](end=end, sent=sent))
        text.append(SAY["in_flight"](n=max(waiting, 0)), style="bold" if waiting > 0 else "dim")
    if prim.blocked_get:
        text.append("\n")
        text.append_text(waiters(model, prim, now_ns, prim.blocked_get, SAY["blocked_recv"]))
    return text


def pool_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """A pool: tasks handed out and results back, and its workers."""
    text = title(prim)
    text.append(SAY["tasks"](tasks=prim.tasks, results=prim.results, pending=max(prim.tasks - prim.results, 0)))
    if prim.failed:
        text.append(SAY["failed"](n=prim.failed), style="bold red")
    # Its maker's live pool workers (a process with two pools at once shows both pools' workers).
    workers = [p for p in model.procs.values() if p.role == "pool" and p.alive and p.ppid in _owners(prim)]
    text.append(SAY["workers"](n=len(workers)))
    text.append_text(names(workers, now_ns, limit=8))
    return text


def _owners(prim: Prim) -> set[int]:
    """The processes that made a primitive (its id starts with the pid that made it)."""
    pid = prim.id.partition(".")[0]
    return {int(pid)} if pid.isdigit() else set()


def manager_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """A manager: its proxies and the calls through each, and the last call."""
    text = title(prim)
    text.append(SAY["calls"](n=prim.calls), style="dim")
    for proxy, n in list(prim.proxies.items())[:8]:
        text.append(SAY["proxy"](proxy=proxy, n=n))
    if len(prim.proxies) > 8:
        text.append(SAY["more"](n=len(prim.proxies) - 8), style="dim")
    last = prim.last_call
    if last is not None:
        text.append(str(SAY["last"]))
        text.append(
            model.name_of(last.pid), style=PHASE_STYLE[model.procs[last.pid].phase] if last.pid in model.procs else ""
        )
        text.append(f" {proxy_call(last.data)}")
    return text


def barrier_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """A barrier: how many parties it needs, how often it let them through, who waits at it."""
    text = title(prim)
    text.append(SAY["parties"](parties=prim.capacity or "?", passed=prim.passed), style="dim")
    if prim.broken:
        text.append(str(SAY["broken"]), style="bold red")
    text.append("\n")
    text.append_text(waiters(model, prim, now_ns, what=SAY["at_barrier"]))
    return text


def condition_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """A condition: how often notified (and whether the last notify was lost), who waits in wait()."""
    text = title(prim)
    text.append(SAY["notifies"](n=prim.notifies), style="dim")
    if prim.lost_notify is not None:
        text.append(str(SAY["lost_notify"]), style="bold yellow")
    text.append("\n")
    text.append_text(waiters(model, prim, now_ns, what=SAY["blocked_wait"]))
    return text


VIEWS: dict[str, Callable[[Model, Prim, int], Text]] = {
    "lock": lock_view,
    "rlock": lock_view,
    "sem": semaphore_view,
    "event": event_view,
    "queue": queue_view,
    "pipe": pipe_view,
    "pool": pool_view,
    "manager": manager_view,
    "barrier": barrier_view,
    "cond": condition_view,
}


def prim_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """The view of any primitive, by its kind; a plain title for kinds without one."""
    view = VIEWS.get(prim.family)
    return view(model, prim, now_ns) if view else title(prim)
