"""What every instrumented primitive shares: the plain contexts its helpers come from, and items in words."""

from __future__ import annotations

import copyreg
import functools
import importlib
import importlib.machinery
import os
import reprlib
import select
import sys
import weakref
from collections.abc import Callable
from multiprocessing import context
from types import FunctionType, TracebackType

from mpviz.telemetry import MAX_TEXT

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

# multiprocessing's contexts, our own instances: the locks inside an Event, a
# Queue or a Pool come from these, so they say nothing.  (Instances of our
# own, so that code which swaps the factories of multiprocessing's shared
# context objects cannot make them ours.)
PLAIN: dict[str, context.BaseContext] = {
    "fork": context.ForkContext(),
    "spawn": context.SpawnContext(),
    "forkserver": context.ForkServerContext(),
}


def plain(ctx: Any) -> context.BaseContext:
    """multiprocessing's own context for the start method of ``ctx`` (ours or theirs; None: the default)."""
    if ctx is None:
        ctx = context._default_context.get_context()
    return PLAIN[ctx.get_start_method()]


# The queue a pool's workers take their tasks from (a Pool's, a ProcessPoolExecutor's) →
# the pool's id: a worker started with it as its first argument works for that pool.
WORK_QUEUES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def works_for(first_argument: object) -> str:
    """The id of the pool whose queue of tasks a process is started with ("": none)."""
    try:
        return WORK_QUEUES.get(first_argument, "")
    except TypeError:  # unhashable, or no weak reference to it: not a pool's queue
        return ""


# Seconds a blocking get or recv waits before it reports itself blocked: an
# item just put may still be in the putter's feeder thread.
GLANCE = 0.005

# The longest timeout a wait's record tells (a million seconds, eleven days): a longer one, or
# one that is not a number, is said as none, a wait with no end of its own.
LONGEST_TIMEOUT = 1e6


def timed(facts: dict[str, Any] | None, timeout: Any) -> dict[str, Any] | None:
    """A wait's facts, with its timeout in seconds when it has one (``None``: it has not).

    The dashboard must know that a wait ends by itself: all processes blocked is no hang while
    one of them waits with a timeout.  (A negative timeout is multiprocessing's 0.)"""
    if not isinstance(timeout, (int, float)) or not timeout <= LONGEST_TIMEOUT:
        return facts  # None, a NaN, too long, or not a number (the wait's own call will say so)
    return {**(facts or {}), "timeout": max(0.0, float(timeout))}


def readable(fd: int, seconds: float) -> bool:
    """Is there something to read on ``fd``, now or within ``seconds``?

    A bare ``poll``: multiprocessing's own ``Connection.poll`` builds a
    selector at every call, which costs more than a get or a recv itself.  Its
    poll object is kept, by descriptor number (poll takes numbers at each call:
    one kept is right for whatever file has that number now, and after a fork)."""
    poller = _pollers.get(fd)
    if poller is None:
        poller = _pollers[fd] = select.poll()
        poller.register(fd, select.POLLIN)
    try:
        return bool(poller.poll(seconds * 1000))
    except RuntimeError:  # another thread polls with it now ("concurrent poll() invocation"): one of its own
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(seconds * 1000))


_pollers: dict[int, select.poll] = {}


_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = MAX_TEXT
_repr.maxlong = 40
_LONG = 10**38  # an integer shorter than this has a repr shorter than maxlong: reprlib leaves it whole


def item_text(item: object) -> str:
    """A bounded, printable form of an item, cheap for big ones.

    It never raises: a preview is mpviz's, and must never change what the
    program does.  One that cannot be made (an integer of 5000 digits has no
    text; a ``__repr__`` of the program's may raise anything) is a placeholder."""
    try:
        if type(item) is int and -_LONG < item < _LONG:  # (the most frequent item: reprlib's answer, without it)
            return repr(item)
        if isinstance(item, str):
            return item if len(item) <= MAX_TEXT else item[: MAX_TEXT - 1] + "…"
        if isinstance(item, (bytes, bytearray)) and len(item) > MAX_TEXT:
            # reprlib would build the whole repr first: megabytes for a big message.
            return repr(item[:MAX_TEXT])[: MAX_TEXT - 1] + "…"
        return _repr.repr(item)
    except Exception:
        return f"<{type(item).__name__}: no preview>"


