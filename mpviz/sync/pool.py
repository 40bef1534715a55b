"""Pool: multiprocessing's own; its workers are processes of the run, and tasks and results are reported.

Built on one of our contexts, its workers are our Process (role "pool"),
while its internal queues, which multiprocessing makes for itself, come
plain (see :mod:`mpviz.sync.context`).  The parent reports ``pool.task``
(``{"func", "n"}``: a task handed to the workers, ``n`` items for a map
chunk) and ``pool.result`` (``{"ok", "n"}``) as they pass the pool's own
pipes, and ``pool.wait`` (``{"timeout"}`` if it has one) / ``pool.woke``
(``{"gave_up"}`` if its timeout ended it) around a wait for results
(``get()``, ``wait()``, ``map()``, an ``imap`` iterator's next), and
``pitfall.callback`` when a callback of the program's raises (it ends the
pool's result-handler thread: no result comes back after it).  A worker
reports ``pool.wait_task`` / ``pool.got_task`` around its wait for a task
(:func:`waiting_for_work`): a task handed out that no worker works on is
lost; and ``pool.init_failed`` (``{"error", "func"}``, with the initializer's
line) when its initializer raised (:func:`initializer_failed`).  Which worker
runs which task is not reported.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable, Iterable
from multiprocessing import context, pool

from mpviz.sync.base import WORK_QUEUES, pass_as_theirs, timed, unseen
from mpviz.sync.naming import announce, name_and_site, new_id
from mpviz.sync.sites import say, site_at
from mpviz.telemetry import emit, now_ns

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from typing import Any


class _Traffic:
    """Reports what passes the pool's pipes.  Holds no reference to the pool: its handler
    threads keep this alive, and a pool must stay collectable while they run."""

    id = ""

    def __init__(self) -> None:
        # Items in each task handed out and not yet back, by (job, index): a
        # result says how many items it brings.  (One thread adds, another
        # pops: single dict operations, atomic.)
        self._items: dict[tuple[int, int], int] = {}

    def sending(self, send: Callable[[Any], None]) -> Callable[[Any], None]:
        def put(task: Any) -> None:
            if task is None:  # a worker is told to stop
                send(task)
                return
            facts = _task_facts(task)
            self._items[task[0], task[1]] = facts["n"]
            t = now_ns()
            try:
                send(task)
            except BaseException as exc:  # (a task that cannot be pickled: the program sees it without us)
                if isinstance(exc, pickle.PicklingError | AttributeError | TypeError):
                    error = f"{type(exc).__name__}: {exc}"
                    emit("pitfall.pickle", facts["func"], {"error": error, "pool": self.id})
                unseen(exc)
                raise
            # Said for the process, not for the pool's task handler thread that sends it: that
            # thread is multiprocessing's, handing out what the program gave, never a thread of
            # the program's that could wait or hold (a hang's "every thread waits" counts it not).
            emit("pool.task", self.id, facts, t_ns=t)

        return put

    def receiving(self, recv: Callable[[], Any]) -> Callable[[], Any]:
        def get() -> Any:
            result = recv()
            if result is not None:
                job, i, (ok, value) = result
                facts: dict[str, object] = {"ok": bool(ok), "n": self._items.pop((job, i), 1)}
                if not ok:
                    facts["error"] = type(value).__name__
                emit("pool.result", self.id, facts)
            return result

        return get


_NO_KWDS: dict[str, Any] = {}  # (multiprocessing's default: never changed)


def _told(pool_id: str, callback: Callable[[Any], object] | None) -> Callable[[Any], object] | None:
    """A program's callback, whose exception is said (``pitfall.callback``) before it goes on as it would."""
    if callback is None:
        return None

    def call(value: Any) -> object:
        try:
            return callback(value)
        except BaseException as exc:
            code = getattr(callback, "__code__", None)
            facts = {"error": type(exc).__name__, "func": str(getattr(callback, "__qualname__", "a callback"))}
            if code is not None:
                facts["at"] = site_at(code, code.co_firstlineno)
            # (Said for the process: the thread is multiprocessing's, and it ends with this.)
            emit("pitfall.callback", pool_id, facts)
            unseen(exc)  # (its traceback as the program's own, without this frame)
            raise

    return call


def _task_facts(task: tuple[Any, ...]) -> dict[str, Any]:
    _job, _i, func, args, _kwds = task
    n = 1
    if func in (pool.mapstar, pool.starmapstar):  # type: ignore[attr-defined]  # args: ((func, chunk),)
        func, chunk = args[0]
        n = len(chunk)
    return {"func": str(getattr(func, "__qualname__", None) or type(func).__name__), "n": n}


