"""``threading`` and ``queue`` in a watched program, reporting like multiprocessing's primitives.

A lock, a condition, a semaphore, an event, a barrier or a queue that the
program makes (its own code, not the standard library's: the locks inside a
``queue.Queue``, ``logging``'s, ``concurrent.futures``' stay plain and say
nothing) reports every step as ``mpviz.sync``'s do, with its thread: the model
sees which thread holds what and waits for what, and names a deadlock between
two threads.  A ``Thread.join`` of the program's own says whom it waits for.

The classes stay the standard library's (``isinstance``, ``repr`` and pickling
are theirs): their methods are wrapped, and only instances the program made
carry an id (``_mpviz_id``) and report.  ``threading.Lock`` and ``RLock`` are
factories of C types that cannot be wrapped in place: for the program they
give a small Python object around the real lock.  Only a watched program's
processes call :func:`instrument_threading` (``mpviz.inject``).
"""

from __future__ import annotations

import _thread
import functools
import os
import sys
import threading
from collections.abc import Callable, Iterable
from types import CodeType

from mpviz.sync.base import timed, when_imported
from mpviz.sync.sites import in_machinery, say
from mpviz.telemetry import emit, now_ns

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any


def new_prim(family: str, name: str | None, **facts: Any) -> tuple[str, str]:
    """``naming.new_prim``, whose module loads with the program's first primitive: a process that
    makes none (most of a program's children) does not import it before its first line."""
    from mpviz.sync import naming

    return naming.new_prim(family, name, **facts)


_PLAIN_LOCK = _thread.allocate_lock
# threading's own RLock (its C one), not ``threading.RLock``: that is the watched process's factory
# (mpviz.inject) by the time this module loads.
_PLAIN_RLOCK: Callable[[], Any] = threading._CRLock or threading._PyRLock  # type: ignore[attr-defined]
# Frames passed over when looking for who made an object: the first calls (mpviz.inject's) that
# load this module and go on into the wrappers it installs.
_FIRST_CALLS: set[CodeType] = set()


def _by_the_program(depth: int = 2) -> bool:
    """Is the code that called our caller the program's own (not the standard library's, not mpviz's)?"""
    try:
        return not in_machinery(sys._getframe(depth).f_code.co_filename)
    except ValueError:
        return False


# (queue's own path: the module is imported when the program imports it, see instrument_threading)
_LIBRARY_FILES = (threading.__file__, os.path.join(os.path.dirname(threading.__file__), "queue.py"))


def _made_by_the_program(obj: object) -> bool:
    """Was ``obj`` (being initialised) made by the program's own code?  A subclass's ``__init__`` in
    the standard library calling its base's (``BoundedSemaphore`` → ``Semaphore``) is passed over."""
    frame = sys._getframe(2)
    while frame.f_code in _FIRST_CALLS and frame.f_back is not None:
        frame = frame.f_back
    while frame.f_back is not None and frame.f_code.co_name == "__init__" and frame.f_locals.get("self") is obj:
        if frame.f_code.co_filename not in _LIBRARY_FILES:
            return True  # the program's own subclass
        frame = frame.f_back
    return not in_machinery(frame.f_code.co_filename)


