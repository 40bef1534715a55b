"""The trace's hand-overs: an arrow from a cause to the effect it let through.

From a release to the acquire it let through, a put to the get that took that
item, a ``set()`` to each wait it woke, a send to its recv.  A cause waits for
its effect (in bounded memory: ``MAX_CAUSES``); the arrow is drawn when the
effect comes, by the builder (:mod:`mpviz.trace.builder`), as a zero-length
slice at each end on the processes' hand-over tracks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from mpviz.model import Model, Prim
from mpviz.telemetry import Event

# Causes kept waiting for their effect (puts of items never got, releases nobody took): the oldest
# are forgotten past this, so that a long run's waiting causes stay bounded.
MAX_CAUSES = 100_000

# One end of an arrow, on its process's hand-over track: (pid, name, at (ns), its flow fields as JSON).
End = Callable[[int, str, int, str], None]


class Handovers:
    """Causes waiting for their effect, and the arrows drawn from them (flow v2): each end goes to
    ``end``, the cause's first."""

    def __init__(self, model: Model, end: End) -> None:
        self.model = model
        self.end = end
        self.arrows = 0
        self.handing: set[int] = set()  # processes with a hand-over track
        # Causes waiting for their effect: releases by primitive, puts by (queue, item), sets by event, sends by (pipe, end).
        self._releases: dict[str, deque[tuple[int, int]]] = {}
        self._puts: dict[tuple[str, str], deque[tuple[int, int]]] = {}
        self._sets: dict[str, tuple[int, int]] = {}
        self._sends: dict[tuple[str, int], deque[tuple[int, int]]] = {}
        self._flows = 0

    def waiting_since(self) -> Iterator[int]:
        """When each cause still waiting for its effect was (ns)."""
        for causes in (self._releases, self._puts, self._sends):
            for waiting in causes.values():
                yield from (t for t, _ in waiting)
        yield from (t for t, _ in self._sets.values())

    def acquirable(self, event: Event, op: str, prim: Prim | None, waited: bool) -> None:
        """A lock's, an rlock's or a semaphore's record: its arrow.  ``prim`` is the record's
        primitive once it is applied, ``waited`` whether its process was waiting on it before."""
        if op == "released":
            if prim is not None and prim.waiters:
                # A release with someone waiting hands over: to the next acquire after a wait.
                self._cause(self._releases, event.obj, (event.t_ns, event.pid))
        elif op == "acquired" and waited and self._releases.get(event.obj):
            name = self.model.prim_name(event.obj)
            self._effect(self._releases, event.obj, (event.t_ns, event.pid), f"release '{name}'", f"acquire '{name}'")

    def cause_and_effect(self, event: Event, family: str, op: str) -> None:
        """Arrows of queues, events and pipes."""
        here = (event.t_ns, event.pid)
        if family == "queue":
            if op == "put":
                self._cause(self._puts, (event.obj, str(event.data.get("item", ""))), here)
            elif op == "get":
                name = self.model.prim_name(event.obj)
                key = (event.obj, str(event.data.get("item", "")))
                self._effect(self._puts, key, here, f"put into '{name}'", f"get from '{name}'")
        elif family == "event":
            if op == "set":
                self._sets[event.obj] = here
            elif op == "woke" and event.data.get("waited") and event.obj in self._sets:
                name = self.model.prim_name(event.obj)
                self._flow(self._sets[event.obj], here, f"set '{name}'", f"woke on '{name}'")
        elif family == "pipe":
            if op not in ("send", "recv"):
                return
            end = event.data.get("end")
            if not isinstance(end, int):
                return
            if op == "send":
                self._cause(self._sends, (event.obj, end), here)
            else:
                name = self.model.prim_name(event.obj)
                self._effect(self._sends, (event.obj, 1 - end), here, f"send on '{name}'", f"recv on '{name}'")

    def _cause(self, causes: dict[Any, deque[tuple[int, int]]], key: Any, here: tuple[int, int]) -> None:
        """A cause waits for its effect; past ``MAX_CAUSES`` waiting, the oldest key's are forgotten."""
        waiting = causes.get(key)
        if waiting is None:
            if len(causes) >= MAX_CAUSES:
                del causes[next(iter(causes))]
            waiting = causes[key] = deque(maxlen=MAX_CAUSES)
        waiting.append(here)

    def _effect(
        self, causes: dict[Any, deque[tuple[int, int]]], key: Any, here: tuple[int, int], out: str, into: str
    ) -> None:
        """The effect of the oldest cause waiting under ``key``, if any: an arrow."""
        waiting = causes.get(key)
        if waiting:
            self._flow(waiting.popleft(), here, out, into)
            if not waiting:
                del causes[key]

    def _flow(self, cause: tuple[int, int], effect: tuple[int, int], out_name: str, in_name: str) -> None:
        """An arrow from the cause's moment to the effect's: a zero-length slice at each end."""
        self._flows += 1
        self.arrows += 1
        (t_out, pid_out), (t_in, pid_in) = cause, effect
        self.handing.update((pid_out, pid_in))
        bind = self._flows
        self.end(pid_out, out_name, t_out, f',"bind_id":{bind},"flow_out":true')
        self.end(pid_in, in_name, t_in, f',"bind_id":{bind},"flow_in":true')
