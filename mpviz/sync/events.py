"""Condition, Event and Barrier: multiprocessing's own, reporting each step.

Their internal locks and semaphores come from the plain multiprocessing
context and say nothing; a Condition's own lock (the one its users hold) is
an instrumented RLock, or the lock it was given.
"""

from __future__ import annotations

import sys
import threading
from multiprocessing import synchronize

from mpviz.sync.base import pass_as_theirs, plain, timed
from mpviz.sync.locks import RLock
from mpviz.sync.naming import announce, name_and_site, new_prim
from mpviz.sync.sites import say
from mpviz.sync.turns import EXPIRE, GO, resume, turn
from mpviz.telemetry import now_ns

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from typing import Any


class Condition(synchronize.Condition):
    """``multiprocessing.Condition``: wait until notified, holding its lock around both.

    Reports ``cond.wait`` as a waiter gives up the lock to sleep, ``cond.woke``
    or ``cond.timeout`` once it holds the lock again, and ``cond.notify``
    (``{"n"}``) / ``cond.notify_all``.  The lock reports its own holders.
    """

    id: str
    name: str
    # multiprocessing's
    _lock: Any
    _sleeping_count: Any
    _woken_count: Any
    _wait_semaphore: Any

    def __init__(self, lock: Any = None, *, ctx: Any = None, name: str | None = None) -> None:
        self.name, site = name_and_site("cond", name)
        if lock is None:
            lock = RLock(ctx=ctx, name=f"{self.name}.lock")
        super().__init__(lock, ctx=plain(ctx))
        self._lock_id: str = getattr(lock, "id", "")  # "": a lock that does not report
        self.id = announce("cond", self.name, site, lock=self._lock_id)

    def wait(self, timeout: float | None = None) -> bool:
        answer = turn("cond.wait", self.id, {"timeout": timeout})
        if answer != GO:
            return self._scheduled_wait(answer, timeout)
        if self._lock._semlock._is_mine():  # else multiprocessing's AssertionError, and nothing happened
            say("cond.wait", self.id, timed({"lock": self._lock_id}, timeout))
        woke = super().wait(timeout)
        say("cond.woke" if woke else "cond.timeout", self.id)
        return woke

    def _scheduled_wait(self, answer: bytes, timeout: float | None) -> bool:
        """multiprocessing's ``wait`` in a scheduled run: the lock let go as part of this operation
        (not at points of its own), ``cond.wait`` said once it is (the dashboard counts a waiter
        from then on), and the lock taken back at its own points once woken."""
        lock = self._lock
        assert lock._semlock._is_mine(), "must acquire() condition before using wait()"
        self._sleeping_count.release()
        count = lock._semlock._count()
        t = now_ns()
        for _ in range(count):
            lock._semlock.release()
            if self._lock_id:
                say(f"{lock.family}.released", self._lock_id, t_ns=t)
        say("cond.wait", self.id, timed({"lock": self._lock_id}, 0 if answer == EXPIRE else timeout))
        try:
            woke = bool(self._wait_semaphore.acquire(True, 0 if answer == EXPIRE else timeout))
        finally:
            self._woken_count.release()
            for _ in range(count):
                lock.acquire()
        say("cond.woke" if woke else "cond.timeout", self.id)
        return woke

    def notify(self, n: int = 1) -> None:
        turn("cond.notify", self.id, {"n": n})
        t = now_ns()
        super().notify(n)
        say("cond.notify", self.id, {"n": n}, t_ns=t)

    def notify_all(self) -> None:
        turn("cond.notify", self.id, {"n": sys.maxsize})
        t = now_ns()
        super().notify(sys.maxsize)
        say("cond.notify_all", self.id, t_ns=t)

    # multiprocessing's state, and ours beside it.
    def __getstate__(self) -> Any:
        return (super().__getstate__(), self.id, self.name, self._lock_id)

    def __setstate__(self, state: Any) -> None:
        theirs, self.id, self.name, self._lock_id = state
        super().__setstate__(theirs)  # type: ignore[misc]  # multiprocessing's, missing from typeshed


