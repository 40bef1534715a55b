"""Scheduling points: in a scheduled run, every operation waits for the dashboard's leave before it happens.

``mpviz explore``, ``--step`` and ``--schedule`` make the dashboard the
scheduler.  Every operation mpviz.sync reports (acquire, release, put, get,
send, recv, set, wait, start, join, sleep …) first calls :func:`turn`: in a
scheduled run it sends a ``turn.ask`` record — the operation, its primitive,
its site and thread — and blocks until the dashboard answers.  So exactly one
process (or thread) runs the program's code between two points, and the run
is the sequence of the dashboard's choices.  The point comes *before* the
operation: the dashboard never lets go a process whose operation would block.

The answer is ``GO``; or ``EXPIRE`` for a wait with a timeout that would
block: it times out at once (a scheduled run has no time to wait in); or
``BLOCKS``: go on into a wait that blocks for real (a condition's wait, a
barrier before the last one comes, or anything once nobody at all can move),
after which the operation takes a point again (:func:`resume`), so that no
woken process runs the program's code beside the one the dashboard chose.  A
sleep is a point and takes no time (:func:`asleep`).

What a queue's feeder thread still has to write is written before the next
point (:func:`feeding`): the dashboard counts an item put as there for the
next get, and it must be.  Outside a scheduled run :func:`turn` is one
global lookup.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, MutableSet
from multiprocessing import process

from mpviz.sync.sites import MPVIZ_THREADS, stamped
from mpviz.telemetry import Event
from mpviz.telemetry.framing import BLOCKS, EXPIRE, GO

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["BLOCKS", "EXPIRE", "GO", "asleep", "feeding", "install", "resume", "scheduled", "turn", "uninstall"]

# The thread of a lesson's main part, in the dashboard: the one mpviz thread that takes turns.
MAIN_PART = "mpviz-main"

Taker = Callable[[Event], bytes]
_taker: Taker | None = None
# A scheduled run (read as ``turns.on`` on a hot path: cheaper than a call, and than building the question).
on = False

# Queues this process put into whose feeder may still hold an item (see feeding()).
_feeding: set[Any] = set()
# How long a point waits for a feeder (a pipe nobody reads can stop one for good).
FEED_WAIT_S = 2.0
_pause = time.sleep  # (kept: a watched program's time.sleep is a point itself)


def install(taker: Taker) -> None:
    """From now on every operation of this process asks ``taker`` first (a scheduled run)."""
    global _taker, on
    _taker, on = taker, True


def uninstall() -> None:
    global _taker, on
    _taker, on = None, False
    _feeding.clear()


def scheduled() -> bool:
    return _taker is not None


def turn(op: str, obj: str = "", data: dict[str, Any] | None = None) -> bytes:
    """A scheduling point before ``op`` on ``obj`` (data: what the scheduler must know: ``block``,
    ``timeout``, a pipe's ``end``, a join's ``child``); the answer: GO, EXPIRE or BLOCKS."""
    if _taker is None:
        return GO
    return _ask(op, obj, data)


def asleep(seconds: float) -> bool:
    """A sleep in a scheduled run: a point, and no time.  True when it was taken so (do not sleep)."""
    if _taker is None:
        return False
    _ask("proc.sleep", "", {"s": float(seconds)})
    return True


def resume(answer: bytes, obj: str, after: str) -> None:
    """After the wait of an operation told it ``BLOCKS`` (``after``: what ended it): a point before the
    program goes on."""
    if answer == BLOCKS and _taker is not None:
        _ask("resume", obj, {"after": after})


def feeding(queue: Any) -> None:
    """``queue``'s feeder thread has an item to write: written before this process's next point."""
    if _taker is not None:
        _feeding.add(queue)


def _ask(op: str, obj: str, data: dict[str, Any] | None) -> bytes:
    taker = _taker
    thread = threading.current_thread()
    if taker is None or (thread.name.startswith(MPVIZ_THREADS) and thread.name != MAIN_PART):
        return GO  # mpviz's own threads (a key's action) are not the program's: they never wait
    if _feeding:
        _settle()
    if type(process._children) is set:  # type: ignore[attr-defined]  # (a child's bootstrap makes a new one)
        process._children = _StartOrder(process._children)  # type: ignore[attr-defined]
    facts = {"op": op}
    if data:
        facts.update(data)
    return taker(stamped("turn.ask", obj, facts))


def _settle() -> None:
    """Wait until the feeder of every queue put into has written what it was given.

    multiprocessing's feeder pops an item, pickles it, writes it, and waits on
    the queue's condition again only once its buffer is empty: waiting there
    with nothing in the buffer means all it was given is in the pipe."""
    deadline = time.monotonic() + FEED_WAIT_S
    for queue in list(_feeding):
        while time.monotonic() < deadline:
            notempty, thread = getattr(queue, "_notempty", None), getattr(queue, "_thread", None)
            if notempty is None or thread is None or not thread.is_alive():
                break
            with notempty:
                if not queue._buffer and notempty._waiters:
                    break
            _pause(0.0001)
    _feeding.clear()


class _StartOrder(MutableSet[object]):
    """multiprocessing's set of a process's children, in the order they started.

    At its end a process joins its children in the set's order, which for a
    plain set is their objects' addresses: a scheduled run's joins would come
    in a different order at each run."""

    def __init__(self, items: Any = ()) -> None:
        self._items = dict.fromkeys(items)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: Any) -> None:
        self._items[item] = None

    def discard(self, item: Any) -> None:
        self._items.pop(item, None)
