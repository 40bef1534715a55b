"""concurrent.futures' ProcessPoolExecutor: its tasks and results reported, and the waits for them.

Instrumented where a program loads ``concurrent.futures`` (see
:func:`mpviz.sync.context.instrument_multiprocessing`), its classes and
functions staying multiprocessing's and the standard library's:

* an executor is a pool (``prim.new`` kind "pool", named after its variable);
  each ``submit`` (``map`` submits too) is a ``pool.task``, each future's end
  a ``pool.result`` (``{"ok"}``: not cancelled, no exception);
* a wait for a future that blocks — ``result()``, ``exception()``,
  ``wait()``, ``as_completed()`` — is said, with its line: ``pool.wait`` then
  ``pool.woke``;
* its workers say their wait for a task (:func:`mpviz.sync.pool.waiting_for_work`),
  so that a future nobody works on is seen as lost.

Its internal queues and threads say nothing.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterable, Iterator

from mpviz.sync.base import WORK_QUEUES, timed, unseen
from mpviz.sync.naming import announce, name_and_site
from mpviz.sync.sites import say
from mpviz.telemetry import emit, now_ns

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from typing import Any

_waits_done = False
_executor_done = False


def instrument_waits() -> None:
    """The waits for futures, once ``concurrent.futures`` is loaded (asyncio loads it too: this is cheap)."""
    global _waits_done
    if _waits_done:
        return
    _waits_done = True
    from concurrent.futures import _base

    futures = sys.modules["concurrent.futures"]
    _base.Future.result = _waiting(_base.Future.result)  # type: ignore[method-assign]
    _base.Future.exception = _waiting(_base.Future.exception)  # type: ignore[method-assign]
    _base.wait = futures.wait = _waiting_for_any(_base.wait)  # type: ignore[attr-defined]
    _base.as_completed = futures.as_completed = _completing(_base.as_completed)  # type: ignore[attr-defined]


def instrument_executor() -> None:
    """ProcessPoolExecutor, once ``concurrent.futures.process`` is loaded."""
    global _executor_done
    if _executor_done:
        return
    _executor_done = True
    from concurrent.futures import process

    executor = process.ProcessPoolExecutor
    executor.__init__ = _made(executor.__init__)  # type: ignore[method-assign]
    executor.submit = _submitting(executor.submit)  # type: ignore[method-assign]


def _made(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def call(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except BaseException as exc:
            unseen(exc)
            raise
        name, site = name_and_site("pool", None)
        self._mpviz_pool = announce("pool", name, site, processes=self._max_workers)
        WORK_QUEUES[self._call_queue] = self._mpviz_pool

    return call


def _submitting(submit: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(submit)
    def call(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        pool_id = getattr(self, "_mpviz_pool", "")
        t = now_ns()  # before: the result may come back before submit() returns
        try:
            future = submit(self, fn, *args, **kwargs)
        except BaseException as exc:
            unseen(exc)
            raise
        if pool_id:
            future._mpviz_pool = pool_id
            say("pool.task", pool_id, {"func": str(getattr(fn, "__qualname__", type(fn).__name__)), "n": 1}, t_ns=t)
            future.add_done_callback(_ended)
        return future

    return call


def _ended(future: Any) -> None:
    # In whichever thread ends it (the executor's own): said for the process, not for that thread.
    if future.cancelled():
        emit("pool.result", future._mpviz_pool, {"ok": False, "n": 1, "error": "cancelled"})
        return
    error = future.exception()
    facts = {"ok": True, "n": 1} if error is None else {"ok": False, "n": 1, "error": type(error).__name__}
    emit("pool.result", future._mpviz_pool, facts)


def _waiting(method: Callable[..., Any]) -> Callable[..., Any]:
    """A future's ``result`` or ``exception``: a wait that blocks is said."""

    @functools.wraps(method)
    def call(self: Any, timeout: float | None = None) -> Any:
        pool_id = getattr(self, "_mpviz_pool", "")
        blocks = bool(pool_id) and not self.done()
        if blocks:
            say("pool.wait", pool_id, timed(None, timeout))
        try:
            return method(self, timeout)
        except BaseException as exc:
            unseen(exc)
            raise
        finally:
            if blocks:
                say("pool.woke", pool_id, None if self.done() else {"gave_up": True})  # (its timeout)

    return call


def _pending_pool(futures: set[Any]) -> str:
    """The pool of a future still running, if every one is still running ("": one is done, no wait)."""
    if any(f.done() for f in futures):
        return ""
    return next((p for p in (getattr(f, "_mpviz_pool", "") for f in futures) if p), "")


def _waiting_for_any(wait: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(wait)
    def call(fs: Iterable[Any], timeout: float | None = None, return_when: str = "ALL_COMPLETED") -> Any:
        fs = list(fs)
        pending = [f for f in fs if not f.done()]
        # It blocks if a future is still running (all of them, unless it waits for them all).
        blocks = pending and (return_when == "ALL_COMPLETED" or len(pending) == len(fs))
        pool_id = next((p for p in (getattr(f, "_mpviz_pool", "") for f in pending) if p), "") if blocks else ""
        if pool_id:
            say("pool.wait", pool_id, timed(None, timeout))
        try:
            return wait(fs, timeout, return_when)
        except BaseException as exc:
            unseen(exc)
            raise
        finally:
            if pool_id:
                got = (
                    all(f.done() for f in pending) if return_when == "ALL_COMPLETED" else any(f.done() for f in pending)
                )
                say("pool.woke", pool_id, None if got else {"gave_up": True})  # (its timeout)

    return call


def _completing(as_completed: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    @functools.wraps(as_completed)
    def call(fs: Iterable[Any], timeout: float | None = None) -> Iterator[Any]:
        left = set(fs)
        them = as_completed(left, timeout)
        # The timeout is the whole iteration's: each wait for the next gets what is left of it.
        ends = time.monotonic() + timeout if isinstance(timeout, (int, float)) else None
        while left:
            pool_id = _pending_pool(left)  # every one left still running: the next one is waited for
            if pool_id:
                say("pool.wait", pool_id, timed(None, None if ends is None else ends - time.monotonic()))
            try:
                future = next(them)
            except StopIteration:
                return
            except BaseException as exc:
                unseen(exc)
                raise
            finally:
                if pool_id:
                    say("pool.woke", pool_id, None if any(f.done() for f in left) else {"gave_up": True})
            left.discard(future)
            yield future

    return call