class Event(synchronize.Event):
    """``multiprocessing.Event``: a flag that processes wait for.

    ``wait`` reports ``event.woke {"waited": False}`` when the flag is already
    up, else ``event.wait`` then ``event.woke``/``event.timeout``.
    """

    def __init__(self, *, ctx: Any = None, name: str | None = None) -> None:
        super().__init__(ctx=plain(ctx))
        self.id, self.name = new_prim("event", name)

    def set(self) -> None:
        turn("event.set", self.id)
        # Said before it is done: a waiter it wakes may end this process at once (terminate()),
        # and a record lost then would leave a pass through the event that nothing set.
        say("event.set", self.id)
        super().set()

    def clear(self) -> None:
        turn("event.clear", self.id)
        t = now_ns()
        super().clear()
        say("event.clear", self.id, t_ns=t)

    def wait(self, timeout: float | None = None) -> bool:
        answer = turn("event.wait", self.id, {"timeout": timeout})
        if self.is_set():
            say("event.woke", self.id, {"waited": False})
            return True
        if answer == EXPIRE:
            timeout = 0  # a scheduled run: a wait for its timeout is over at once
        say("event.wait", self.id, timed(None, timeout))
        woke = super().wait(timeout)
        say("event.woke" if woke else "event.timeout", self.id, {"waited": True} if woke else None)
        resume(answer, self.id, "event.woke" if woke else "event.timeout")
        return woke


# The timeout of the barrier wait this thread is in (see Barrier.wait).
_waits = threading.local()


class Barrier(synchronize.Barrier):
    """``multiprocessing.Barrier``: ``parties`` processes wait for each other.

    Reports ``barrier.wait`` on arrival (``{"n_waiting", "parties"}``, counted
    under the barrier's own lock), ``barrier.pass`` (``{"index"}``),
    ``barrier.broken``, ``barrier.abort`` and ``barrier.reset``.
    """

    # threading.Barrier's
    _count: int
    _parties: int
    _timeout: float | None

    def __init__(
        self,
        parties: int,
        action: Any = None,
        timeout: float | None = None,
        *,
        ctx: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(parties, action, timeout, ctx=plain(ctx))
        self.id, self.name = new_prim("barrier", name, parties=parties)

    def _enter(self) -> None:
        # threading.Barrier.wait calls this holding the lock, just before it
        # counts the caller in: the one moment the count is exact.
        super()._enter()  # type: ignore[misc]  # threading.Barrier's, missing from typeshed
        facts = {"n_waiting": self._count + 1, "parties": self._parties}
        say("barrier.wait", self.id, timed(facts, getattr(_waits, "timeout", None)))

    def wait(self, timeout: float | None = None) -> int:
        answer = turn("barrier.wait", self.id, {"timeout": timeout})
        if answer == EXPIRE:
            timeout = 0  # a scheduled run: a wait for its timeout is over at once
        # Its record is said in _enter, which threading's wait calls without the timeout: told
        # there through this thread's own slot (threading's default, the barrier's, if none).
        _waits.timeout = self._timeout if timeout is None else timeout
        try:
            index = super().wait(timeout)
        except threading.BrokenBarrierError:
            say("barrier.broken", self.id)
            resume(answer, self.id, "barrier.broken")
            raise
        say("barrier.pass", self.id, {"index": index})
        resume(answer, self.id, "barrier.pass")
        return index

    def abort(self) -> None:
        turn("barrier.abort", self.id)
        t = now_ns()
        super().abort()
        say("barrier.abort", self.id, t_ns=t)

    def reset(self) -> None:
        turn("barrier.reset", self.id)
        t = now_ns()
        super().reset()
        say("barrier.reset", self.id, t_ns=t)

    def __getstate__(self) -> Any:
        return (super().__getstate__(), self.id, self.name)

    def __setstate__(self, state: Any) -> None:
        # multiprocessing's __init__ calls this with its own state (five items);
        # unpickling, with ours beside it.
        if len(state) == 3:
            state, self.id, self.name = state
        super().__setstate__(state)  # type: ignore[misc]  # multiprocessing's, missing from typeshed


# What a program gets passes for multiprocessing's own (see base.pass_as_theirs).
pass_as_theirs(Condition, Event, Barrier)
