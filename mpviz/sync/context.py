"""Contexts whose factories make our classes: ``get_context(method)`` and the default one.

multiprocessing's contexts are subclassed, so everything else they offer
(``RawValue``, ``cpu_count``, ``set_executable`` …) is theirs.  The default
context keeps no start method of its own: it reads and sets
multiprocessing's, so ``set_start_method`` here and there are one (a spawned
child inherits it from multiprocessing's preparation data).

Every factory takes a keyword-only ``name``.  When multiprocessing or
concurrent.futures asks one of our contexts for a primitive for its own use
(the locks inside a Queue, the pipes of a Pool or a ProcessPoolExecutor),
it gets multiprocessing's plain one: internals say nothing.  Processes are
always ours, whoever asks: a Pool's workers are processes of the run.
"""

from __future__ import annotations

from multiprocessing import context as mp_context

from mpviz.sync import process
from mpviz.sync.base import pass_as_theirs, plain, when_imported

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

# multiprocessing's default context, whose start method ours shares.
_MP_DEFAULT = mp_context._default_context


class _Factories(mp_context.BaseContext):
    def get_context(self, method: str | None = None) -> Any:
        if method is None:
            return self
        try:
            ctx = CONTEXTS[method]
        except KeyError:
            raise ValueError(f"cannot find context for {method!r}") from None
        ctx._check_available()
        return ctx

    def _internal(self) -> bool:
        """Is multiprocessing or concurrent.futures asking, for its own use?"""
        from mpviz.sync.naming import library_caller  # (here: see BaseProcess.__init__)

        return bool(library_caller())

    def Lock(self, *, name: str | None = None) -> Any:  # noqa: N802 - multiprocessing's names
        if self._internal():
            return plain(self).Lock()
        from mpviz.sync import locks  # here: a process pays for what it uses (see __init__)

        return locks.Lock(ctx=self.get_context(), name=name)

    def RLock(self, *, name: str | None = None) -> Any:  # noqa: N802
        if self._internal():
            return plain(self).RLock()
        from mpviz.sync import locks

        return locks.RLock(ctx=self.get_context(), name=name)

    def Condition(self, lock: Any = None, *, name: str | None = None) -> Any:  # noqa: N802
        if self._internal():
            return plain(self).Condition(lock)
        from mpviz.sync import events

        return events.Condition(lock, ctx=self.get_context(), name=name)

    def Semaphore(self, value: int = 1, *, name: str | None = None) -> Any:  # noqa: N802
        if self._internal():
            return plain(self).Semaphore(value)
        from mpviz.sync import locks

        return locks.Semaphore(value, ctx=self.get_context(), name=name)

    def BoundedSemaphore(self, value: int = 1, *, name: str | None = None) -> Any:  # noqa: N802
        if self._internal():
            return plain(self).BoundedSemaphore(value)
        from mpviz.sync import locks

        return locks.BoundedSemaphore(value, ctx=self.get_context(), name=name)

    def Event(self, *, name: str | None = None) -> Any:  # noqa: N802
        if self._internal():
            return plain(self).Event()
        from mpviz.sync import events

        return events.Event(ctx=self.get_context(), name=name)

    def Barrier(  # noqa: N802
        self, parties: int, action: Any = None, timeout: float | None = None, *, name: str | None = None
    ) -> Any:
        if self._internal():
            return plain(self).Barrier(parties, action, timeout)
        from mpviz.sync import events

        return events.Barrier(parties, action, timeout, ctx=self.get_context(), name=name)

    def Queue(self, maxsize: int = 0, *, name: str | None = None) -> Any:  # noqa: N802
        if self._internal():
            return plain(self).Queue(maxsize)
        from mpviz.sync import queues

        return queues.Queue(maxsize, ctx=self.get_context(), name=name)

    def JoinableQueue(self, maxsize: int = 0, *, name: str | None = None) -> Any:  # noqa: N802
        if self._internal():
            return plain(self).JoinableQueue(maxsize)
        from mpviz.sync import queues

        return queues.JoinableQueue(maxsize, ctx=self.get_context(), name=name)

    def SimpleQueue(self, *, name: str | None = None) -> Any:  # noqa: N802
        if self._internal():
            return plain(self).SimpleQueue()
        from mpviz.sync import queues

        return queues.SimpleQueue(ctx=self.get_context(), name=name)

    def Pipe(self, duplex: bool = True, *, name: str | None = None) -> Any:  # noqa: N802
        if self._internal():
            return plain(self).Pipe(duplex)
        from mpviz.sync import connection

        return connection.Pipe(duplex, name=name)

    def Value(self, typecode_or_type: Any, *args: Any, lock: Any = True, name: str | None = None) -> Any:  # noqa: N802
        if self._internal():
            return plain(self).Value(typecode_or_type, *args, lock=lock)
        from mpviz.sync import shared  # here: it imports ctypes, which most children never need

        return shared.Value(typecode_or_type, *args, lock=lock, ctx=self.get_context(), name=name)

    def Array(  # noqa: N802
        self, typecode_or_type: Any, size_or_initializer: Any, *, lock: Any = True, name: str | None = None
    ) -> Any:
        if self._internal():
            return plain(self).Array(typecode_or_type, size_or_initializer, lock=lock)
        from mpviz.sync import shared  # see Value

        return shared.Array(typecode_or_type, size_or_initializer, lock=lock, ctx=self.get_context(), name=name)

    def Pool(  # noqa: N802
        self,
        processes: int | None = None,
        initializer: Any = None,
        initargs: Any = (),
        maxtasksperchild: int | None = None,
        *,
        name: str | None = None,
    ) -> Any:
        from mpviz.sync import pool

        return pool.Pool(processes, initializer, initargs, maxtasksperchild, context=self.get_context(), name=name)

    def Manager(self, *, name: str | None = None) -> Any:  # noqa: N802
        from mpviz.sync import managers  # here: multiprocessing.managers alone costs a child ~7 ms

        return managers.start(self.get_context(), name)


