"""Pool: multiprocessing's own; its workers are processes of the run, and tasks and results are reported.

Built on one of our contexts, its workers are our Process (role "pool"),
while its internal queues, which multiprocessing makes for itself, come
plain (see :mod:`mpviz.sync.context`).  The parent reports ``pool.task``
(``{"func", "n"}``: a task handed to the workers, ``n`` items for a map
chunk) and ``pool.result`` (``{"ok", "n"}``) as they pass the pool's own pipes.
Which worker runs which task is not reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from multiprocessing import pool
from typing import Any

from mpviz.sync.naming import announce, name_and_site
from mpviz.sync.sites import say
from mpviz.telemetry import emit, now_ns


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
            send(task)
            say("pool.task", self.id, facts, t_ns=t)

        return put

    def receiving(self, recv: Callable[[], Any]) -> Callable[[], Any]:
        def get() -> Any:
            result = recv()
            if result is not None:
                job, i, (ok, _value) = result
                emit("pool.result", self.id, {"ok": bool(ok), "n": self._items.pop((job, i), 1)})
            return result

        return get


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
        name, site = name_and_site("pool", name)
        self._traffic = _Traffic()
        super().__init__(processes, initializer, initargs, maxtasksperchild, context)
        self.id = self._traffic.id = announce("pool", name, site, processes=self._processes)
        self.name = name

    def _setup_queues(self) -> None:
        super()._setup_queues()  # type: ignore[misc]  # multiprocessing's, missing from typeshed
        self._quick_put = self._traffic.sending(self._quick_put)
        self._quick_get = self._traffic.receiving(self._quick_get)

    def terminate(self) -> None:
        # Jobs whose results have not come back are lost with the pool (a ``with Pool()`` block's end).
        say("pool.terminate", self.id, {"outstanding": len(self._cache)})
        super().terminate()
