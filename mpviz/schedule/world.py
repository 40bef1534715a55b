"""What the records say about each primitive and process, as far as a scheduler needs it: would an operation block?

The scheduler (``mpviz.runtime.scheduler``) feeds every record of a run to a
:class:`World`, in each connection's order, and asks it about each process
waiting at a scheduling point: would its operation (a ``turn.ask`` record)
block now?  Who holds each lock, each semaphore's value, each queue's depth,
each pipe end's messages, each event's flag, which processes ended; and the
objects a Manager's server holds that the program's processes call through
their proxies (named after the proxy), with who holds a proxied Lock or RLock
(its acquire and release, from the proxy's ``manager.call`` after the point).  Only one
process runs between two points, and each process's records come before its
next point on its own connection, so the answer is exact at every decision.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mpviz.telemetry import Event

# Who acts: a process's main thread is (pid, pid), another thread (pid, its native id).
Actor = tuple[int, int]


def actor_of(event: Event) -> Actor:
    th = event.data.get("th")
    return (event.pid, th if type(th) is int and th > 0 else event.pid)


@dataclass
class Prim:
    family: str
    holders: Counter[Actor] = field(default_factory=Counter)  # locks: actor → depth
    value: int = 0  # semaphores
    maxsize: int = 0  # queues
    depth: int = 0
    unfinished: int = 0  # joinable queues: puts not yet marked done
    pending: list[int] = field(default_factory=lambda: [0, 0])  # pipes: messages waiting at each end
    is_set: bool = False  # events
    parties: int = 0  # barriers
    arrived: int = 0  # barriers: waiting in this round


class World:
    def __init__(self) -> None:
        self.prims: dict[str, Prim] = {}
        self.names: dict[str, str] = {}  # primitive id → its name (for words)
        self.alive: set[int] = set()  # processes started and not ended, and threads that said so
        self.ended: set[int] = set()
        self.calling: dict[Actor, str] = {}  # a call through a proxy let go: its proxied object, by caller

    def apply(self, event: Event) -> None:
        kind, data = event.kind, event.data
        if kind == "prim.new":
            self._new(event.obj, data)
            return
        if kind == "turn.ask":
            self._asked(event)
            return
        if kind == "manager.call":
            self._called(event)
            return
        family, _, step = kind.partition(".")
        prim = self.prims.get(event.obj)
        if family == "proc":
            self._proc(event, step)
        elif prim is None:
            return
        elif family in ("lock", "rlock", "sem"):
            self._held(prim, event, step)
        elif family == "queue":
            self._queue(prim, step)
        elif family == "pipe":
            end = data.get("end")
            if end in (0, 1) and step in ("send", "recv"):
                prim.pending[1 - end if step == "send" else end] += 1 if step == "send" else -1
        elif family == "event" and step in ("set", "clear"):
            prim.is_set = step == "set"
        elif family == "barrier":
            if step == "wait":
                prim.arrived = data.get("n_waiting", prim.arrived + 1) % max(prim.parties, 1)
            elif step in ("reset", "abort", "broken"):
                prim.arrived = 0

    def _new(self, prim_id: str, data: dict[str, Any]) -> None:
        kind = str(data.get("kind", ""))
        prim = self.prims[prim_id] = Prim(kind)
        self.names[prim_id] = str(data.get("name") or kind)
        value, maxsize, parties = data.get("value"), data.get("maxsize"), data.get("parties")
        prim.value = value if type(value) is int else 1
        prim.maxsize = maxsize if type(maxsize) is int else 0
        prim.parties = parties if type(parties) is int else 0

    def _asked(self, ask: Event) -> None:
        """A point: before a call through a proxy (its data names the proxy), the proxied object is
        known by that name, and its call's outcome will be this caller's next ``manager.call``."""
        who = actor_of(ask)
        self.calling.pop(who, None)
        proxy = ask.data.get("proxy")
        if not isinstance(proxy, str):
            return
        if ask.obj not in self.prims:
            family = ask.data.get("family")
            self.prims[ask.obj] = Prim(family if family in ("lock", "rlock") else "proxy")
        self.names[ask.obj] = proxy
        self.calling[who] = ask.obj

    def _called(self, event: Event) -> None:
        """A call through a proxy returned: a proxied lock's acquire took it if nobody else held it
        (the scheduler let it go knowing), its release gave it back."""
        who = actor_of(event)
        prim = self.prims.get(self.calling.pop(who, ""))
        if prim is None or prim.family not in ("lock", "rlock") or event.data.get("error"):
            return
        method = event.data.get("method")
        if method == "acquire" and not self._taken(prim, who, prim.family):
            prim.holders[who] += 1
        elif method == "release" and prim.holders[who] > 0:
            prim.holders[who] -= 1
            prim.holders += Counter()  # (drops the zeros)

    @staticmethod
    def _taken(prim: Prim, who: Actor, family: str) -> bool:
        """Would ``who``'s acquire of ``prim`` block: another holds it, or (a Lock) ``who`` does."""
        others = any(n > 0 and a != who for a, n in prim.holders.items())
        return others or (family == "lock" and prim.holders.get(who, 0) > 0)

    def _proc(self, event: Event, step: str) -> None:
        if step in ("spawn", "start"):
            if event.pid not in self.ended:
                self.alive.add(event.pid)
        elif step == "exit":
            self.alive.discard(event.pid)
            self.ended.add(event.pid)
        elif step == "thread":
            th = event.data.get("th")
            if type(th) is int:
                self.alive.add(th)
        elif step == "thread_end":
            th = event.data.get("th")
            if type(th) is int:
                self.alive.discard(th)
                self.ended.add(th)

    def _held(self, prim: Prim, event: Event, step: str) -> None:
        who = actor_of(event)
        value = event.data.get("value")
        if type(value) is int:
            prim.value = value
        if step == "acquired":
            prim.holders[who] += 1
            if type(value) is not int and prim.family == "sem":
                prim.value -= 1
        elif step == "released":
            if prim.holders[who] > 0:
                prim.holders[who] -= 1
            else:  # a multiprocessing Lock or a semaphore has no owner: anyone may release it
                other = next((a for a, n in prim.holders.items() if n > 0), None)
                if other is not None:
                    prim.holders[other] -= 1
            prim.holders += Counter()  # (drops the zeros)
            if type(value) is not int and prim.family == "sem":
                prim.value += 1

    def _queue(self, prim: Prim, step: str) -> None:
        if step == "put":
            prim.depth += 1
            prim.unfinished += 1
        elif step == "get":
            prim.depth -= 1
        elif step == "task_done":
            prim.unfinished -= 1

    # --- asking ------------------------------------------------------------------------------

    def blocks(self, ask: Event) -> bool:
        """Would the operation ``ask`` announces block now?  Unknown primitives never do."""
        data = ask.data
        op = str(data.get("op", ""))
        if data.get("block") is False:
            return False
        if op == "proc.join":
            child = data.get("child")
            return child in self.alive
        prim = self.prims.get(ask.obj)
        if prim is None:
            return False
        family, _, verb = op.partition(".")
        if verb == "acquire":
            if family == "sem":
                return prim.value <= 0
            return self._taken(prim, actor_of(ask), family)
        if op == "queue.get":
            return prim.depth <= 0
        if op == "queue.put":
            return 0 < prim.maxsize <= prim.depth
        if op == "queue.join":
            return prim.unfinished > 0
        if op == "pipe.recv":
            end = data.get("end")
            return end in (0, 1) and prim.pending[end] <= 0
        if op == "event.wait":
            return not prim.is_set
        if op == "cond.wait":
            return True  # until notified: granted, it blocks (see Scheduler)
        if op == "barrier.wait":
            return prim.arrived + 1 < prim.parties  # all but the last one wait for the last
        return False

    def name(self, prim_id: str) -> str:
        return self.names.get(prim_id, prim_id)