class ForkContext(_Factories, mp_context.ForkContext):
    Process = process.ForkProcess


class SpawnContext(_Factories, mp_context.SpawnContext):
    Process = process.SpawnProcess


class ForkServerContext(_Factories, mp_context.ForkServerContext):
    Process = process.ForkServerProcess


CONTEXTS: dict[str, _Factories] = {
    "fork": ForkContext(),
    "spawn": SpawnContext(),
    "forkserver": ForkServerContext(),
}


class DefaultContext(_Factories, mp_context.DefaultContext):
    """The context behind ``mpviz.sync.Lock()`` & co.: multiprocessing's start method, our classes."""

    Process = process.Process

    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]  # its own default is never used: see get_context

    def get_context(self, method: str | None = None) -> Any:
        if method is None:
            return CONTEXTS[_MP_DEFAULT.get_context().get_start_method()]
        return super().get_context(method)

    def get_start_method(self, allow_none: bool = False) -> Any:
        return _MP_DEFAULT.get_start_method(allow_none)

    def set_start_method(self, method: str | None, force: bool = False) -> None:
        _MP_DEFAULT.set_start_method(method, force)

    def get_all_start_methods(self) -> list[str]:
        return _MP_DEFAULT.get_all_start_methods()


default_context = DefaultContext()

pass_as_theirs(ForkContext, SpawnContext, ForkServerContext, DefaultContext)
# ``multiprocessing.Lock`` is a method of the default context: named as multiprocessing names it.
for _name, _method in vars(_Factories).items():
    if not _name.startswith("_"):
        _method.__qualname__ = f"BaseContext.{_name}"


def instrument_multiprocessing() -> None:
    """From now on, in this process, ``multiprocessing`` itself gives mpviz's classes.

    For a watched program, before its first line: its public names
    (``from multiprocessing import Lock``, ``mp.Queue()``), ``get_context``
    for every start method, the default context, and what its pool and
    managers modules (and ``concurrent.futures``, which asks
    ``multiprocessing.get_context``) take their contexts from.
    """
    import multiprocessing
    import sys

    import mpviz.sync as ours

    mp_context._concrete_contexts.update(CONTEXTS)  # type: ignore[attr-defined]
    actual = getattr(_MP_DEFAULT, "_actual_context", None)
    if actual is not None:  # a start method already set: keep it, with our classes
        _MP_DEFAULT._actual_context = CONTEXTS[actual.get_start_method()]  # type: ignore[attr-defined]
    # As multiprocessing has them: its default context's methods (ours), and the Process class (ours).
    for name in multiprocessing.__all__:
        theirs = getattr(multiprocessing, name, None)
        if getattr(theirs, "__self__", None) is _MP_DEFAULT:
            setattr(multiprocessing, name, getattr(default_context, name))
    multiprocessing.Process = ours.Process  # type: ignore[misc]
    for module in ("multiprocessing.pool", "multiprocessing.managers"):
        loaded = sys.modules.get(module)
        if loaded is not None and hasattr(loaded, "get_context"):
            loaded.get_context = default_context.get_context  # type: ignore[attr-defined]
    # Managers, every one of them, and concurrent.futures' process pools and waits, once the
    # program loads them (not before: they cost every process several ms).
    when_imported("multiprocessing.managers", _instrument_managers)
    when_imported("concurrent.futures", _instrument_futures)
    when_imported("concurrent.futures.process", _instrument_executor)
    when_imported("multiprocessing.sharedctypes", _instrument_values)


def _instrument_values() -> None:
    from mpviz.sync import values

    values.instrument_values()


def _instrument_managers() -> None:
    from mpviz.sync import managers

    managers.instrument()


def _instrument_futures() -> None:
    from mpviz.sync import futures

    futures.instrument_waits()


def _instrument_executor() -> None:
    from mpviz.sync import futures

    futures.instrument_executor()
