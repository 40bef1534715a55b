"""Queue, JoinableQueue and SimpleQueue: multiprocessing's own, reporting every put and get.

Each put and get carries a short form of the item, and a put that finds the
queue full or a get that finds it empty reports itself blocked, so the
dashboard knows the depth and who is stuck without ever calling ``qsize()``.
The queues' internal locks and semaphores come from the plain context.
"""

from __future__ import annotations

import queue
import time
from multiprocessing import queues

from mpviz.sync import turns
from mpviz.sync.base import GLANCE, hides_itself, item_text, pass_as_theirs, plain, readable, timed, unseen
from mpviz.sync.naming import new_prim
from mpviz.sync.sites import say
from mpviz.sync.turns import EXPIRE, GO, feeding, resume, turn
from mpviz.telemetry import now_ns, record
from mpviz.telemetry.ring_straight import hot_kind

_clock = time.monotonic_ns  # (telemetry.now_ns's, without its Python call: this is the hot path)

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from typing import Any


def _item(obj: object) -> dict[str, Any]:
    return {"item": item_text(obj), "none": obj is None}


# A put's and a get's kinds as a ring's HOT entry has them: said straight into the ring (RingWriter.item:
# ~1 µs) once it knows the site and the thread, else the long way (say: ~3 µs), which tells it for next
# time.  Half a plain round trip's time otherwise, and taken from the feeder thread, which waits for the
# interpreter meanwhile: it is not asleep yet after writing the item, and a record after a get keeps it
# waiting, then sleeping, ~2.4 context switches a round trip more (bench: sync_queue_switches).
_PUT, _GET = hot_kind("queue.put"), hot_kind("queue.get")


class _Named:
    """A queue that travels with its id and name: multiprocessing's state, and ours beside it."""

    id: str
    name: str

    def __getstate__(self) -> Any:
        return (super().__getstate__(), self.id, self.name)

    def __setstate__(self, state: Any) -> None:
        theirs, self.id, self.name = state
        super().__setstate__(theirs)  # type: ignore[misc]  # multiprocessing's


class Queue(_Named, queues.Queue):
    """``multiprocessing.Queue``: FIFO between processes.

    ``put`` and ``get`` hide mpviz's frames themselves (no wrapper: they are on the hot path)."""

    _reader: Any  # multiprocessing's

    def __init__(self, maxsize: int = 0, *, ctx: Any = None, name: str | None = None) -> None:
        super().__init__(maxsize, ctx=plain(ctx))
        joinable = isinstance(self, queues.JoinableQueue)
        self.id, self.name = new_prim("queue", name, maxsize=maxsize, joinable=joinable, simple=False)

    @hides_itself
    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        try:
            answer = turn("queue.put", self.id, {"block": block, "timeout": timeout}) if turns.on else GO
            t = _clock()
            try:
                super().put(obj, False)
            except queue.Full:
                if not block:
                    raise
                if answer == EXPIRE:
                    timeout = 0  # a scheduled run: a put that would wait for its timeout is over at once
                say("queue.put_blocked", self.id, timed({"item": item_text(obj)}, timeout))
                try:
                    t = self._put_once_room(obj, timeout)
                except queue.Full:
                    say("queue.timeout", self.id, {"op": "put"})
                    resume(answer, self.id, "queue.timeout")
                    raise
            feeding(self)
            ring = record.ring
            if ring is None or not ring.item(_PUT, self.id, item_text(obj), obj is None, t):
                say("queue.put", self.id, _item(obj), t_ns=t, learn=True)
            resume(answer, self.id, "queue.put")
        except BaseException as exc:
            unseen(exc)
            raise

    def _put_once_room(self, obj: Any, timeout: float | None) -> int:
        """A put that found the queue full: it waits for room on multiprocessing's own semaphore, and
        returns when the room came (the put's time: the process waited until then, it did not run;
        and still before any get of the item).  The room is given back and taken at once by a put
        that cannot wait; another putter may take it meanwhile: then it waits again."""
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._sem.acquire(True, left):  # type: ignore[attr-defined]  # multiprocessing's
                raise queue.Full
            t = _clock()
            self._sem.release()  # type: ignore[attr-defined]
            try:
                super().put(obj, False)
            except queue.Full:
                continue
            return t

    @hides_itself
    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        try:
            answer = turn("queue.get", self.id, {"block": block, "timeout": timeout}) if turns.on else GO
            if answer == EXPIRE:
                timeout = 0  # a scheduled run: a get that would wait for its timeout is over at once
            if not block:
                obj = super().get(False)
            else:
                # An item just put may still be in the putter's feeder thread, so a
                # blocking get looks a moment before it calls itself blocked.
                glance = GLANCE if timeout is None else max(0.0, min(GLANCE, timeout))
                if readable(self._reader.fileno(), glance):
                    obj = super().get(True, timeout)
                else:
                    left = None if timeout is None else max(0.0, timeout - glance)
                    say("queue.get_blocked", self.id, timed(None, left))
                    try:
                        obj = super().get(True, left)
                    except queue.Empty:
                        say("queue.timeout", self.id, {"op": "get"})
                        resume(answer, self.id, "queue.timeout")
                        raise
            ring = record.ring
            if ring is None or not ring.item(_GET, self.id, item_text(obj), obj is None, _clock()):
                say("queue.get", self.id, _item(obj), learn=True)
            resume(answer, self.id, "queue.get")
            return obj
        except BaseException as exc:
            unseen(exc)
            raise


class JoinableQueue(Queue, queues.JoinableQueue):
    """``multiprocessing.JoinableQueue``: a Queue whose ``join`` waits until every item is marked done."""

    def task_done(self) -> None:
        turn("queue.task_done", self.id)
        t = now_ns()
        super().task_done()
        say("queue.task_done", self.id, t_ns=t)

    def join(self) -> None:
        answer = turn("queue.join", self.id)
        say("queue.join_wait", self.id)
        super().join()
        say("queue.joined", self.id)
        resume(answer, self.id, "queue.joined")


class SimpleQueue(_Named, queues.SimpleQueue):
    """``multiprocessing.SimpleQueue``: put and get, nothing else (and no feeder thread)."""

    _reader: Any  # multiprocessing's

    def __init__(self, *, ctx: Any = None, name: str | None = None) -> None:
        super().__init__(ctx=plain(ctx))
        self.id, self.name = new_prim("queue", name, maxsize=0, joinable=False, simple=True)

    @hides_itself
    def put(self, obj: Any) -> None:
        try:
            turn("queue.put", self.id)
            t = _clock()
            super().put(obj)
            ring = record.ring
            if ring is None or not ring.item(_PUT, self.id, item_text(obj), obj is None, t):
                say("queue.put", self.id, _item(obj), t_ns=t, learn=True)
        except BaseException as exc:
            unseen(exc)
            raise

    @hides_itself
    def get(self) -> Any:
        try:
            answer = turn("queue.get", self.id)
            if not readable(self._reader.fileno(), 0):
                say("queue.get_blocked", self.id)
            obj = super().get()
            ring = record.ring
            if ring is None or not ring.item(_GET, self.id, item_text(obj), obj is None, _clock()):
                say("queue.get", self.id, _item(obj), learn=True)
            resume(answer, self.id, "queue.get")
            return obj
        except BaseException as exc:
            unseen(exc)
            raise


# What a program gets passes for multiprocessing's own (see base.pass_as_theirs).
pass_as_theirs(Queue, JoinableQueue, SimpleQueue)
