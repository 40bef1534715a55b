"""The scheduler of a scheduled run: every process of the run waits at each operation until it says go.

In a scheduled run (``mpviz explore``, ``--step``, ``--schedule``) every
process asks at each operation (``turn.ask``, :mod:`mpviz.sync.turns`) and
waits.  The scheduler sees every record as the channels read it, in each
connection's order (:meth:`Scheduler.records`), and keeps for each process —
each thread that takes turns — whether it runs, waits at a point, is blocked,
runs free or has ended.  When none runs and none is on its way (a child
starting, a waiter woken), it offers those waiting at a point to its chooser,
with what each is about to do and whether that would block
(:class:`~mpviz.schedule.world.World`), and lets the chosen one go: exactly
one runs the program's code at a time, and the run is the list of choices.

* Nobody may go (each would block) and nothing runs: every one is let go
  into its wait (``BLOCKS``), and the run is stuck for good unless one comes
  back — a deadlock or a hang, which the model then names.
* One that does not come back to a point within ``step_timeout`` (it
  computes, or waits in something mpviz does not see: a socket between two
  processes) runs free, and the schedule says so (``turn.free``); the run
  goes on without it.
* Each choice is a record (``turn.go``, and ``turn.offer`` while a person
  chooses): the recording of a scheduled run holds its schedule.

Decisions are made in the channels' reading thread; a person's choice
(:meth:`go`) and a lesson's main part (which runs in this process and asks
through :meth:`take_here`) come from other threads: everything is under one
lock.

Where each process is, as the records tell, is kept by the scheduler's base,
:class:`~mpviz.runtime.takers.Takers`; this module decides.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Iterator

from mpviz.runtime.takers import STEP_TIMEOUT_S, Entity, State, Takers, Turns, stopped
from mpviz.schedule.choice import Offer, Option, Step
from mpviz.telemetry import Event, now_ns
from mpviz.telemetry.framing import BLOCKS, EXPIRE, GO, turn_answer

# Where those who schedule a run have always found them.
__all__ = ["STEP_TIMEOUT_S", "Scheduler", "State", "Turns", "stopped"]

# Waits granted knowing they block until another process acts (they come back at a point when woken).
WAITS = ("cond.wait", "barrier.wait")


class Scheduler(Takers):
    """Decides who goes, at every point (see the module); knows where each is as :class:`Takers`."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.stuck_since: int | None = None  # nobody could go: everyone let go into its wait
        self.stuck: list[Step] = []  # what each was about to do then
        self.offer: Offer | None = None  # what a person chooses from now (step mode)
        self.free_mode = False  # "run free": everyone goes as soon as it may
        self.until: str | None = None  # "run until it blocks": this one goes as long as it may
        self._last: str | None = None
        self._lock = threading.RLock()
        self._here: dict[int, tuple[threading.Lock, list[bytes]]] = {}  # this process's waiting asks
        self._asks = itertools.count(1)
        self._closed = False

    # --- what comes in ------------------------------------------------------------------------

    def records(self, events: list[Event], gone: list[int]) -> None:
        """Every record read, in each connection's order (the channels' thread), then the processes
        whose connection closed (they ended); then decide."""
        with self._lock:
            for event in events:
                self.world.apply(event)
                self._note(event)
            for pid in gone:
                self._end(pid)
            self._timeouts(now_ns())
            self._decide()

    def expect(self, pid: int) -> None:
        """``pid`` will come to a point (a lesson's main part, about to start)."""
        with self._lock:
            self.expected[pid] = now_ns()

    def left(self, pid: int) -> None:
        """A lesson's main part returned: it takes no more turns."""
        with self._lock:
            self._end(pid)
            self._decide()

    @contextlib.contextmanager
    def away(self, pid: int) -> Iterator[None]:
        """A lesson's main part in its own chores (a real-time wait): nobody waits for it meanwhile."""
        with self._lock:
            entity = self.entities.get((pid, pid))
            if entity is not None and entity.state is State.RUNNING:
                entity.state = State.AWAY
            self.expected.pop(pid, None)
            self._decide()
        yield

    def take_here(self, ask: Event) -> bytes:
        """The taker of this process's points (a lesson's main part): ask, wait for the answer."""
        held = threading.Lock()
        held.acquire()
        answer: list[bytes] = []
        with self._lock:
            if self._closed:
                raise RuntimeError("the run is stopping")
            n = next(self._asks)
            ask.data["n"] = n
            self._here[n] = (held, answer)
        self.post(ask)
        held.acquire()
        if not answer:
            raise RuntimeError("the run is stopping")
        return answer[0]

    def close(self) -> None:
        """The run ends: a point waiting here fails (the main part gives up), nothing more is decided."""
        with self._lock:
            self._closed = True
            waiting, self._here = self._here, {}
            for fd in self._ending.values():
                os.close(fd)
            self._ending.clear()
        for held, _ in waiting.values():
            held.release()

    # --- a person's choices (step mode) -------------------------------------------------------

    def go(self, who: str) -> bool:
        """Let ``who`` go: it must be offered now (nobody runs, and it may go); False if it is not."""
        with self._lock:
            option = self.offer.option(who) if self.offer is not None else None
            entity = self._by_who(who)
            if option is None or not option.enabled or entity is None or entity.state is not State.WAITING:
                return False
            self._grant(entity)
            self._decide()
            return True

    def go_until_blocked(self, who: str) -> bool:
        """Let ``who`` go, and again at each of its points, as long as it may."""
        with self._lock:
            self.until = who
            if self.go(who):
                return True
            self.until = None
            return False

    def set_free(self, free: bool) -> None:
        """Run free (everyone goes as soon as it may), or back to one at a time."""
        with self._lock:
            self.free_mode = free
            self.until = None
            self._decide()

    # --- deciding -----------------------------------------------------------------------------

    def _decide(self) -> None:
        while not self._closed:
            waiting = [e for e in self.entities.values() if e.state is State.WAITING]
            if self.free_mode:
                ready = [e for e in waiting if self._may_go(e)]
                for entity in ready:
                    self._grant(entity)
                if ready or not self._quiet(waiting):
                    return
            elif not self._quiet(waiting):
                return
            if not waiting:
                return
            if not any(self._may_go(e) for e in waiting):
                if self.turns.virtual_time and self._advance(waiting):
                    continue
                self._all_stuck(waiting)
                return
            offer = Offer(tuple(self._option(e) for e in waiting), self._last, len(self.steps))
            if self.until is not None:
                going = self._by_who(self.until)
                if going is not None and going in waiting and self._may_go(going):
                    self._grant(going)
                    continue
                self.until = None
            who = None if self.free_mode else self.turns.chooser.choose(offer)
            if who is None:
                if offer != self.offer:
                    self.offer = offer
                    self._post_offer(offer)
                return
            chosen = self._by_who(who)
            if chosen is None or chosen not in waiting:
                raise ValueError(f"the chooser chose {who!r}, who is not waiting")
            self._grant(chosen)

    def _quiet(self, waiting: list[Entity]) -> bool:
        """Nobody runs, nobody is on its way: a decision can be made (the same one, however fast
        each process got here)."""
        if not self._all_ended() or any(e.state is State.RUNNING for e in self.entities.values()):
            return False
        return not self.expected and not any(n > 0 for n in self._waking.values())

    def _may_go(self, entity: Entity) -> bool:
        """Its operation would not block, or it waits knowing it blocks (a condition, a barrier), or
        it times out (a timed wait: at once, or in virtual time when its timeout has passed)."""
        ask = entity.ask
        if ask is None:
            return False
        op = ask.data.get("op")
        on_time = not self.turns.virtual_time or entity.wake <= self.vnow
        if op in WAITS:
            return True
        if op == "proc.sleep":
            return on_time
        if not self._blocks(entity):
            return True
        return ask.data.get("timeout") is not None and on_time

    def _blocks(self, entity: Entity) -> bool:
        return entity.ask is not None and self.world.blocks(entity.ask)

    def _advance(self, waiting: list[Entity]) -> bool:
        """Virtual time: on to the end of the first sleep (or timed wait) among the waiting; False if none."""
        later = [e.wake for e in waiting if e.wake > self.vnow]
        if not later:
            return False
        self.vnow = min(later)
        return True

    def _all_stuck(self, waiting: list[Entity]) -> None:
        """Nobody can go: each one goes into its wait (the model then sees who waits for what)."""
        now = now_ns()
        if self.stuck_since is None:
            self.stuck_since = now
            self.stuck = [self._option(e).step for e in waiting]
        for entity in waiting:
            self._grant(entity, record=False)
        self.post(Event(now, self.here, "turn.stuck", "", {"who": [step.who for step in self.stuck]}))

    def _option(self, entity: Entity) -> Option:
        assert entity.ask is not None
        return Option(self._step(entity), self._may_go(entity))

    def _step(self, entity: Entity) -> Step:
        ask = entity.ask
        assert ask is not None
        op = str(ask.data.get("op", ""))
        what = self.world.name(ask.obj) if ask.obj in self.world.prims else ask.obj
        at, code = self.sites.get(str(ask.data.get("at", "")), ("", ""))
        return Step(entity.who, op, what, at, code)

    def _grant(self, entity: Entity, record: bool = True) -> None:
        ask = entity.ask
        assert ask is not None
        op = ask.data.get("op")
        blocks = self._blocks(entity)
        if blocks and (op in WAITS or ask.data.get("timeout") is None):
            answer = BLOCKS
        elif blocks:
            answer = EXPIRE
        else:
            answer = GO
        step = self._step(entity)
        now = now_ns()
        entity.state = State.RUNNING
        entity.since_ns = now
        entity.answer = answer
        entity.ask = None
        self.offer = None
        if record:
            self.stuck_since = None
            self._last = entity.who
            self.steps.append(step)
            pid, tid = entity.actor
            data: dict[str, object] = {"who": step.who, "op": step.op, "what": step.what, "at": step.at}
            data["code"] = step.code
            data["step"] = len(self.steps)
            if tid != pid:
                data["th"] = tid
            self.post(Event(now, pid, "turn.go", "", data))
        n = ask.data.get("n")
        if not isinstance(n, int):
            return
        if entity.actor[0] == self.here:
            waiting = self._here.pop(n, None)
            if waiting is not None:
                waiting[1].append(answer)
                waiting[0].release()
        else:
            self.send(entity.actor[0], turn_answer(answer, n))

    def _post_offer(self, offer: Offer) -> None:
        options = [[o.who, o.step.op, o.step.what, o.step.at, o.enabled] for o in offer.options]
        self.post(Event(now_ns(), self.here, "turn.offer", "", {"options": options}))