class _Lock:
    """``threading.Lock()`` / ``RLock()`` as the program made it: the real lock inside, each step reported."""

    family = "lock"

    def __init__(self, lock: Any, name: str | None = None) -> None:
        self._lock = lock
        self._mpviz_id, self.name = new_prim(self.family, name)
        self._pid = os.getpid()
        self._holder = 0  # the thread that holds it (a plain lock's: it has no owner of its own)

    def _id(self) -> str:
        """Its id in this process: a forked child's copy is a lock of its own (see :meth:`_copied`)."""
        return self._mpviz_id if self._pid == os.getpid() else self._copied()

    def _copied(self) -> str:
        """In a child forked since it was made, at its first use there: the copy, a lock of this
        process, said; held, if it was held when the process forked — by the thread that forked
        (this one now: it may release it), or by another, which does not exist here: then the copy
        stays held for ever, and that is said too (``pitfall.fork_held``)."""
        parent, self._pid = self._mpviz_id, os.getpid()
        self._mpviz_id, _ = new_prim(self.family, self.name, copy_of=parent)
        forker = threading.main_thread().ident  # (the thread that forked: this process's main thread now)
        times = 1
        if self.family == "rlock":
            import re  # (here: a child's first use of a lock it was forked with, seldom)

            # Its owner and depth, as the C RLock shows them (it has no other way before 3.14).
            shown = re.search(r"owner=(\d+) count=(\d+)", repr(self._lock))
            owner, times = (int(shown[1]), int(shown[2])) if shown else (0, 0)
            held, mine = times > 0, owner == forker
        else:
            held, mine = bool(self._lock.locked()), self._holder == forker
        if held and mine:
            for _ in range(times):  # (an RLock the forking thread holds again and again)
                # By the main thread (no ``th``), whichever thread uses it first here.
                emit(f"{self.family}.acquired", self._mpviz_id)
        elif held:
            say("pitfall.fork_held", self._mpviz_id, {"of": parent})
        return self._mpviz_id

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        lock_id = self._id()
        if self._lock.acquire(False):
            self._holder = threading.get_ident()
            say(f"{self.family}.acquired", lock_id)
            return True
        if not blocking:
            return False
        say(f"{self.family}.wait", lock_id, timed(None, None if timeout == -1 else timeout))  # (-1: none)
        if self._lock.acquire(True, timeout):
            self._holder = threading.get_ident()
            say(f"{self.family}.acquired", lock_id)
            return True
        say(f"{self.family}.timeout", lock_id)
        return False

    def release(self) -> None:
        lock_id = self._id()
        t = now_ns()
        holder, self._holder = self._holder, 0  # (before: the next holder may take it at once)
        try:
            self._lock.release()
        except BaseException:
            self._holder = holder
            raise
        say(f"{self.family}.released", lock_id, t_ns=t)

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()

    def locked(self) -> bool:
        return bool(self._lock.locked())

    def _at_fork_reinit(self) -> None:
        self._lock._at_fork_reinit()

    def __repr__(self) -> str:
        return repr(self._lock)


class _RLock(_Lock):
    family = "rlock"

    def locked(self) -> bool:  # an RLock has no locked() before 3.14: as the real one says
        return bool(self._lock.locked()) if hasattr(self._lock, "locked") else False

    # What a Condition uses to let go of its lock while it waits, and take it back.
    def _is_owned(self) -> bool:
        return bool(self._lock._is_owned())

    def _release_save(self) -> Any:
        lock_id = self._id()
        t = now_ns()
        state = self._lock._release_save()
        for _ in range(state[0]):  # every level of a lock held again and again
            say("rlock.released", lock_id, t_ns=t)
        return state

    def _acquire_restore(self, state: Any) -> None:
        lock_id = self._id()
        self._lock._acquire_restore(state)
        for _ in range(state[0]):
            say("rlock.acquired", lock_id)


def programs_lock() -> Any:
    """A ``threading.Lock()`` the program made (mpviz.inject's factory tells who made it): it reports."""
    return _Lock(_PLAIN_LOCK())


def programs_rlock() -> Any:
    return _RLock(_PLAIN_RLOCK())


def _wraps(cls: type, name: str) -> Callable[[Callable[..., Any]], None]:
    """Put ``wrapper(original)`` in place of ``cls.name``."""

    def put(wrapper: Callable[..., Any]) -> None:
        original = getattr(cls, name)
        setattr(cls, name, functools.wraps(original)(wrapper(original)))

    return put


def _ours(obj: object) -> str:
    return getattr(obj, "_mpviz_id", "")


def _mark_init(cls: type, family: str, facts: Callable[[Any], dict[str, Any]] = lambda obj: {}) -> None:
    """Instances of ``cls`` the program makes are announced (``prim.new``) and carry their id."""

    @_wraps(cls, "__init__")
    def init(original: Callable[..., None]) -> Callable[..., None]:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
            original(self, *args, **kwargs)
            if _made_by_the_program(self):
                self._mpviz_id, _ = new_prim(family, None, **facts(self))

        return __init__