class Pool(pool.Pool):
    """``multiprocessing.Pool``."""

    # multiprocessing's
    _processes: int
    _cache: dict[int, Any]  # jobs whose results have not come back
    _quick_put: Callable[[Any], None]
    _quick_get: Callable[[], Any]

    def __init__(
        self,
        processes: int | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: Iterable[Any] = (),
        maxtasksperchild: int | None = None,
        context: Any = None,
        *,
        name: str | None = None,
    ) -> None:
        if context is None:
            from mpviz.sync.context import default_context  # not at import: that module imports this one

            context = default_context.get_context()
        self.name, self._site = name_and_site("pool", name)
        self._traffic = _Traffic()
        # Its id before its workers start: they are told which pool they work for.
        self.id = self._traffic.id = new_id()
        self._said = False
        super().__init__(processes, initializer, initargs, maxtasksperchild, context)

    def _repopulate_pool(self) -> None:
        if not self._said:  # once multiprocessing has checked its arguments, before its first worker starts
            self._said = True
            announce("pool", self.name, self._site, self.id, processes=self._processes)
        super()._repopulate_pool()  # type: ignore[misc]  # multiprocessing's, missing from typeshed

    def _setup_queues(self) -> None:
        super()._setup_queues()  # type: ignore[misc]  # multiprocessing's, missing from typeshed
        self._quick_put = self._traffic.sending(self._quick_put)
        self._quick_get = self._traffic.receiving(self._quick_get)
        WORK_QUEUES[self._inqueue] = self.id  # type: ignore[attr-defined]  # multiprocessing's

    # A callback runs in the pool's result-handler thread: one that raises ends that thread, and
    # no result of the pool comes back after it (multiprocessing says nothing but a traceback).
    def apply_async(
        self,
        func: Callable[..., Any],
        args: Iterable[Any] = (),
        kwds: Any = _NO_KWDS,
        callback: Callable[[Any], object] | None = None,
        error_callback: Callable[[BaseException], object] | None = None,
    ) -> Any:
        told = _told(self.id, callback), _told(self.id, error_callback)
        return super().apply_async(func, args, kwds, *told)

    def _map_async(
        self,
        func: Callable[..., Any],
        iterable: Iterable[Any],
        mapper: Callable[..., Any],
        chunksize: int | None = None,
        callback: Callable[[Any], object] | None = None,
        error_callback: Callable[[BaseException], object] | None = None,
    ) -> Any:  # (map_async's and starmap_async's)
        told = _told(self.id, callback), _told(self.id, error_callback)
        return super()._map_async(func, iterable, mapper, chunksize, *told)  # type: ignore[misc]  # multiprocessing's

    def terminate(self) -> None:
        # Jobs whose results have not come back are lost with the pool (a ``with Pool()`` block's end).
        say("pool.terminate", self.id, {"outstanding": len(self._cache)})
        super().terminate()


# What a program gets passes for multiprocessing's own (see base.pass_as_theirs).
pass_as_theirs(Pool)


def waiting_for_work(pool_id: str, get: Callable[..., Any]) -> Callable[..., Any]:
    """A pool worker's ``get`` of its next task, said: waiting for work is not being stuck."""

    # Said without a site: a forked worker's stack goes on into its parent's, whose line is not its own.
    def next_task(*args: Any, **kwargs: Any) -> Any:
        emit("pool.wait_task", pool_id)
        try:
            return get(*args, **kwargs)
        finally:
            emit("pool.got_task", pool_id)

    return next_task


def initializer_failed(pool_id: str, target: object, args: tuple[Any, ...], exc: BaseException, error: str) -> None:
    """A worker of a multiprocessing pool whose initializer raised: said (``pool.init_failed``,
    with the initializer's line) when the exception came out of the initializer itself.  The
    worker dies before its first task, and the pool starts another in its place, which runs the
    same initializer: a pool whose every initializer fails never does a task."""
    if target is not pool.worker or len(args) < 3 or args[2] is None:  # type: ignore[attr-defined]
        return  # (an executor's worker catches its initializer's error: the executor breaks, and says so)
    init = args[2]  # worker(inqueue, outqueue, initializer, initargs, …)
    while isinstance(init, functools.partial):
        init = init.func
    code = getattr(init, "__code__", None)
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next
    if code is None or tb is None:
        return  # not raised in the initializer's own frame (or one mpviz cannot tell)
    func = str(getattr(init, "__qualname__", None) or type(init).__name__)
    at = site_at(code, tb.tb_lineno or code.co_firstlineno)
    emit("pool.init_failed", pool_id, {"error": error, "func": func, "at": at})


def _waiting(wait: Callable[..., Any]) -> Callable[..., Any]:
    """A wait for a pool's results (multiprocessing's), said when it blocks, with its line."""

    @functools.wraps(wait)
    def call(self: Any, timeout: float | None = None) -> Any:
        pool_id = getattr(getattr(self, "_pool", None), "id", "")
        if not pool_id or _ready(self):
            return wait(self, timeout)
        say("pool.wait", pool_id, timed(None, timeout))
        gave_up = failed = False
        try:
            got = wait(self, timeout)
            # (A result's wait() returns at its timeout, not ready; an imap's next() raises.)
            if isinstance(self, pool.ApplyResult):
                gave_up = timeout is not None and not self.ready()
                failed = self.ready() and not self.successful()  # get() raises the task's error
            return got
        except BaseException as exc:
            gave_up = isinstance(exc, TimeoutError | context.TimeoutError)
            failed = not gave_up
            unseen(exc)
            raise
        finally:
            say("pool.woke", pool_id, {"gave_up": True} if gave_up else {"failed": True} if failed else None)

    return call


def _ready(result: Any) -> bool:
    """A result already there (an imap iterator: its next item)."""
    if isinstance(result, pool.IMapIterator):  # multiprocessing's own fields
        return bool(result._items) or result._index == result._length  # type: ignore[attr-defined]
    return bool(result.ready())


# Waits for results of any pool, ours said (a pool of multiprocessing's own has no id: left as it is).
pool.ApplyResult.wait = _waiting(pool.ApplyResult.wait)  # type: ignore[method-assign]
pool.IMapIterator.next = _waiting(pool.IMapIterator.next)  # type: ignore[method-assign]
pool.IMapIterator.__next__ = pool.IMapIterator.next  # type: ignore[method-assign]
