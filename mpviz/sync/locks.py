"""Lock, RLock, Semaphore and BoundedSemaphore: multiprocessing's own, reporting each step.

They subclass ``multiprocessing.synchronize``'s classes, so blocking,
timeouts, errors, repr and pickling are multiprocessing's.  multiprocessing
binds ``acquire``/``release`` to the raw semaphore on each instance (and
again after unpickling) and sends ``with`` straight to it; here the methods
stay ours, so every path reports.
"""

from __future__ import annotations

import time
import weakref
from multiprocessing import synchronize

from mpviz.sync import turns
from mpviz.sync.base import hides_itself, pass_as_theirs, timed, unseen
from mpviz.sync.naming import new_prim
from mpviz.sync.sites import say
from mpviz.sync.turns import EXPIRE, GO, resume, turn
from mpviz.telemetry import record
from mpviz.telemetry.ring_straight import bare_kind

_clock = time.monotonic_ns  # (telemetry.now_ns's, without its Python call: this is the hot path)

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from typing import Any


# Every lock and semaphore of this process (made here, inherited, or unpickled), while it lives.
_made: weakref.WeakSet[_Reporting] = weakref.WeakSet()


def any_held() -> bool:
    """Whether this thread holds one of this process's locks (or a semaphore of one: a Value changed
    under a lock of the program's own is guarded by it, see values.py; one of four places is not)."""
    return any(
        lock._semlock._is_mine() and (lock.family != "sem" or getattr(lock, "initial", 0) == 1) for lock in list(_made)
    )


class _Reporting(synchronize.SemLock):
    """Reports ``acquired``/``released``, and ``wait``/``timeout`` only around a real wait.

    ``acquire`` first tries without blocking, so a process that gets the
    primitive at once reports only ``acquired``: the dashboard shows who is
    stuck, not noise.
    """

    family = "lock"
    id: str
    name: str
    _semlock: Any  # multiprocessing's
    # Each record's kind, made once per class (see __init_subclass__), not an f-string per operation.
    _acquire = "lock.acquire"
    _release = "lock.release"
    _wait = "lock.wait"
    _acquired = "lock.acquired"
    _released = "lock.released"
    _timeout = "lock.timeout"
    # The same kinds as a ring's BARE entry has them (RingWriter.bare: a lock's records told in one
    # call), None for a semaphore's (they carry its count).  The instance's own (see _say).
    _acquired_bits: int | None
    _released_bits: int | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for op in ("acquire", "release", "wait", "acquired", "released", "timeout"):
            setattr(cls, f"_{op}", f"{cls.family}.{op}")

    def _say(self, name: str | None, **facts: Any) -> None:
        self.id, self.name = new_prim(self.family, name, **facts)
        _made.add(self)
        # On the instance, which pickles them with it: in 3.11 an instance's own attribute is one
        # specialised step, a class's is looked up through the class (~250 instructions).
        self._acquired_bits = None if self._counts else bare_kind(self._acquired)
        self._released_bits = None if self._counts else bare_kind(self._released)

    def _make_methods(self) -> None:
        """multiprocessing binds the raw semaphore's methods here; ours stay (see the module's doc)."""

    # Does a record carry the count (a semaphore's)?  Asked before _facts is called: a lock's records,
    # most of a busy program's, pay no call for the None they carry.
    _counts = False

    def _facts(self) -> dict[str, Any] | None:
        return None

    # On every operation: no wrapper (pass_as_theirs would add a Python call), the exception hidden here.
    @hides_itself
    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        try:
            answer = turn(self._acquire, self.id, {"block": block, "timeout": timeout}) if turns.on else GO
            if self._semlock.acquire(False):
                bits = self._acquired_bits
                if bits is None:
                    say(self._acquired, self.id, self._facts())  # a semaphore's: its count
                else:
                    ring = record.ring
                    if ring is None or not ring.bare(bits, self.id, _clock()):
                        say(self._acquired, self.id, None, learn=True)
                return True
            if not block or answer == EXPIRE:
                if block:
                    say(self._timeout, self.id, self._facts() if self._counts else None)
                return False
            say(self._wait, self.id, timed(self._facts() if self._counts else None, timeout))
            got = self._semlock.acquire(True, timeout)
            say(self._acquired if got else self._timeout, self.id, self._facts() if self._counts else None)
            resume(answer, self.id, "acquired" if got else "timeout")
            return bool(got)
        except BaseException as exc:
            unseen(exc)
            raise

    @hides_itself
    def release(self) -> None:
        try:
            if turns.on:
                turn(self._release, self.id)
            t = _clock()
            self._semlock.release()
            bits = self._released_bits
            if bits is None:
                say(self._released, self.id, self._facts(), t_ns=t)  # a semaphore's: its count
            else:
                ring = record.ring
                if ring is None or not ring.bare(bits, self.id, t):
                    say(self._released, self.id, None, t_ns=t, learn=True)
        except BaseException as exc:
            unseen(exc)
            raise

    # ``with``: acquire itself (its defaults are the statement's), so the site is one frame up.
    __enter__ = acquire

    # ``with``'s end: release's body again, not a call to it (a Python call and a frame more to walk
    # for the site, on the way most programs use a lock).
    @hides_itself
    def __exit__(self, *exc: object) -> None:
        try:
            if turns.on:
                turn(self._release, self.id)
            t = _clock()
            self._semlock.release()
            bits = self._released_bits
            if bits is None:
                say(self._released, self.id, self._facts(), t_ns=t)  # a semaphore's: its count
            else:
                ring = record.ring
                if ring is None or not ring.bare(bits, self.id, t):
                    say(self._released, self.id, None, t_ns=t, learn=True)
        except BaseException as error:
            unseen(error)
            raise

    # multiprocessing pickles the raw semaphore only; ours (id, name …) travels beside it.
    def __getstate__(self) -> Any:
        ours = {k: v for k, v in self.__dict__.items() if k not in ("_semlock", "_is_fork_ctx")}
        return (super().__getstate__(), ours)

    def __setstate__(self, state: Any) -> None:
        theirs, ours = state
        self.__dict__.update(ours)
        super().__setstate__(theirs)  # type: ignore[misc]  # multiprocessing's, missing from typeshed
        _made.add(self)


class Lock(_Reporting, synchronize.Lock):
    """``multiprocessing.Lock``: one holder at a time, and no owner — anyone may release it."""

    family = "lock"

    def __init__(self, *, ctx: Any = None, name: str | None = None) -> None:
        super().__init__(ctx=ctx)
        self._say(name)


class RLock(_Reporting, synchronize.RLock):
    """``multiprocessing.RLock``: the holder may acquire it again; each acquire needs a release."""

    family = "rlock"

    def __init__(self, *, ctx: Any = None, name: str | None = None) -> None:
        super().__init__(ctx=ctx)
        self._say(name)


class Semaphore(_Reporting, synchronize.Semaphore):
    """``multiprocessing.Semaphore``: a counter; ``acquire`` takes one, blocking at zero.

    Its records carry the value after the step and the start value ("of").
    """

    family = "sem"
    initial: int
    _counts = True

    def __init__(self, value: int = 1, *, ctx: Any = None, name: str | None = None) -> None:
        super().__init__(value, ctx=ctx)
        self.initial = value
        self._say(name, value=value, bounded=isinstance(self, synchronize.BoundedSemaphore))

    def _facts(self) -> dict[str, Any]:
        return {"value": self._semlock._get_value(), "of": self.initial}


class BoundedSemaphore(Semaphore, synchronize.BoundedSemaphore):
    """``multiprocessing.BoundedSemaphore``: releasing above the start value raises ``ValueError``.

    (``Semaphore.__init__``'s ``super()`` reaches ``synchronize.BoundedSemaphore`` first.)
    """


# What a program gets passes for multiprocessing's own (see base.pass_as_theirs).
pass_as_theirs(Lock, RLock, Semaphore, BoundedSemaphore)