def _condition() -> None:
    cls = threading.Condition

    @_wraps(cls, "__init__")
    def init(original: Callable[..., None]) -> Callable[..., None]:
        def __init__(self: Any, lock: Any = None) -> None:  # noqa: N807
            mine = _made_by_the_program(self)
            if mine and lock is None:
                lock = _RLock(_PLAIN_RLOCK())  # the lock its users hold, seen as theirs
            original(self, lock)
            if mine:
                self._mpviz_id, _ = new_prim("cond", None, lock=_ours(lock))

        return __init__

    @_wraps(cls, "wait")
    def wait(original: Callable[..., bool]) -> Callable[..., bool]:
        def wait(self: Any, timeout: float | None = None) -> bool:
            prim = _ours(self)
            if not prim:
                return original(self, timeout)
            say("cond.wait", prim, timed({"lock": _ours(self._lock)}, timeout))
            woke = original(self, timeout)
            say("cond.woke" if woke else "cond.timeout", prim)
            return woke

        return wait

    @_wraps(cls, "notify")
    def notify(original: Callable[..., None]) -> Callable[..., None]:
        def notify(self: Any, n: int = 1) -> None:
            t = now_ns()
            original(self, n)
            if _ours(self):
                say("cond.notify", _ours(self), {"n": n}, t_ns=t)

        return notify

    # notify_all calls notify(len(waiters)): reported there.


def _semaphore() -> None:
    cls = threading.Semaphore
    _mark_init(cls, "sem", lambda sem: {"value": sem._value, "bounded": isinstance(sem, threading.BoundedSemaphore)})

    def facts(sem: Any) -> dict[str, Any]:
        return {"value": sem._value}

    @_wraps(cls, "acquire")
    def acquire(original: Callable[..., bool]) -> Callable[..., bool]:
        def acquire(self: Any, blocking: bool = True, timeout: float | None = None) -> bool:
            prim = _ours(self)
            if not prim:
                return original(self, blocking, timeout)
            if original(self, False):
                say("sem.acquired", prim, facts(self))
                return True
            if not blocking:
                return False
            say("sem.wait", prim, timed(facts(self), timeout))
            if original(self, True, timeout):
                say("sem.acquired", prim, facts(self))
                return True
            say("sem.timeout", prim, facts(self))
            return False

        return acquire

    cls.__enter__ = cls.acquire  # type: ignore[method-assign]  # (threading binds it to the acquire it had)
    # BoundedSemaphore's release is its own: both wrapped.
    _wraps(cls, "release")(_released)
    _wraps(threading.BoundedSemaphore, "release")(_released)


def _released(original: Callable[..., None]) -> Callable[..., None]:
    def release(self: Any, n: int = 1) -> None:
        t = now_ns()
        original(self, n)
        if _ours(self):
            for _ in range(n):
                say("sem.released", _ours(self), {"value": self._value}, t_ns=t)

    return release


def _event() -> None:
    cls = threading.Event
    _mark_init(cls, "event")

    @_wraps(cls, "set")
    def set_(original: Callable[..., None]) -> Callable[..., None]:
        def set(self: Any) -> None:
            t = now_ns()
            original(self)
            if _ours(self):
                say("event.set", _ours(self), t_ns=t)

        return set

    @_wraps(cls, "clear")
    def clear(original: Callable[..., None]) -> Callable[..., None]:
        def clear(self: Any) -> None:
            t = now_ns()
            original(self)
            if _ours(self):
                say("event.clear", _ours(self), t_ns=t)

        return clear

    @_wraps(cls, "wait")
    def wait(original: Callable[..., bool]) -> Callable[..., bool]:
        def wait(self: Any, timeout: float | None = None) -> bool:
            prim = _ours(self)
            if not prim:
                return original(self, timeout)
            if self.is_set():
                say("event.woke", prim, {"waited": False})
                return True
            say("event.wait", prim, timed(None, timeout))
            if original(self, timeout):
                say("event.woke", prim, {"waited": True})
                return True
            say("event.timeout", prim)
            return False

        return wait