# What a program calls through mpviz, and its frames: never shown in a traceback of the program's.
_OURS = tuple(
    os.path.join(os.path.dirname(os.path.dirname(__file__)), part)
    for part in ("sync" + os.sep, "inject.py", "telemetry" + os.sep)
)


def unseen(exc: BaseException) -> BaseException:
    """``exc`` with mpviz's own frames taken out of its traceback; re-raised with a bare ``raise``
    in an ``except`` of ours, its traceback is the one the program would see without mpviz.

    (A re-raise adds no entry for the frame it happens in; the entries of the
    frames it passed through are unlinked here.)"""
    kept: TracebackType | None = None
    first: TracebackType | None = None
    tb = exc.__traceback__
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_OURS):
            if kept is None:
                first = tb
            else:
                kept.tb_next = tb
            kept = tb
        tb = tb.tb_next
    if kept is not None:
        kept.tb_next = None
    exc.__traceback__ = first
    return exc


def hidden(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, whose exceptions reach the program without mpviz's frames (see :func:`unseen`)."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except BaseException as exc:
            unseen(exc)
            raise

    return call


def hides_itself(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a method that takes mpviz's frames out of its exceptions itself (``except BaseException as
    exc: unseen(exc); raise``): :func:`pass_as_theirs` leaves it unwrapped.  For the hot path (a lock's
    acquire and release): the wrapper is one more Python call on every operation."""
    function.__dict__["_hides_itself"] = True
    return function


# Our classes that pass for multiprocessing's, each by where it really is ("module:name").
_PASSING: dict[type, str] = {}


def pass_as_theirs(*classes: type) -> None:
    """Each of ``classes`` passes for the multiprocessing class it extends.

    Its name, qualified name and module become that class's, so that what a
    program prints of it (its repr, ``type(x)``, ``__module__``) is what it
    prints without mpviz; ``isinstance`` against multiprocessing's class
    holds anyway.  Its instances still pickle as ours (by where the class
    really is, through copyreg's table), and the methods it and our classes
    under it define, when they fail, raise without mpviz's frames.
    """
    for cls in classes:
        theirs = next(c for c in cls.__mro__[1:] if c not in _PASSING and not c.__module__.startswith("mpviz."))
        _PASSING[cls] = where = f"{cls.__module__}:{cls.__name__}"
        for ours in cls.__mro__:
            if ours in _PASSING or ours.__module__.startswith("mpviz."):
                _hide_methods(ours)
        cls.__module__, cls.__qualname__, cls.__name__ = theirs.__module__, theirs.__qualname__, theirs.__name__
        copyreg.pickle(cls, hidden(functools.partial(_reduce, where)))


_HIDING: set[type] = set()


def _hide_methods(cls: type) -> None:
    """Wrap, once, what a program calls on ``cls``: its public methods and its special ones."""
    if cls in _HIDING:
        return
    _HIDING.add(cls)
    for name, value in list(vars(cls).items()):
        public = not name.startswith("_") or (name.startswith("__") and name.endswith("__"))
        if public and isinstance(value, FunctionType) and not value.__dict__.get("_hides_itself"):
            setattr(cls, name, hidden(value))


def _reduce(where: str, obj: Any) -> Any:
    """How an instance of a class passing for multiprocessing's pickles: as ours, made anew by :func:`_rebuild`."""
    reduced = obj.__reduce_ex__(2)
    if isinstance(reduced, tuple) and reduced[0] is copyreg.__newobj__:  # type: ignore[attr-defined]
        return (_rebuild, (where, *reduced[1][1:]), *reduced[2:])
    return reduced


def _rebuild(where: str, *args: Any) -> Any:
    module, _, name = where.partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls.__new__(cls, *args)


def when_imported(module: str, then: Callable[[], None]) -> None:
    """Call ``then`` once ``module`` is imported: now if it is, else right after it loads."""
    if module in sys.modules:
        then()
    else:
        sys.meta_path.insert(0, _WhenImported(module, then))


class _WhenImported:
    """A finder first on ``sys.meta_path`` that lets one module load as usual, then calls a function."""

    def __init__(self, module: str, then: Callable[[], None]) -> None:
        self.module = module
        self.then = then

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != self.module:
            return None
        sys.meta_path.remove(self)  # once is enough; the import goes on without us
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            load(module)
            self.then()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec
