"""One view per kind of primitive, drawn from the model alone.

Lesson panels put them where they fit; a watched program shows one for each
of its primitives.  Each view is a function from a primitive to ``Text`` (so
that a panel can place it among its own words) and :class:`PrimitiveView`
draws one primitive as a widget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text

from mpviz.model import Model, Prim, Proc
from mpviz.ui.theme import PHASE_STYLE, duration
from mpviz.ui.widgets.text_view import TextView


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
        text.append(f" … and {len(procs) - limit} more", style="dim")
    if not procs:
        text.append("nobody", style="dim")
    return text


def _procs(model: Model, pids: dict[int, int]) -> list[Proc]:
    return [model.procs[p] for p in pids if p in model.procs]


def title(prim: Prim) -> Text:
    """``Lock 'ticket'`` and where it was made, if known."""
    text = Text.assemble((f"{prim.word.capitalize()} '{prim.name}'", "bold"))
    if prim.site:
        text.append(f"  {prim.site}", style="dim")
    return text


def holders(model: Model, prim: Prim, now_ns: int) -> Text:
    """Who holds it, for how long; a dead holder said to be dead."""
    text = Text()
    if not prim.holders:
        text.append("  free", style="dim")
        return text
    for i, pid in enumerate(prim.holders):
        proc = model.procs.get(pid)
        text.append("  held by " if i == 0 else ", ")
        text.append(proc.name if proc else f"pid {pid}", style=PHASE_STYLE[proc.phase] if proc else "")
        text.append(f" (pid {pid}) for {duration(now_ns - prim.held_since.get(pid, now_ns))}")
        if proc is not None and not proc.alive:
            text.append(" — dead: it will never release", style="bold red")
    return text


def waiters(
    model: Model, prim: Prim, now_ns: int, waiting: dict[int, int] | None = None, what: str = "waiting"
) -> Text:
    """Who waits, first in line first, with how long."""
    pids = prim.waiters if waiting is None else waiting
    text = Text(f"  {what} ({len(pids)}): ")
    text.append_text(names(_procs(model, pids), now_ns, since=pids))
    return text


def lock_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """A lock or an RLock: its holder, its line of waiters, how often it was taken."""
    text = title(prim)
    text.append(f"  {prim.acquisitions} acquired\n", style="dim")
    text.append_text(holders(model, prim, now_ns))
    text.append("\n")
    text.append_text(waiters(model, prim, now_ns))
    return text


def semaphore_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """A semaphore: its value as free and taken slots, who is inside and for how long, who waits."""
    text = title(prim)
    capacity = prim.capacity if prim.capacity is not None else len(prim.holders)
    free = prim.value if prim.value is not None else max(0, capacity - len(prim.holders))
    text.append(f"\n  value {free} of {capacity}  ")
    text.append("■" * len(prim.holders), style="bold green3")
    text.append("□" * max(0, free), style="dim")
    text.append(f"  most at once {prim.max_holders}\n")
    text.append(f"  inside ({len(prim.holders)}): ")
    text.append_text(names(_procs(model, prim.holders), now_ns, since=prim.held_since))
    dead = [p for p in _procs(model, prim.holders) if not p.alive]
    if dead:
        text.append(f"\n  {', '.join(p.name for p in dead)} dead inside: never released", style="bold red")
    text.append("\n")
    text.append_text(waiters(model, prim, now_ns))
    return text


def event_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """An event: its flag, who waits for it, when it last changed."""
    text = title(prim)
    text.append("  flag ")
    text.append(str(prim.flag), style="bold green3" if prim.flag else "bold red1")
    changed = f"changed {duration(now_ns - prim.changed_ns)} ago" if prim.changed_ns is not None else "never changed"
    text.append(f"  {prim.sets} set()  {changed}\n", style="dim")
    text.append_text(waiters(model, prim, now_ns, what="blocked in wait()"))
    return text


def queue_view(model: Model, prim: Prim, now_ns: int, limit: int = 12) -> Text:
    """A queue: depth, what is in it, who is blocked on get or put."""
    text = title(prim)
    text.append("  depth ")
    text.append(str(max(prim.depth, 0)), style="bold")
    text.append(f"  put {prim.puts}, got {prim.gets}\n")
    in_flight = [item for item, n in prim.in_flight.items() for _ in range(max(n, 0))]
    text.append("  in it: ")
    shown = ", ".join(in_flight[:limit]) + (" …" if len(in_flight) > limit else "")
    text.append(shown or "empty", style="" if in_flight else "dim")
    if prim.blocked_get:
        text.append("\n")
        text.append_text(waiters(model, prim, now_ns, prim.blocked_get, "blocked on get"))
    if prim.blocked_put:
        text.append("\n")
        text.append_text(waiters(model, prim, now_ns, prim.blocked_put, "blocked on put (full)"))
    return text


def pipe_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """A pipe: messages sent each way and not yet received, who is blocked on recv."""
    text = title(prim)
    for end, other in ((0, 1), (1, 0)):
        sent = prim.sent.get(other, 0)
        waiting = sent - prim.received.get(end, 0)
        text.append(f"\n  to end {end}: {sent} sent, ")
        text.append(f"{max(waiting, 0)} in flight", style="bold" if waiting > 0 else "dim")
    if prim.blocked_get:
        text.append("\n")
        text.append_text(waiters(model, prim, now_ns, prim.blocked_get, "blocked on recv"))
    return text


VIEWS: dict[str, Callable[[Model, Prim, int], Text]] = {
    "lock": lock_view,
    "rlock": lock_view,
    "sem": semaphore_view,
    "event": event_view,
    "queue": queue_view,
    "pipe": pipe_view,
}


def prim_view(model: Model, prim: Prim, now_ns: int) -> Text:
    """The view of any primitive, by its kind; a plain title for kinds without one."""
    view = VIEWS.get(prim.family)
    return view(model, prim, now_ns) if view else title(prim)


class PrimitiveView(TextView):
    """One primitive of the model, drawn by its kind."""

    def __init__(self, prim_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prim_id = prim_id

    def present(self, model: Model, now_ns: int) -> None:
        prim = model.prims.get(self.prim_id)
        if prim is not None:
            self.show(prim_view(model, prim, now_ns))