def _barrier() -> None:
    cls = threading.Barrier
    _mark_init(cls, "barrier", lambda barrier: {"parties": barrier.parties})

    @_wraps(cls, "wait")
    def wait(original: Callable[..., int]) -> Callable[..., int]:
        def wait(self: Any, timeout: float | None = None) -> int:
            prim = _ours(self)
            if not prim:
                return original(self, timeout)
            waits = {"n_waiting": self.n_waiting + 1, "parties": self.parties}
            say("barrier.wait", prim, timed(waits, self._timeout if timeout is None else timeout))
            try:
                index = original(self, timeout)
            except threading.BrokenBarrierError:
                say("barrier.broken", prim)
                raise
            say("barrier.pass", prim, {"index": index})
            return index

        return wait

    for name in ("abort", "reset"):

        def told(original: Callable[..., None], kind: str = f"barrier.{name}") -> Callable[..., None]:
            def tell(self: Any) -> None:
                t = now_ns()
                original(self)
                if _ours(self):
                    say(kind, _ours(self), t_ns=t)

            return tell

        _wraps(cls, name)(told)


def _queue() -> None:
    import queue

    from mpviz.sync.base import item_text

    cls = queue.Queue
    _mark_init(cls, "queue", lambda q: {"maxsize": q.maxsize, "joinable": True, "simple": False})

    @_wraps(cls, "put")
    def put(original: Callable[..., None]) -> Callable[..., None]:
        def put(self: Any, item: Any, block: bool = True, timeout: float | None = None) -> None:
            prim = _ours(self)
            if not prim:
                original(self, item, block, timeout)
                return
            t = now_ns()
            try:
                original(self, item, False)
            except queue.Full:
                if not block:
                    raise
                say("queue.put_blocked", prim, timed({"item": item_text(item)}, timeout))
                try:
                    t = now_ns()
                    original(self, item, True, timeout)
                except queue.Full:
                    say("queue.timeout", prim, {"op": "put"})
                    raise
            say("queue.put", prim, {"item": item_text(item), "none": item is None}, t_ns=t)

        return put

    @_wraps(cls, "get")
    def get(original: Callable[..., Any]) -> Callable[..., Any]:
        def get(self: Any, block: bool = True, timeout: float | None = None) -> Any:
            prim = _ours(self)
            if not prim:
                return original(self, block, timeout)
            try:
                item = original(self, False)
            except queue.Empty:
                if not block:
                    raise
                say("queue.get_blocked", prim, timed(None, timeout))
                try:
                    item = original(self, True, timeout)
                except queue.Empty:
                    say("queue.timeout", prim, {"op": "get"})
                    raise
            say("queue.get", prim, {"item": item_text(item), "none": item is None})
            return item

        return get

    @_wraps(cls, "join")
    def join(original: Callable[..., None]) -> Callable[..., None]:
        def join(self: Any) -> None:
            prim = _ours(self)
            if prim:
                say("queue.join_wait", prim)
            original(self)
            if prim:
                say("queue.joined", prim)

        return join


def _thread_join() -> None:
    @_wraps(threading.Thread, "join")
    def join(original: Callable[..., None]) -> Callable[..., None]:
        def join(self: threading.Thread, timeout: float | None = None) -> None:
            waits = timeout != 0 and self.is_alive() and _by_the_program() and not self.name.startswith("mpviz-")
            if waits:
                joins = {"child": self.native_id or 0, "thread": self.name}
                say("proc.join", self.name, timed(joins, timeout))
            original(self, timeout)
            if waits:
                say("proc.joined", self.name, {"child": self.native_id or 0, "ended": not self.is_alive()})

        return join


_done = False


def instrument_threading(first_calls: Iterable[CodeType] = ()) -> None:
    """From now on, in this process, the program's threading and queue primitives report (once).

    ``threading.Lock`` and ``RLock`` are mpviz.inject's factories, which call :func:`programs_lock`
    and :func:`programs_rlock`; it calls this at the first ``Condition``, ``Semaphore``, ``Event``
    or ``Barrier`` made, through ``first_calls``: frames passed over when looking for who made it."""
    global _done
    if _done:
        return
    _done = True
    _FIRST_CALLS.update(first_calls)
    _condition()
    _semaphore()
    _event()
    _barrier()
    when_imported("queue", _queue)  # (not before: most programs' processes never import it, ~1 ms)
    _thread_join()
